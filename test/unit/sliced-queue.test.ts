/**
 * Bulk inbound work in time-bounded turns (master/broker/sliced-queue.ts) and the router's use of it
 * (master/router.ts): API requests and liveness are handled as they are read, pod reports and the other bulk
 * messages in turns; each node's order holds; past its bound a turn drains regardless of time.
 */
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../master/broker/acl.js';
import type { Inbound } from '../../master/broker/index.js';
import { SlicedQueue } from '../../master/broker/sliced-queue.js';
import { createRouter, type RouteTargets } from '../../master/router.js';
import { encode, silentLogger, topics, type Logger } from '../../protocol/index.js';

const settle = () => new Promise((r) => setImmediate(r));

/** A clock that advances 1 ms each time it is read after an item ran (the items "cost" 1 ms). */
function costClock() {
  let t = 0;
  return { now: () => t, tick: () => void t++ };
}

describe('SlicedQueue', () => {
  const cases: { name: string; items: number; sliceMs: number; maxWaiting: number; turns: number[] }[] = [
    { name: 'one turn when the work fits its time', items: 3, sliceMs: 10, maxWaiting: 100, turns: [3] },
    { name: 'turns of sliceMs each', items: 10, sliceMs: 4, maxWaiting: 100, turns: [4, 4, 2] },
    { name: 'an item longer than the slice still runs, one a turn', items: 3, sliceMs: 1, maxWaiting: 100, turns: [1, 1, 1] },
    { name: 'past maxWaiting a turn runs until the queue is back at the bound', items: 30, sliceMs: 2, maxWaiting: 20, turns: [10, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2] },
  ];
  for (const c of cases)
    it(c.name, async () => {
      const clock = costClock();
      const q = new SlicedQueue(silentLogger, c.sliceMs, c.maxWaiting, clock.now, (capMs) => capMs);
      const ran: number[] = [];
      for (let i = 0; i < c.items; i++) q.push(undefined, () => (ran.push(i), clock.tick()));
      const perTurn: number[] = [];
      while (q.length > 0 || perTurn.length === 0) {
        const before = ran.length;
        await settle();
        perTurn.push(ran.length - before);
      }
      expect(perTurn).toEqual(c.turns);
      expect(ran).toEqual([...Array(c.items).keys()]); // FIFO
      expect(q.turns).toBe(c.turns.length);
    });

  it('runInOrder runs at once unless work of its key waits, then behind it', async () => {
    const q = new SlicedQueue(silentLogger);
    const order: string[] = [];
    q.runInOrder('node/a', () => order.push('a1 now'));
    q.push('node/a', () => order.push('a2 queued'));
    q.runInOrder('node/a', () => order.push('a3 behind a2'));
    q.runInOrder('node/b', () => order.push('b1 now'));
    expect(order).toEqual(['a1 now', 'b1 now']);
    expect(q.pending('node/a')).toBe(true);
    // One turn or several (a turn's length is what the loop's shared budget leaves, ≥ 1 ms): the order is the point.
    while (q.length > 0) await settle();
    expect(order).toEqual(['a1 now', 'b1 now', 'a2 queued', 'a3 behind a2']);
    expect(q.pending('node/a')).toBe(false);
    q.runInOrder('node/a', () => order.push('a4 now'));
    expect(order.at(-1)).toBe('a4 now');
  });

  it('an item that throws is logged; the others run', async () => {
    const errors: string[] = [];
    const log = { ...silentLogger, error: (m: string) => void errors.push(m) } as Logger;
    const q = new SlicedQueue(log);
    const ran: number[] = [];
    q.push(undefined, () => ran.push(1));
    q.push(undefined, () => {
      throw new Error('boom');
    });
    q.push(undefined, () => ran.push(3));
    while (q.length > 0) await settle();
    expect(ran).toEqual([1, 3]);
    expect(errors).toEqual(['message handler failed']);
  });

  it('clear drops what waits', async () => {
    const q = new SlicedQueue(silentLogger);
    const ran: number[] = [];
    q.push('k', () => ran.push(1));
    q.clear();
    await settle();
    expect(ran).toEqual([]);
    expect(q.pending('k')).toBe(false);
  });
});

describe('router: API and liveness at read time, bulk in turns', () => {
  const node = (name: string): Identity => ({ role: 'node', name });
  const msg = (topic: string, payload: unknown, identity: Identity): Inbound => ({ topic, payload: encode(payload), clientId: identity.name, identity, address: '127.0.0.1' });

  function setup() {
    const calls: string[] = [];
    let busyUntil = 0;
    // A pod report costs 1 ms of the thread (busy-waits on the real clock): 1,000 of them are 1 s of work.
    const spin = () => {
      busyUntil = performance.now() + 1;
      while (performance.now() < busyUntil);
    };
    const targets = {
      api: { onRequest: async (c: string) => void calls.push(`api ${c}`), onApply: async () => undefined, clientGone: () => undefined },
      rpc: { onResponse: () => undefined, nodeGone: () => undefined },
      tracker: { onStatus: async (n: string) => void calls.push(`status ${n}`), onLease: async () => undefined, heard: () => false },
      metrics: { onNodeMetrics: () => undefined, onExternal: () => undefined },
      joins: { onMessage: async () => undefined, clientGone: () => undefined },
      pods: async (n: string) => (spin(), void calls.push(`pods ${n}`)),
      resync: async () => undefined,
      log: silentLogger,
    } as unknown as RouteTargets;
    const bulk = new SlicedQueue(silentLogger, 4);
    return { calls, bulk, router: createRouter(targets, bulk) };
  }

  it('answers an API request read behind 1,000 queued pod reports at once, and handles the reports in turns of a few ms', async () => {
    const { calls, bulk, router } = setup();
    for (let i = 0; i < 1000; i++) router.message(msg(topics.nodePods(`n${i % 500}`), { pods: [] }, node(`n${i % 500}`)));
    router.message(msg(topics.apiReq('admin'), { id: '1', verb: 'get' }, { role: 'admin', name: 'admin' }));
    await Promise.resolve();
    expect(calls).toEqual(['api admin']);
    // The reports follow, none lost, a few per turn: a turn stops once it has held the loop for 4 ms, and a report
    // takes at least 1 ms (more on a loaded machine, so never more reports a turn).
    let most = 0;
    const reports = () => calls.filter((c) => c.startsWith('pods')).length;
    while (bulk.length > 0) {
      const before = reports();
      await settle();
      most = Math.max(most, reports() - before);
    }
    await settle();
    expect(reports()).toBe(1000);
    expect(bulk.turns).toBeGreaterThanOrEqual(200);
    expect(most).toBeLessThanOrEqual(5);
  });

  it("a node's status waits behind its queued report; another node's status is handled at once", async () => {
    const { calls, router } = setup();
    router.message(msg(topics.nodePods('a'), { pods: [] }, node('a')));
    router.message(msg(topics.nodeStatus('a'), { node: 'a', online: true }, node('a')));
    router.message(msg(topics.nodeStatus('b'), { node: 'b', online: true }, node('b')));
    await Promise.resolve();
    await Promise.resolve();
    expect(calls).toEqual(['status b']);
    await settle();
    await settle();
    expect(calls).toEqual(['status b', 'pods a', 'status a']);
  });

  it('close drops the queued work', async () => {
    const { calls, router } = setup();
    router.message(msg(topics.nodePods('a'), { pods: [] }, node('a')));
    router.close?.();
    await settle();
    expect(calls).toEqual([]);
  });
});
