/**
 * DaemonSet controller rules, in memory: which nodes are eligible (node selector, required node
 * affinity, taints and the tolerations every daemon pod gets), one pod per eligible node following
 * nodes and labels, replacement of failed pods, rolling updates within maxUnavailable, OnDelete, and
 * status counts. The test plays the scheduler (binding each pod to the node its affinity names) and
 * the agents (readiness).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isReady, type DaemonSet, type Node, type NodeSelectorRequirement } from '../../protocol/index.js';
import { shouldRun, targetNode } from '../../master/controllers/daemonset/eligibility.js';
import { startDaemonSetController } from '../../master/controllers/daemonset/sync.js';
import { harness, type Harness } from './harness.js';
import { dsWith, nodeWith, podWith, versionOf } from './builders.js';

describe('DaemonSet eligibility (shouldRun)', () => {
  const affinity = (...matchExpressions: NodeSelectorRequirement[]) => {
    const ds = dsWith();
    ds.spec.template.spec.affinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } };
    return ds;
  };
  it.each<[string, DaemonSet, Node, boolean]>([
    ['any node without a selector', dsWith(), nodeWith({ name: 'n' }), true],
    ['node selector matches', dsWith({ nodeSelector: { tier: 'edge' } }), nodeWith({ name: 'n', labels: { tier: 'edge' } }), true],
    ['node selector does not match', dsWith({ nodeSelector: { tier: 'edge' } }), nodeWith({ name: 'n', labels: { tier: 'core' } }), false],
    ['node selector, label missing', dsWith({ nodeSelector: { tier: 'edge' } }), nodeWith({ name: 'n' }), false],
    ['affinity In', affinity({ key: 'zone', operator: 'In', values: ['a', 'b'] }), nodeWith({ name: 'n', labels: { zone: 'b' } }), true],
    ['affinity NotIn', affinity({ key: 'zone', operator: 'NotIn', values: ['a'] }), nodeWith({ name: 'n', labels: { zone: 'a' } }), false],
    ['affinity Exists', affinity({ key: 'gpu', operator: 'Exists' }), nodeWith({ name: 'n', labels: { gpu: '' } }), true],
    ['affinity DoesNotExist', affinity({ key: 'gpu', operator: 'DoesNotExist' }), nodeWith({ name: 'n', labels: { gpu: '1' } }), false],
    ['affinity Gt', affinity({ key: 'cores', operator: 'Gt', values: ['2'] }), nodeWith({ name: 'n', labels: { cores: '4' } }), true],
    ['affinity Lt, not a number', affinity({ key: 'cores', operator: 'Lt', values: ['2'] }), nodeWith({ name: 'n', labels: { cores: 'many' } }), false],
    ['NoSchedule taint, not tolerated', dsWith(), nodeWith({ name: 'n', taints: [{ key: 'gpu', effect: 'NoSchedule' }] }), false],
    ['NoExecute taint, not tolerated', dsWith(), nodeWith({ name: 'n', taints: [{ key: 'gpu', effect: 'NoExecute' }] }), false],
    ['PreferNoSchedule taint: still eligible', dsWith(), nodeWith({ name: 'n', taints: [{ key: 'gpu', effect: 'PreferNoSchedule' }] }), true],
    ['taint tolerated by the template', dsWith({ tolerations: [{ key: 'gpu', operator: 'Exists' }] }), nodeWith({ name: 'n', taints: [{ key: 'gpu', effect: 'NoSchedule' }] }), true],
    ['taint tolerated with the wrong value', dsWith({ tolerations: [{ key: 'gpu', operator: 'Equal', value: 'a' }] }), nodeWith({ name: 'n', taints: [{ key: 'gpu', value: 'b', effect: 'NoSchedule' }] }), false],
    ['cordoned: daemon pods tolerate unschedulable', dsWith(), nodeWith({ name: 'n', unschedulable: true }), true],
    ['not ready: daemon pods tolerate not-ready', dsWith(), nodeWith({ name: 'n', ready: false, taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }), true],
    ['unreachable: daemon pods stay', dsWith(), nodeWith({ name: 'n', ready: 'Unknown', taints: [{ key: 'node.skiff.io/unreachable', effect: 'NoExecute' }] }), true],
  ])('%s → %s', (_what, ds, node, want) => expect(shouldRun(ds, node)).toBe(want));
});

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.stop());

const ds = (name = 'agent') => h.get('DaemonSet', 'default', name)!;
const active = (app = 'agent') => h.pods({ app }).filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== 'Failed');
/** Target node of each active daemon pod, sorted. */
const nodesOf = (app = 'agent') => active(app).map((p) => targetNode(p)).sort();
/** Plays the scheduler: binds each unbound daemon pod to the node its affinity names. */
async function schedule(app = 'agent'): Promise<void> {
  for (const p of active(app).filter((x) => !x.spec.nodeName)) await h.bind([p], targetNode(p)!);
}
const terminating = (app = 'agent') => h.pods({ app }).filter((p) => p.metadata.deletionTimestamp);
/** Plays the scheduler and the agents: binds, readies and stops pods, repeatedly, until all are ready and none terminates. */
async function runAll(app = 'agent'): Promise<void> {
  for (let n = 0; n < 20 && (terminating(app).length > 0 || active(app).some((p) => !p.spec.nodeName || !isReady(p))); n++) {
    await h.confirmStopped(terminating(app));
    await schedule(app);
    await h.setReady(active(app).filter((p) => !isReady(p)));
  }
}
const addNodes = async (...names: string[]) => {
  for (const name of names) await h.create(nodeWith({ name }));
};

