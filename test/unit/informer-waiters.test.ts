/**
 * The informers' revision waiters (master/informer-waiters.ts), in memory: each waiter is released by the first
 * revision that reaches it — whatever order they began waiting in — and not before; a waiter that times out resolves
 * and leaves; a release that reaches no one looks at one waiter only.
 */
import { describe, expect, it, vi } from 'vitest';
import { RevisionWaiters } from '../../master/informer-waiters.js';

/** Starts waiters for `revisions` (in that order); `released` lists their indexes as they resolve. */
function waiting(w: RevisionWaiters, revisions: number[], timeoutMs = 60_000): number[] {
  const released: number[] = [];
  revisions.forEach((r, i) => void w.wait(r, timeoutMs).then(() => released.push(i)));
  return released;
}

const settle = () => new Promise((r) => setImmediate(r));

describe('revision waiters', () => {
  const cases: { name: string; waits: number[]; releases: number[]; released: number[][] }[] = [
    { name: 'in order', waits: [1, 2, 3], releases: [1, 2, 3], released: [[0], [0, 1], [0, 1, 2]] },
    { name: 'out of order', waits: [5, 2, 9, 2], releases: [1, 2, 6, 9], released: [[], [1, 3], [1, 3, 0], [1, 3, 0, 2]] },
    { name: 'a jump releases everyone below it, in revision order', waits: [3, 1, 2], releases: [10], released: [[1, 2, 0]] },
    { name: 'equal revisions in the order they began', waits: [4, 4, 4], releases: [3, 4], released: [[], [0, 1, 2]] },
    { name: 'a revision going back releases no one again', waits: [2, 8], releases: [5, 1, 7, 8], released: [[0], [0], [0], [0, 1]] },
  ];
  it.each(cases)('$name', async ({ waits, releases, released }) => {
    const w = new RevisionWaiters();
    const seen = waiting(w, waits);
    for (const [i, r] of releases.entries()) {
      w.release(r);
      await settle();
      expect(seen, `after release(${r})`).toEqual(released[i]);
    }
    expect(w.size).toBe(waits.length - released.at(-1)!.length);
  });

  it('a waiter that times out resolves and leaves; the others still wait for their revision', async () => {
    vi.useFakeTimers();
    try {
      const w = new RevisionWaiters();
      const seen: string[] = [];
      void w.wait(5, 100).then(() => seen.push('short'));
      void w.wait(3, 10_000).then(() => seen.push('long'));
      await vi.advanceTimersByTimeAsync(150);
      expect(seen).toEqual(['short']);
      expect(w.size).toBe(1);
      w.release(4);
      await vi.advanceTimersByTimeAsync(0);
      expect(seen).toEqual(['short', 'long']);
      expect(w.size).toBe(0);
      expect(vi.getTimerCount()).toBe(0); // a released waiter's timer is cleared
    } finally {
      vi.useRealTimers();
    }
  });

  it('a release that reaches no one reads only the first waiter', () => {
    const w = new RevisionWaiters();
    waiting(w, Array.from({ length: 10_000 }, (_, i) => 1000 + i));
    const queue = (w as unknown as { queue: { revision: number }[] }).queue;
    let reads = 0;
    const counted = new Proxy(queue, {
      get: (t, p, r) => {
        if (typeof p === 'string' && /^\d+$/.test(p)) reads++;
        return Reflect.get(t, p, r);
      },
    });
    (w as unknown as { queue: unknown }).queue = counted;
    for (let r = 0; r < 100; r++) w.release(r);
    expect(reads).toBe(100);
    expect(w.size).toBe(10_000);
  });
});
