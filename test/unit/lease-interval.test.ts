/** The lease budget rule, table by table: the interval a fleet is assigned, the grace each node gets, the deadlines. */
import { describe, expect, it } from 'vitest';
import { defaultLeaseBudget, leaseBudgetOf, leaseIntervalFor, nodeGraceMs } from '../../master/nodes/lease-interval.js';
import { LeaseDeadlines } from '../../master/nodes/lease-deadlines.js';
import { mayMatchLease } from '../../master/broker/fast-lease.js';
import { checkLeaseConfig, encode, parseLeaseConfig } from '../../protocol/index.js';

describe('leaseIntervalFor: the fleet stays under the budget, within the bounds', () => {
  const b = defaultLeaseBudget; // 100/s, 2 s … 10 s
  it.each([
    // nodes, budget, interval ms, why
    [0, b, 2_000, 'no nodes: the minimum'],
    [1, b, 2_000, 'one board: the agent default'],
    [40, b, 2_000, '40 boards: 20 leases/s, far under budget: 2 s and 10 s detection'],
    [200, b, 2_000, '200 boards: exactly the budget at 2 s'],
    [201, b, 3_000, 'one more: rounded up to a whole second'],
    [3, { perSecond: 100, minMs: 300, maxMs: 1_500 }, 300, 'a test\'s budget (1.5 s grace): the minimum, not rounded'],
    [400, { perSecond: 100, minMs: 300, maxMs: 1_500 }, 1_500, 'and its maximum, the grace itself'],
    [500, b, 5_000, '500 boards: 5 s'],
    [1_000, b, 10_000, '1,000 boards: 10 s, the kubelet renew interval: 100 leases/s'],
    [5_000, b, 10_000, '5,000 boards: the maximum; the budget is exceeded (500/s) rather than detection slowed'],
    [1_000, { ...b, perSecond: 50 }, 10_000, 'a smaller budget hits the maximum sooner'],
    [300, { ...b, perSecond: 50 }, 6_000, '300 boards at 50/s: 6 s'],
    [1_000, { ...b, perSecond: 0 }, 2_000, 'no budget: the minimum (nothing is announced)'],
    [1_000, { perSecond: 100, minMs: 1_000, maxMs: 30_000 }, 10_000, 'other bounds'],
    [10, { perSecond: 100, minMs: 5_000, maxMs: 30_000 }, 5_000, 'a higher minimum holds'],
  ])('%i nodes, %o → %i ms (%s)', (nodes, budget, want) => {
    expect(leaseIntervalFor(nodes, budget)).toBe(want);
    if (budget.perSecond > 0 && want < budget.maxMs) expect(nodes / (want / 1000)).toBeLessThanOrEqual(budget.perSecond);
  });
});

describe('leaseBudgetOf: the settings\' bounds, so a small fleet keeps --node-monitor-grace', () => {
  it.each<[number, number, number, [number, number], string]>([
    // max, grace, min → [minMs, maxMs], why
    [10_000, 10_000, 2_000, [2_000, 10_000], 'the defaults: 2 s (× 5 = the 10 s grace) to 10 s'],
    [10_000, 40_000, 2_000, [2_000, 10_000], 'a longer grace: the bounds hold'],
    [10_000, 5_000, 2_000, [1_000, 5_000], 'a shorter grace: the minimum keeps 5 × it = the grace, the maximum is the grace'],
    [10_000, 1_500, 2_000, [300, 1_500], 'a test\'s 1.5 s grace'],
    [10_000, 100, 2_000, [100, 100], 'never below what an agent accepts (100 ms)'],
  ])('max %i, grace %i, min %i → %j (%s)', (leaseIntervalMaxMs, nodeMonitorGraceMs, leaseIntervalMinMs, want, _why) => {
    const b = leaseBudgetOf({ maxLeasesPerSecond: 100, leaseIntervalMinMs, leaseIntervalMaxMs, nodeMonitorGraceMs });
    expect([b.minMs, b.maxMs]).toEqual(want);
  });
});