describe('DaemonSet: one pod per eligible node', () => {
  it('creates a pinned pod per node with the daemon tolerations, and follows nodes joining and leaving', async () => {
    await addNodes('n1', 'n2');
    await h.run(startDaemonSetController);
    await h.create(dsWith());
    expect(nodesOf()).toEqual(['n1', 'n2']);
    const [p] = active();
    expect(p.spec.tolerations?.map((t) => `${t.key}:${t.effect}`)).toContain('node.kubernetes.io/unschedulable:NoSchedule');
    expect(p.metadata.labels?.['controller-revision-hash']).toMatch(/^[a-z0-9]{10}$/);
    await addNodes('n3');
    expect(nodesOf()).toEqual(['n1', 'n2', 'n3']);
    await h.delete('Node', undefined, 'n2');
    expect(nodesOf()).toEqual(['n1', 'n3']);
    expect(ds().status).toMatchObject({ desiredNumberScheduled: 2 });
  });

  it('follows a node label through its node selector', async () => {
    await addNodes('n1', 'n2');
    await h.run(startDaemonSetController);
    await h.create(dsWith({ nodeSelector: { tier: 'sensor' } }));
    expect(active()).toEqual([]);
    await h.update('Node', undefined, 'n2', (n) => (n.metadata.labels = { ...n.metadata.labels, tier: 'sensor' }));
    expect(nodesOf()).toEqual(['n2']);
    await h.update('Node', undefined, 'n2', (n) => delete n.metadata.labels?.tier);
    expect(active()).toEqual([]);
  });

  it('follows a taint: an untolerated NoSchedule taint removes the pod, removing the taint brings it back', async () => {
    await addNodes('n1');
    await h.run(startDaemonSetController);
    await h.create(dsWith());
    await h.update('Node', undefined, 'n1', (n) => (n.spec.taints = [{ key: 'maintenance', effect: 'NoSchedule' }]));
    expect(active()).toEqual([]);
    await h.update('Node', undefined, 'n1', (n) => delete n.spec.taints);
    expect(nodesOf()).toEqual(['n1']);
  });

  it('replaces a failed pod, and keeps only the oldest of two on one node', async () => {
    await addNodes('n1');
    await h.run(startDaemonSetController);
    const owner = await h.create(dsWith());
    const [first] = active();
    await h.setPhase([first], 'Failed');
    const [second] = active();
    expect(second.metadata.name).not.toBe(first.metadata.name);
    expect(h.get('Pod', 'default', first.metadata.name)).toBeUndefined();
    // A stray duplicate aimed at the same node (e.g. created by a previous master) goes, the older one stays.
    const dup = podWith({ name: 'dup', labels: { app: 'agent' }, owner, node: 'n1' });
    await h.clock.advance(1000);
    await h.create(dup);
    expect(active().map((p) => p.metadata.name)).toEqual([second.metadata.name]);
  });

  it('counts desired, scheduled, ready, available, updated and misscheduled nodes in status', async () => {
    await addNodes('n1', 'n2', 'n3');
    await h.run(startDaemonSetController);
    await h.create(dsWith({ nodeSelector: { run: 'yes' } }));
    for (const n of ['n1', 'n2']) await h.update('Node', undefined, n, (x) => (x.metadata.labels = { ...x.metadata.labels, run: 'yes' }));
    await schedule();
    await h.setReady(active().filter((p) => p.spec.nodeName === 'n1'));
    expect(ds().status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, numberAvailable: 1, numberUnavailable: 1, updatedNumberScheduled: 2, numberMisscheduled: 0 });
  });
});

