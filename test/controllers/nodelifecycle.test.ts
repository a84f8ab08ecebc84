/**
 * Node lifecycle rules on the fake clock: leases keep a node Ready and their absence turns it Unknown
 * after the grace period (master/nodes/status.ts); a node that is not Ready gets the unreachable
 * NoExecute taint, removed when it is Ready again; pods leave a node with NoExecute taints when their
 * toleration runs out (the default toleration, their own tolerationSeconds, or never); terminating pods
 * on a dead node go after their grace period; pods of a deleted node go at once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentReconnectMaxMs, decode, silentLogger, topics, type Taint, type Toleration } from '../../protocol/index.js';
import { evictionTime, needsTick, startNodeLifecycleController, unreachableTaint } from '../../master/controllers/nodelifecycle.js';
import { Telemetry } from '../../master/telemetry/registry.js';
import { withTelemetry } from '../../master/telemetry/scope.js';
import { NodeStatusTracker } from '../../master/nodes/status.js';
import { LeaseAnnouncer, settleMs } from '../../master/nodes/lease-announcer.js';
import { harness, type Harness } from './harness.js';
import { nodeWith, podWith } from './builders.js';

const evictionTimeoutMs = 30_000;

describe('eviction time (pure)', () => {
  const added = 1_000_000;
  const unreachable: Taint = { key: unreachableTaint, effect: 'NoExecute', timeAdded: new Date(added).toISOString() };
  const pod = (tolerations?: Toleration[]) => podWith({ name: 'p', tolerations });
  it.each<[string, Toleration[] | undefined, Taint[], number]>([
    ['the default toleration of the unreachable taint', undefined, [unreachable], added + evictionTimeoutMs],
    ['its own tolerationSeconds', [{ key: unreachableTaint, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }], [unreachable], added + 5_000],
    ['the shortest of two matching tolerations', [{ operator: 'Exists', tolerationSeconds: 60 }, { key: unreachableTaint, operator: 'Exists', tolerationSeconds: 10 }], [unreachable], added + 10_000],
    ['a negative tolerationSeconds means now', [{ operator: 'Exists', tolerationSeconds: -5 }], [unreachable], added],
    ['tolerates forever (Exists, no seconds)', [{ operator: 'Exists' }], [unreachable], Infinity],
    ['an untolerated NoExecute taint: at once', undefined, [{ key: 'gpu', effect: 'NoExecute', timeAdded: unreachable.timeAdded }], 0],
    ['a toleration for another effect does not count', [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }], [{ key: 'gpu', effect: 'NoExecute' }], 0],
    ['Equal with the right value', [{ key: 'gpu', operator: 'Equal', value: 'a', effect: 'NoExecute' }], [{ key: 'gpu', value: 'a', effect: 'NoExecute' }], Infinity],
    ['Equal with the wrong value', [{ key: 'gpu', operator: 'Equal', value: 'a' }], [{ key: 'gpu', value: 'b', effect: 'NoExecute' }], 0],
    ['NoSchedule never evicts', undefined, [{ key: 'gpu', effect: 'NoSchedule' }], Infinity],
    ['no timeAdded: counted from now', undefined, [{ key: unreachableTaint, effect: 'NoExecute' }], 5_000_000 + evictionTimeoutMs],
  ])('%s', (_what, tolerations, taints, at) => expect(evictionTime(pod(tolerations), taints, evictionTimeoutMs, 5_000_000)).toBe(at));
});

describe('which nodes the tick looks at (pure)', () => {
  it.each<[string, Parameters<typeof nodeWith>[0], boolean]>([
    ['a Ready node without taints: nothing can come due', { name: 'n' }, false],
    ['a Ready node with a NoSchedule taint only', { name: 'n', taints: [{ key: 'gpu', effect: 'NoSchedule' }] }, false],
    ['a Ready node with a NoExecute taint (tolerationSeconds run out)', { name: 'n', taints: [{ key: 'gpu', effect: 'NoExecute' }] }, true],
    ['a Ready node still carrying the unreachable taint (to be untainted)', { name: 'n', taints: [{ key: unreachableTaint, effect: 'NoExecute' }] }, true],
    ['a node that is not Ready', { name: 'n', ready: false }, true],
    ['a node whose Ready is Unknown', { name: 'n', ready: 'Unknown' }, true],
  ])('%s', (_what, o, expected) => expect(needsTick(nodeWith(o))).toBe(expected));
});

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.stop());

const node = (name = 'n1') => h.get('Node', undefined, name)!;
const ready = (name = 'n1') => node(name).status?.conditions?.find((c) => c.type === 'Ready')?.status;
const tainted = (name = 'n1') => node(name).spec.taints?.some((t) => t.key === unreachableTaint) ?? false;
const pod = (name: string) => h.get('Pod', 'default', name);

describe('node status: leases and the grace period', () => {
  const graceMs = 40_000;
  let tracker: NodeStatusTracker;
  beforeEach(async () => {
    tracker = new NodeStatusTracker(h.ctx, graceMs);
    tracker.start();
    await tracker.onStatus('n1', { node: 'n1', online: true, capacity: { cpu: '4', memory: '4Gi', pods: '110' } });
    await h.settle();
  });
  afterEach(() => tracker.stop());

  it('stays Ready while leases arrive, turns Unknown once none came for the grace period', async () => {
    expect(ready()).toBe('True');
    for (let i = 0; i < 30; i++) {
      await h.advance(2_000);
      await tracker.onLease('n1', { ts: h.clock.now() });
    }
    expect(ready()).toBe('True');
    const last = h.clock.now();
    await h.advance(graceMs);
    expect(ready()).toBe('True');
    await h.advance(1_000);
    expect(ready()).toBe('Unknown');
    expect(Date.parse(node().status!.conditions!.find((c) => c.type === 'Ready')!.lastTransitionTime!) - last).toBe(graceMs + 1_000);
    expect(h.reasons('Node', undefined, 'n1')).toContain('NodeNotReady');
    await tracker.onLease('n1', { ts: h.clock.now() });
    await h.settle();
    expect(ready()).toBe('True');
  });

  it('the agent Will (online: false) turns the node Unknown at once', async () => {
    await tracker.onStatus('n1', { node: 'n1', online: false });
    await h.settle();
    expect(ready()).toBe('Unknown');
  });
});

describe('node status: a grace scaled to the lease interval each agent follows', () => {
  const monitorMs = 10_000;
  let assigned = 10_000;
  let tracker: NodeStatusTracker;
  const capacity = { cpu: '4', memory: '4Gi', pods: '110' };
  beforeEach(async () => {
    assigned = 10_000;
    tracker = new NodeStatusTracker(h.ctx, monitorMs, undefined, { assignedMs: () => assigned, maxMs: 10_000 });
    tracker.start();
    for (const n of ['new', 'old']) await tracker.onStatus(n, { node: n, online: true, capacity });
    await h.settle();
  });
  afterEach(() => tracker.stop());

  it('a node that says it follows 10 s turns Unknown after 5 × 10 s of silence; an old agent saying nothing after --node-monitor-grace', async () => {
    expect(tracker.heard('new', { intervalMs: 10_000 })).toBe(true); // Ready and fresh: nothing more to do
    expect(tracker.heard('old', {})).toBe(true);
    expect([tracker.graceOf('new'), tracker.graceOf('old')]).toEqual([50_000, monitorMs]);
    await h.advance(monitorMs + 1_000);
    expect([ready('new'), ready('old')]).toEqual(['True', 'Unknown']);
    await h.advance(50_000 - monitorMs - 2_000);
    expect(ready('new')).toBe('True');
    await h.advance(2_000);
    expect(ready('new')).toBe('Unknown');
    expect(node('new').status!.conditions!.find((c) => c.type === 'Ready')!.message).toMatch(/no lease for 5\ds, grace 50s for its lease interval/);
  });

  it('leases within the scaled grace keep the node Ready; the lease check re-arms it from its last lease', async () => {
    for (let i = 0; i < 10; i++) {
      await h.advance(9_000);
      tracker.heard('new', { intervalMs: 10_000 });
      tracker.heard('old', {}); // an old agent leasing every 2 s would do; every 9 s is within 10 s too
    }
    expect([ready('new'), ready('old')]).toEqual(['True', 'True']);
  });

  it('a lease of a node that is not Ready is not finished at the connection: it goes on to be written', async () => {
    await tracker.onStatus('new', { node: 'new', online: false });
    await h.settle();
    expect(ready('new')).toBe('Unknown');
    expect(tracker.heard('new', { intervalMs: 10_000 })).toBe(false);
    await tracker.onLease('new', { intervalMs: 10_000 });
    await h.settle();
    expect(ready('new')).toBe('True');
  });

  it('a claimed interval out of bounds is not believed; what counts is the interval assigned now', async () => {
    tracker.heard('new', { intervalMs: 10 ** 9 });
    expect(tracker.graceOf('new')).toBe(monitorMs); // refused: treated as an agent that says nothing
    tracker.heard('new', { intervalMs: 30_000 }); // its own longer --lease-interval: it follows, but buys nothing more
    expect(tracker.graceOf('new')).toBe(50_000);
    assigned = 2_000;
    expect(tracker.graceOf('new')).toBe(monitorMs);
  });

  it('a node made Ready by another path (the API) is watched too', async () => {
    await h.create(nodeWith({ name: 'api-made' }));
    await h.advance(agentReconnectMaxMs + monitorMs + 2_000);
    expect(ready('api-made')).toBe('Unknown');
  });
});

describe('LeaseAnnouncer: the fleet\'s lease interval, retained on cluster/lease', () => {
  const sent: { topic: string; intervalMs: number; retain: boolean }[] = [];
  const publish = async (topic: string, payload: Buffer, retain: boolean) => void sent.push({ topic, retain, ...(decode(payload).value as { intervalMs: number }) });
  beforeEach(() => void (sent.length = 0));

  it('announces at start, once for a burst of joins (after it settles), and again when deletions shrink the fleet', async () => {
    const a = new LeaseAnnouncer(h.ctx, { perSecond: 2, minMs: 1_000, maxMs: 5_000 }, publish);
    a.start();
    expect(sent).toEqual([{ topic: topics.leaseConfig, intervalMs: 1_000, retain: true }]);
    for (let i = 0; i < 6; i++) await h.create(nodeWith({ name: `n${i}` }));
    expect(sent).toHaveLength(1); // not per join
    await h.advance(settleMs);
    expect(sent.slice(1)).toEqual([{ topic: topics.leaseConfig, intervalMs: 3_000, retain: true }]); // 6 nodes at 2/s
    expect(a.assignedMs()).toBe(3_000);
    await h.update('Node', undefined, 'n0', (n) => void (n.metadata.labels = { changed: 'yes' }));
    await h.advance(settleMs);
    expect(sent).toHaveLength(2); // a change is not a join
    for (let i = 0; i < 4; i++) await h.delete('Node', undefined, `n${i}`);
    await h.advance(settleMs);
    expect(sent.at(-1)).toMatchObject({ intervalMs: 1_000 });
    // Shrunk: agents lease on 3 s until the announcement reaches them; grace keeps the 3 s for twice that.
    expect([a.assignedMs(), a.graceIntervalMs()]).toEqual([1_000, 3_000]);
    await h.advance(6_000);
    expect(a.graceIntervalMs()).toBe(1_000);
    a.stop();
  });

  it('with no budget announces nothing: every agent keeps its own interval', async () => {
    const a = new LeaseAnnouncer(h.ctx, { perSecond: 0, minMs: 2_000, maxMs: 10_000 }, publish);
    a.start();
    await h.create(nodeWith({ name: 'n' }));
    await h.advance(settleMs);
    expect(sent).toEqual([]);
    a.stop();
  });
});

describe('node lifecycle: taints and eviction', () => {
  beforeEach(async () => {
    await h.run((ctx) => startNodeLifecycleController(ctx, { podEvictionTimeoutMs: evictionTimeoutMs }));
  });
  const setReady = (status: 'True' | 'Unknown', name = 'n1') => h.update('Node', undefined, name, (n) => (n.status!.conditions = [{ type: 'Ready', status }]));

  it('taints a node that is not Ready (with the time), and untaints it once Ready again', async () => {
    await h.create(nodeWith({ name: 'n1' }));
    expect(tainted()).toBe(false);
    await setReady('Unknown');
    expect(node().spec.taints).toEqual([{ key: unreachableTaint, effect: 'NoExecute', timeAdded: new Date(h.clock.now()).toISOString() }]);
    expect(h.reasons('Node', undefined, 'n1')).toEqual(['NodeUnreachable']);
    await setReady('True');
    expect(node().spec.taints).toBeUndefined();
    expect(h.reasons('Node', undefined, 'n1')).toEqual(['NodeUnreachable', 'NodeReachable']);
  });

  it('keeps taints of its own on a node it untaints', async () => {
    await h.create(nodeWith({ name: 'n1', taints: [{ key: 'gpu', effect: 'NoSchedule' }] }));
    await setReady('Unknown');
    await setReady('True');
    expect(node().spec.taints).toEqual([{ key: 'gpu', effect: 'NoSchedule' }]);
  });

  it('evicts the pods of an unreachable node when each one\'s toleration runs out', async () => {
    await h.create(nodeWith({ name: 'n1' }));
    await h.create(podWith({ name: 'default', node: 'n1', ready: true }));
    await h.create(podWith({ name: 'short', node: 'n1', ready: true, tolerations: [{ key: unreachableTaint, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] }));
    await h.create(podWith({ name: 'forever', node: 'n1', ready: true, tolerations: [{ operator: 'Exists' }] }));
    await setReady('Unknown');
    await h.advance(4_500);
    expect([pod('default'), pod('short'), pod('forever')].every(Boolean)).toBe(true);
    await h.advance(1_000);
    // The node cannot confirm a stop: an evicted pod there is removed at once, so its controller replaces it.
    expect(pod('short')).toBeUndefined();
    await h.advance(evictionTimeoutMs - 6_000);
    expect(pod('default')).toBeDefined();
    await h.advance(1_000);
    expect(pod('default')).toBeUndefined();
    await h.advance(3_600_000);
    expect(pod('forever')).toBeDefined();
    expect(h.reasons('Pod', 'default', 'default')).toEqual(['TaintManagerEviction']);
  });

  it('a NoExecute taint on a Ready node evicts untolerating pods gracefully (their agent stops them)', async () => {
    await h.create(nodeWith({ name: 'n1' }));
    await h.create(podWith({ name: 'p', node: 'n1', ready: true }));
    await h.create(podWith({ name: 'q', node: 'n1', ready: true, tolerations: [{ key: 'maintenance', operator: 'Exists' }] }));
    await h.update('Node', undefined, 'n1', (n) => (n.spec.taints = [{ key: 'maintenance', effect: 'NoExecute' }]));
    await h.advance(1_000);
    expect(pod('p')?.metadata.deletionTimestamp).toBeDefined();
    expect(pod('q')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('removes a terminating pod of a dead node after its grace period', async () => {
    await h.create(nodeWith({ name: 'n1' }));
    await h.create(podWith({ name: 'p', node: 'n1', ready: true, terminationGracePeriodSeconds: 10, tolerations: [{ operator: 'Exists' }] }));
    await h.delete('Pod', 'default', 'p');
    await setReady('Unknown');
    await h.advance(9_000);
    expect(pod('p')).toBeDefined();
    await h.advance(1_500);
    expect(pod('p')).toBeUndefined();
  });

  it('each tick syncs only the nodes that need it: healthy nodes cost nothing while idle', async () => {
    // The controller under test runs in a telemetry scope of its own, so its queue counts what each tick adds.
    await h.stop();
    h = await harness();
    const t = new Telemetry();
    await h.run((ctx) => withTelemetry(t, () => startNodeLifecycleController(ctx, { podEvictionTimeoutMs: evictionTimeoutMs })));
    const adds = async () => (await t.queueAdds.get()).values.find((v) => v.labels.name === 'node-lifecycle')?.value ?? 0;
    for (const name of ['a', 'b', 'c']) await h.create(nodeWith({ name }));
    for (let i = 0; i < 20; i++) await h.create(podWith({ name: `p${i}`, node: ['a', 'b', 'c'][i % 3], ready: true, tolerations: [{ operator: 'Exists' }] }));
    await h.advance(1_000);
    let before = await adds();
    await h.advance(5_000);
    expect(await adds()).toBe(before);
    await setReady('Unknown', 'b');
    await h.advance(1_000);
    before = await adds();
    await h.advance(5_000); // ten ticks: node b each time, a and c never
    expect(await adds()).toBe(before + 10);
    expect(h.get('Node', undefined, 'b')!.spec.taints?.map((x) => x.key)).toEqual([unreachableTaint]);
  });

  it('a node Ready again keeps its pods, though its unreachable taint ran past their toleration during a disruption', async () => {
    // A controller of its own whose log takes the disruption's warning (expected here) quietly.
    await h.stop();
    h = await harness();
    await h.run((ctx) => startNodeLifecycleController({ ...ctx, log: silentLogger }, { podEvictionTimeoutMs: evictionTimeoutMs }));
    for (const name of ['a', 'b', 'c', 'd']) await h.create(nodeWith({ name }));
    await h.create(podWith({ name: 'p', node: 'a', ready: true }));
    await setReady('Unknown', 'a');
    expect(tainted('a')).toBe(true);
    await h.advance(10_000);
    // Two more go: three of four not Ready is a disruption, so nothing is evicted while it lasts.
    for (const name of ['b', 'c']) await setReady('Unknown', name);
    await h.advance(evictionTimeoutMs);
    expect(pod('p')?.metadata.deletionTimestamp).toBeUndefined();
    // Node a is back (its taint is 40 s old, the pod tolerates 30 s): the taint comes off and the pod stays.
    await setReady('True', 'a');
    await h.advance(2_000);
    expect(tainted('a')).toBe(false);
    expect(pod('p')).toBeDefined();
    expect(pod('p')?.metadata.deletionTimestamp).toBeUndefined();
  });

  it('follows the cache for the disruption count: deleting not-Ready nodes ends a disruption (the count is kept, not rescanned)', async () => {
    await h.stop();
    h = await harness();
    await h.run((ctx) => startNodeLifecycleController({ ...ctx, log: silentLogger }, { podEvictionTimeoutMs: evictionTimeoutMs }));
    for (const name of ['a', 'b', 'c', 'd']) await h.create(nodeWith({ name }));
    await h.create(podWith({ name: 'p', node: 'd', ready: true }));
    for (const name of ['b', 'c', 'd']) await setReady('Unknown', name); // three of four: a disruption
    await h.advance(evictionTimeoutMs + 2_000);
    expect(pod('p')).toBeDefined(); // held while it lasts
    for (const name of ['b', 'c']) await h.delete('Node', undefined, name); // one of two left not Ready: over
    await h.advance(1_000);
    expect(pod('p')).toBeUndefined();
  });

  it('removes the pods of a deleted node at once', async () => {
    await h.create(nodeWith({ name: 'n1' }));
    await h.create(podWith({ name: 'p', node: 'n1', ready: true }));
    await h.delete('Node', undefined, 'n1');
    await h.advance(1_000);
    expect(pod('p')).toBeUndefined();
  });
});

describe('node failure end to end (leases → Unknown → taint → eviction)', () => {
  it('evicts a dead node\'s pods grace + toleration after its last lease', async () => {
    const tracker = new NodeStatusTracker(h.ctx, 40_000);
    tracker.start();
    await h.run((ctx) => startNodeLifecycleController(ctx, { podEvictionTimeoutMs: evictionTimeoutMs }));
    await tracker.onStatus('n1', { node: 'n1', online: true, capacity: { cpu: '4', memory: '4Gi', pods: '110' } });
    await h.settle();
    await h.create(podWith({ name: 'p', node: 'n1', ready: true }));
    const last = h.clock.now();
    await h.advance(40_000 + 30_000);
    expect(pod('p')).toBeDefined();
    expect(tainted()).toBe(true);
    await h.advance(2_000);
    expect(pod('p')).toBeUndefined();
    expect(h.clock.now() - last).toBeLessThanOrEqual(72_000);
    tracker.stop();
  });
});