describe('nodeGraceMs: grace scales with the interval assigned, for agents that follow it', () => {
  const monitor = 10_000;
  it.each<[number | undefined, number, number, string]>([
    // follows (undefined: an old agent), assigned, grace, why
    [undefined, 10_000, 10_000, 'an old agent keeps --node-monitor-grace, whatever is assigned'],
    [2_000, 2_000, 10_000, 'a small fleet: 5 × 2 s = the monitor grace'],
    [10_000, 10_000, 50_000, '1,000 boards: 5 × 10 s (Kubernetes: 40 s over a 10 s renew)'],
    [5_000, 5_000, 25_000, '5 s: 25 s'],
    [2_000, 10_000, 50_000, 'told 10 s a moment ago, not said so yet: the assigned interval counts at once'],
    [30_000, 2_000, 10_000, 'its own longer --lease-interval buys no more grace (as before)'],
    [500, 2_000, 10_000, 'a faster agent: never less than the monitor grace'],
  ])('follows %s, assigned %i → %i ms (%s)', (follows, assigned, want, _why) => {
    expect(nodeGraceMs(follows, assigned, monitor)).toBe(want);
  });
  it('a longer --node-monitor-grace wins over the scaled one', () => {
    expect(nodeGraceMs(10_000, 10_000, 60_000)).toBe(60_000);
  });
});

describe('cluster/lease: what an agent accepts', () => {
  it.each([
    [{ intervalMs: 10_000 }, { intervalMs: 10_000 }],
    [{ intervalMs: 100 }, { intervalMs: 100 }],
    [{ intervalMs: 300_000 }, { intervalMs: 300_000 }],
    [{ intervalMs: 99 }, /cluster\/lease: intervalMs: must be a whole number of ms from 100 to 300000, got 99/],
    [{ intervalMs: 300_001 }, /intervalMs: .* got 300001/],
    [{ intervalMs: 2_500.5 }, /intervalMs: .* got 2500.5/],
    [{ intervalMs: '10s' }, /intervalMs: .* got "10s"/],
    [{ intervalMs: -1 }, /intervalMs: .* got -1/],
    [{}, /intervalMs: .* got undefined/],
    [[10_000], /cluster\/lease: must be a map with intervalMs, got an array/],
    [null, /must be a map/],
  ])('%j → %s', (m, want) => {
    const r = checkLeaseConfig(m);
    if (want instanceof RegExp) expect('error' in r && r.error).toMatch(want);
    else expect(r).toEqual(want);
    expect(parseLeaseConfig(encode(m))).toEqual(r);
  });
  it('refuses bytes that are not msgpack or JSON, naming the topic', () => {
    expect(parseLeaseConfig(Buffer.from([0xc1]))).toMatchObject({ error: expect.stringMatching(/^cluster\/lease: /) });
  });
});

describe('LeaseDeadlines: only nodes whose time came', () => {
  it('returns due nodes in deadline order, once; re-arming earlier wins, later is ignored while armed', () => {
    const d = new LeaseDeadlines();
    d.arm('a', 3_000);
    d.arm('b', 1_000);
    d.arm('c', 2_000);
    d.arm('c', 5_000); // later: ignored, c is due at 2 s
    d.arm('a', 500); // earlier: wins
    expect(d.due(400)).toEqual([]);
    expect(d.due(2_000)).toEqual(['a', 'b', 'c']);
    expect(d.due(10_000)).toEqual([]); // the stale entries are skipped
    expect(d.size).toBe(0);
    d.arm('a', 20_000);
    d.disarm('a');
    expect(d.due(30_000)).toEqual([]);
  });
  it('stays a heap under many random deadlines', () => {
    const d = new LeaseDeadlines();
    const at = new Map<string, number>();
    for (let i = 0; i < 2_000; i++) {
      const t = Math.floor(Math.random() * 100_000);
      d.arm(`n${i}`, t);
      at.set(`n${i}`, t);
    }
    const due = d.due(50_000);
    expect(new Set(due)).toEqual(new Set([...at].filter(([, t]) => t <= 50_000).map(([n]) => n)));
    expect(due.map((n) => at.get(n)!)).toEqual([...due.map((n) => at.get(n)!)].sort((x, y) => x - y));
  });
});

describe('mayMatchLease: which subscriptions keep leases on the broker queue', () => {
  it.each([
    ['skiff/v1/#', true],
    ['#', true],
    ['skiff/v1/nodes/+/lease', true],
    ['skiff/v1/nodes/pi-1/lease', true],
    ['skiff/v1/nodes/pi-1/#', true],
    ['skiff/+/nodes/+/+', true],
    ['skiff/v1/nodes/+/desired', false],
    ['skiff/v1/nodes/+/lease/x', false],
    ['skiff/v1/services/#', false],
    ['skiff/v1/api/c1/res', false],
    ['$SYS/+/new/clients', false],
    ['skiff/v1/nodes/+', false],
  ])('%s → %s', (filter, want) => expect(mayMatchLease(filter)).toBe(want));
});