describe('DaemonSet: updates', () => {
  /** The largest number of eligible nodes without a ready pod, on every pod change. */
  function watchUnavailable(nodes: number): { worst: number } {
    const seen = { worst: 0 };
    h.informers.on('Pod', () => {
      const ready = new Set(active().filter(isReady).map((p) => p.spec.nodeName));
      seen.worst = Math.max(seen.worst, nodes - ready.size);
    });
    return seen;
  }

  it.each([
    [1, 4],
    [2, 4],
    ['50%', 4],
  ])('rolls a template change node by node within maxUnavailable %s (of %i nodes)', async (maxUnavailable, n) => {
    const names = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    await addNodes(...names);
    await h.run(startDaemonSetController);
    await h.create(dsWith({ maxUnavailable }));
    await runAll();
    const seen = watchUnavailable(n);
    await h.update('DaemonSet', 'default', 'agent', (o) => (o.spec.template.spec.containers[0].env = [{ name: 'VERSION', value: 'v2' }]));
    const budget = typeof maxUnavailable === 'number' ? maxUnavailable : Math.ceil((n * parseInt(maxUnavailable)) / 100);
    expect(terminating()).toHaveLength(budget);
    await h.confirmStopped(terminating());
    expect(active().filter((p) => versionOf(p) === 'v2')).toHaveLength(budget);
    await runAll();
    expect(active().map(versionOf)).toEqual(Array(n).fill('v2'));
    expect(nodesOf()).toEqual(names);
    expect(seen.worst).toBe(budget);
    expect(ds().status?.updatedNumberScheduled).toBe(n);
  });

  it('replaces old pods that are not available at once, whatever maxUnavailable says', async () => {
    await addNodes('n1', 'n2', 'n3');
    await h.run(startDaemonSetController);
    await h.create(dsWith({ maxUnavailable: 1 }));
    await runAll();
    await h.setReady(active().filter((p) => p.spec.nodeName !== 'n1'), false);
    await h.update('DaemonSet', 'default', 'agent', (o) => (o.spec.template.spec.containers[0].env = [{ name: 'VERSION', value: 'v2' }]));
    await h.confirmStopped(terminating());
    expect(active().filter((p) => versionOf(p) === 'v2').map((p) => targetNode(p)).sort()).toEqual(['n2', 'n3']);
  });

  it('OnDelete replaces a pod only when the user deletes it', async () => {
    await addNodes('n1', 'n2');
    await h.run(startDaemonSetController);
    await h.create(dsWith({ onDelete: true }));
    await runAll();
    await h.update('DaemonSet', 'default', 'agent', (o) => (o.spec.template.spec.containers[0].env = [{ name: 'VERSION', value: 'v2' }]));
    await h.advance(60_000);
    expect(active().map(versionOf)).toEqual(['v1', 'v1']);
    const onN1 = active().find((p) => p.spec.nodeName === 'n1')!;
    await h.delete('Pod', 'default', onN1.metadata.name);
    await h.confirmStopped([onN1]);
    expect(active().map((p) => `${targetNode(p)}=${versionOf(p)}`).sort()).toEqual(['n1=v2', 'n2=v1']);
  });
});
