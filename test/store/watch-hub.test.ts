/**
 * The watch hub on its own: a burst is delivered in time-bounded slices (other work runs between them), to
 * every watcher, in order and exactly once; a put's previous value is parsed only if read.
 */
import { describe, expect, it } from 'vitest';
import { type Change, sliceMs, WatchHub } from '../../master/store/watch-hub.js';
import type { WatchEvent } from '../../master/store/types.js';

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

describe('watch hub', () => {
  it('delivers a burst in slices of about sliceMs, in order and exactly once to each watcher', async () => {
    const hub = new WatchHub((err) => {
      throw err;
    });
    const seen: [number[], number[]] = [[], []];
    const turnsSeen = new Set<number>();
    let turn = 0;
    for (const k of [0, 1] as const) {
      hub.add('/', 0, [], (e) => {
        busy(0.2);
        seen[k].push(e.revision);
        turnsSeen.add(turn);
      });
    }
    for (let r = 1; r <= 200; r++) hub.publish({ revision: r, key: `/k${r}`, type: 'put', value: '1', prevValue: null });
    // 400 deliveries of 0.2 ms: at least 80 ms of callbacks, so several turns of sliceMs.
    while (seen[0].length < 200 || seen[1].length < 200) {
      turn++;
      await new Promise((r) => setImmediate(r));
    }
    const expected = Array.from({ length: 200 }, (_, i) => i + 1);
    expect(seen).toEqual([expected, expected]);
    expect(turnsSeen.size).toBeGreaterThanOrEqual(Math.floor(80 / sliceMs / 2));
  });

  it('ends a turn once its callbacks took sliceMs: no delivery starts after that in the same turn', async () => {
    const hub = new WatchHub((err) => {
      throw err;
    });
    // Per turn: when its first and its last delivery started (the hub checks the time after each delivery).
    const turns = new Map<number, { first: number; last: number; n: number }>();
    let turn = 0;
    let delivered = 0;
    // Callbacks of uneven cost (0.1–1.5 ms), as the informers' handlers are.
    hub.add('/', 0, [], (e) => {
      const now = performance.now();
      const t = turns.get(turn) ?? { first: now, last: now, n: 0 };
      t.last = now;
      t.n++;
      turns.set(turn, t);
      busy(e.revision % 10 === 0 ? 1.5 : 0.1);
      delivered++;
    });
    for (let r = 1; r <= 600; r++) hub.publish({ revision: r, key: `/k${r}`, type: 'put', value: '1', prevValue: null });
    while (delivered < 600) {
      turn++;
      await new Promise((r) => setImmediate(r));
    }
    expect(turns.size).toBeGreaterThan(1);
    for (const [n, t] of turns) expect(t.last - t.first, `turn ${n} (${t.n} deliveries)`).toBeLessThan(sliceMs);
  });

  it("parses a put's previous value only when the watcher reads it, and a spread copies it", async () => {
    let computed = 0;
    const hub = new WatchHub(() => {});
    const events: WatchEvent[] = [];
    hub.add('/', 0, [], (e) => events.push(e));
    const change: Change = { revision: 1, key: '/a', type: 'put', value: '{"v":2}', prevValue: () => (computed++, '{"v":1}') };
    hub.publish(change);
    hub.publish({ revision: 2, key: '/a', type: 'put', value: '{"v":3}', prevValue: '{"v":2}' });
    await new Promise((r) => setImmediate(r));
    expect(events).toHaveLength(2);
    expect(computed).toBe(0);
    expect({ ...events[0] }).toEqual({ type: 'put', key: '/a', value: { v: 2 }, prevValue: { v: 1 }, revision: 1 });
    expect(events[0]!.prevValue).toBe(events[0]!.prevValue); // parsed once per event
    expect(computed).toBe(1);
    events[0]!.prevValue = 'replaced';
    expect(events[0]!.prevValue).toBe('replaced');
  });
});
