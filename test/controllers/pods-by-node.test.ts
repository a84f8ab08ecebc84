/**
 * The index of pods by node (master/nodes/pods-by-node.ts) and the readers that use it instead of scanning every
 * pod (issue 16): a sequence of cache changes leaves each node with exactly its pods; one index per cache; a
 * desired-set flush and a `gone` report read the dirty node's pods only (the whole pod list is never asked for).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Pod } from '../../protocol/index.js';
import { DesiredPublisher } from '../../master/nodes/desired.js';
import { onPodsReport } from '../../master/nodes/pods.js';
import { PodsByNode, podsByNode } from '../../master/nodes/pods-by-node.js';
import { harness, type Harness } from './harness.js';
import { nodeWith, podWith } from './builders.js';

const pod = (name: string, node?: string, rv = '1'): Pod => {
  const p = podWith({ name, node });
  p.metadata.resourceVersion = rv;
  return p;
};
const names = (idx: PodsByNode, node: string) => idx.of(node).map((p) => p.metadata.name).sort();

describe('PodsByNode (pure)', () => {
  // Each step is one cache change (obj now, obj before); after all steps, the pods each node holds.
  it.each<[string, [Pod | undefined, Pod | undefined][], Record<string, string[]>]>([
    ['an unbound pod is on no node', [[pod('a'), undefined]], {}],
    ['a bind moves it onto its node', [[pod('a'), undefined], [pod('a', 'n1'), pod('a')]], { n1: ['a'] }],
    ['a status change keeps one entry, the newest object', [[pod('a', 'n1'), undefined], [pod('a', 'n1', '2'), pod('a', 'n1')]], { n1: ['a'] }],
    ['a delete takes it off', [[pod('a', 'n1'), undefined], [undefined, pod('a', 'n1')]], {}],
    ['pods of two nodes stay apart', [[pod('a', 'n1'), undefined], [pod('b', 'n2'), undefined], [pod('c', 'n1'), undefined]], { n1: ['a', 'c'], n2: ['b'] }],
    ['a pod moved between nodes (re-created) leaves the first', [[pod('a', 'n1'), undefined], [pod('a', 'n2'), pod('a', 'n1')]], { n2: ['a'] }],
  ])('%s', (_what, steps, expected) => {
    const idx = new PodsByNode();
    for (const [obj, old] of steps) idx.update(obj, old);
    expect(Object.fromEntries([...idx.nodes()].map((n) => [n, names(idx, n)]))).toEqual(expected);
    for (const [n, pods] of Object.entries(expected)) expect(idx.count(n)).toBe(pods.length);
  });

  it('keeps the newest object of a pod (readers see its current status)', () => {
    const idx = new PodsByNode();
    idx.update(pod('a', 'n1', '1'), undefined);
    idx.update(pod('a', 'n1', '7'), pod('a', 'n1', '1'));
    expect(idx.of('n1').map((p) => p.metadata.resourceVersion)).toEqual(['7']);
  });
});

describe('podsByNode over the cache', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness();
  });
  afterEach(() => h.stop());

  it('is one index per cache, filled with what the cache held and following it', async () => {
    await h.create(podWith({ name: 'early', node: 'n1' }));
    await h.settle();
    const idx = podsByNode(h.ctx.informers);
    expect(podsByNode(h.ctx.informers)).toBe(idx);
    expect(names(idx, 'n1')).toEqual(['early']);
    await h.create(podWith({ name: 'late', node: 'n1' }));
    await h.delete('Pod', 'default', 'early');
    await h.settle();
    // Deleting a bound pod makes it terminating: still on its node until its agent confirms.
    expect(names(idx, 'n1')).toEqual(['early', 'late']);
    const early = h.get('Pod', 'default', 'early')!;
    await h.ctx.objects.finishPodDeletion('default', 'early', early.metadata.uid);
    await h.settle();
    expect(names(idx, 'n1')).toEqual(['late']);
  });

  it('a desired-set flush reads the dirty nodes\' pods, never the list of every pod', async () => {
    await h.create(nodeWith({ name: 'n1' }));
    await h.create(nodeWith({ name: 'n2' }));
    for (let i = 0; i < 5; i++) await h.create(podWith({ name: `p${i}`, node: i < 2 ? 'n1' : 'n2' }));
    const sent = new Map<string, number>();
    const publisher = new DesiredPublisher(h.ctx, async (topic) => void sent.set(topic, (sent.get(topic) ?? 0) + 1));
    publisher.start();
    await publisher.flush();
    const list = vi.spyOn(h.ctx.informers, 'list');
    await h.create(podWith({ name: 'new', node: 'n1' }));
    await h.settle();
    await publisher.flush();
    publisher.stop();
    expect(list.mock.calls.filter(([kind]) => kind === 'Pod')).toEqual([]);
    expect(publisher.desiredOf('n1').pods.map((p) => p.metadata.name).sort()).toEqual(['new', 'p0', 'p1']);
  });

  it('a report repeating the stored status writes nothing; a changed one is stored', async () => {
    await h.create(podWith({ name: 'web', node: 'n1' }));
    await h.settle();
    const p = h.get('Pod', 'default', 'web')!;
    const report = (phase: string, startedAt: string) => ({
      pods: [{ namespace: 'default', name: 'web', uid: p.metadata.uid!, status: { phase, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: startedAt }], containerStatuses: [{ name: 'main', ready: true, restartCount: 0, state: { running: { startedAt } } }] } }],
    }) as Parameters<typeof onPodsReport>[2];
    await onPodsReport(h.ctx, 'n1', report('Running', '2026-12-02T10:00:00.000Z'));
    await h.settle();
    const stored = h.get('Pod', 'default', 'web')!;
    expect(stored.status?.phase).toBe('Running');
    await onPodsReport(h.ctx, 'n1', report('Running', '2026-12-02T10:00:00.000Z'));
    await h.settle();
    expect(h.get('Pod', 'default', 'web')!.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
    await onPodsReport(h.ctx, 'n1', report('Running', '2026-12-02T10:00:05.000Z'));
    await h.settle();
    const changed = h.get('Pod', 'default', 'web')!;
    expect(changed.metadata.resourceVersion).not.toBe(stored.metadata.resourceVersion);
    expect(changed.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBe('2026-12-02T10:00:05.000Z');
  });

  it('a `gone` report finishes the node\'s own terminating pods only, without listing every pod', async () => {
    await h.create(podWith({ name: 'mine', node: 'n1', terminationGracePeriodSeconds: 30 }));
    await h.create(podWith({ name: 'other', node: 'n2', terminationGracePeriodSeconds: 30 }));
    await h.delete('Pod', 'default', 'mine');
    await h.delete('Pod', 'default', 'other');
    await h.settle();
    const uid = (n: string) => h.get('Pod', 'default', n)!.metadata.uid!;
    const list = vi.spyOn(h.ctx.informers, 'list');
    // n1 names its own pod and n2's: only its own goes.
    await onPodsReport(h.ctx, 'n1', { pods: [], gone: [uid('mine'), uid('other')] });
    await h.settle();
    expect(list.mock.calls.filter(([kind]) => kind === 'Pod')).toEqual([]);
    expect(h.get('Pod', 'default', 'mine')).toBeUndefined();
    expect(h.get('Pod', 'default', 'other')?.metadata.deletionTimestamp).toBeDefined();
  });

  it('a `gone` report finishes the deletion even when a status write lands between its read and its delete', async () => {
    // The agent reports a pod gone once; a conflict that was swallowed left the pod Terminating for good.
    await h.create(podWith({ name: 'racy', node: 'n1', terminationGracePeriodSeconds: 30 }));
    await h.delete('Pod', 'default', 'racy');
    await h.settle();
    const uid = h.get('Pod', 'default', 'racy')!.metadata.uid!;
    const store = h.store;
    const del = store.delete.bind(store);
    let raced = 0;
    vi.spyOn(store, 'delete').mockImplementation(async (key: string, expected?: number) => {
      if (raced++ === 0) {
        const e = (await store.get<Pod>(key))!;
        await store.update(key, { ...e.value, status: { ...e.value.status, phase: 'Running' } }, e.modRevision);
      }
      return del(key, expected);
    });
    await onPodsReport(h.ctx, 'n1', { pods: [], gone: [uid] });
    await h.settle();
    expect(raced).toBe(2);
    expect(h.get('Pod', 'default', 'racy')).toBeUndefined();
  });
});
