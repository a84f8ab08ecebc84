/**
 * The watch hub on its own: a burst is delivered in time-bounded slices (other work runs between them), to
 * every watcher, in order and exactly once; a put's previous value is parsed only if read.
 */
import { describe, expect, it } from 'vitest';
import { behindMs, behindSliceMs, type Change, sliceMs, WatchHub } from '../../master/store/watch-hub.js';
import { iterationBudgetMs } from '../../master/loop-budget.js';
import { hurryDelivery } from '../../master/store/urgency.js';
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
    expect(turnsSeen.size).toBeGreaterThanOrEqual(Math.floor(80 / behindSliceMs / 2)); // slices of up to behindSliceMs once it is behind
  });

  it('ends a turn once its callbacks took its budget: no delivery starts after that in the same turn', async () => {
    const hub = new WatchHub((err) => {
      throw err;
    });
    // Per turn: when its first delivery started, and when the delivery before its last one ended. The hub reads the
    // clock after each delivery and goes on only while under budget, so that end is within budget of the first start
    // (measured at the ends, not at the next start: a process descheduled between the check and the next callback
    // must not look like an overrun).
    const turns = new Map<number, { first: number; end: number; beforeLast: number; n: number }>();
    let turn = 0;
    let delivered = 0;
    // Callbacks of uneven cost (0.1–1.5 ms), as the informers' handlers are.
    hub.add('/', 0, [], (e) => {
      const now = performance.now();
      const t = turns.get(turn) ?? { first: now, end: now, beforeLast: now, n: 0 };
      t.beforeLast = t.end;
      t.n++;
      turns.set(turn, t);
      busy(e.revision % 10 === 0 ? 1.5 : 0.1);
      t.end = performance.now();
      delivered++;
    });
    // ~50 ms of callbacks in all: turns of sliceMs (of behindSliceMs if the test is descheduled past behindMs; the
    // choice between them is the next test's).
    for (let r = 1; r <= 200; r++) hub.publish({ revision: r, key: `/k${r}`, type: 'put', value: '1', prevValue: null });
    while (delivered < 200) {
      turn++;
      await new Promise((r) => setImmediate(r));
    }
    expect(turns.size).toBeGreaterThan(1);
    for (const [n, t] of turns) expect(t.beforeLast - t.first, `turn ${n} (${t.n} deliveries)`).toBeLessThan(behindSliceMs);
  });

  it.each([
    { name: 'changes queued just now: turns of sliceMs', waitedMs: 0, budget: sliceMs },
    // Behind, a turn is longer, within what the iteration's shared budget allows a turn that starts a check phase.
    { name: 'changes that waited longer than behindMs: turns of behindSliceMs (within the loop budget)', waitedMs: behindMs + 20, budget: Math.min(behindSliceMs, iterationBudgetMs) },
    // A request waits for delivery (a consistent list): whole turns of behindSliceMs, past the loop budget.
    { name: 'a request waiting for delivery: turns of behindSliceMs', waitedMs: 0, hurried: true, budget: behindSliceMs },
  ])('$name', async ({ waitedMs, hurried, budget }) => {
    const done = hurried ? hurryDelivery() : () => {};
    const hub = new WatchHub((err) => {
      throw err;
    });
    // Per turn: when its first delivery started, when the one before its last ended, and when its last ended.
    const turns = new Map<number, { first: number; beforeLast: number; end: number }>();
    let turn = 0;
    let delivered = 0;
    hub.add('/', 0, [], () => {
      const now = performance.now();
      const before = turns.get(turn);
      const t = { first: before?.first ?? now, beforeLast: before?.end ?? now, end: now };
      turns.set(turn, t);
      busy(0.25);
      t.end = performance.now();
      delivered++;
    });
    for (let r = 1; r <= 200; r++) hub.publish({ revision: r, key: `/k${r}`, type: 'put', value: '1', prevValue: null });
    busy(waitedMs); // the loop held elsewhere before the hub's first turn
    await new Promise((r) => setImmediate(r));
    // The first turn (50 ms of work queued): it stopped once its budget was spent, and not before.
    const first = turns.get(0)!;
    expect(first.beforeLast - first.first).toBeLessThan(budget);
    expect(first.end - first.first).toBeGreaterThanOrEqual(budget - 0.5);
    while (delivered < 200) {
      turn++;
      await new Promise((r) => setImmediate(r));
    }
    done();
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
