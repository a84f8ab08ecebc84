/**
 * The StatefulSet controller through its sync loop, in memory (the harness, with the master's admission, the
 * history controller making ControllerRevisions and the garbage collector): ordered creation and reverse
 * scale-down one pod at a time (OrderedReady) or all at once (Parallel), a rolling update from the highest
 * ordinal down to the partition, OnDelete, each pod's claim made before it, the claim retention policies, a quota
 * that refuses a pod. The test plays the scheduler and the agents (bind, Ready, confirm a stop). The plan itself
 * is table-tested in test/unit/statefulset.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod, StatefulSet } from '../../protocol/index.js';
import { startGarbageCollector } from '../../master/controllers/gc.js';
import { startHistoryController } from '../../master/controllers/history.js';
import { startStatefulSetController } from '../../master/controllers/statefulset/sync.js';
import { startVolumeController } from '../../master/controllers/volumes/binder.js';
import { harness, type Harness } from './harness.js';

type Policy = 'OrderedReady' | 'Parallel';

/** A StatefulSet `web` of process pods, VERSION=`version`. */
function stsWith(o: { replicas: number; policy?: Policy; partition?: number; onDelete?: boolean; version?: string }): StatefulSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: o.replicas,
      serviceName: 'web',
      podManagementPolicy: o.policy ?? 'OrderedReady',
      selector: { matchLabels: { app: 'web' } },
      updateStrategy: o.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: o.partition ?? 0 } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', command: ['sleep', '600'], env: [{ name: 'VERSION', value: o.version ?? 'v1' }] }] } },
    },
  };
}

const version = (p: Pod) => p.spec.containers[0]!.env?.find((e) => e.name === 'VERSION')?.value;

describe('StatefulSet controller: order, policies, partitioned updates', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ admission: true });
    await h.run(startStatefulSetController);
    await h.run(startHistoryController);
  });
  afterEach(() => h.stop());

  /** The set's pods, by name: `web-0 v1`, with ` (terminating)` for one being deleted. */
  const pods = () =>
    h
      .pods({ app: 'web' })
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((p) => `${p.metadata.name} ${version(p)}${p.metadata.deletionTimestamp ? ' (terminating)' : ''}`);
  const live = () => h.pods({ app: 'web' }).filter((p) => !p.metadata.deletionTimestamp);
  /** Plays the scheduler and the agents: every live pod bound and Running and Ready. */
  const allReady = async () => {
    const unbound = live().filter((p) => !p.spec.nodeName);
    if (unbound.length) await h.bind(unbound, 'n1');
    await h.setReady(live().filter((p) => p.status?.phase !== 'Running'));
  };
  /** Plays the agents confirming that every terminating pod stopped. */
  const stopped = () => h.confirmStopped(h.pods({ app: 'web' }).filter((p) => p.metadata.deletionTimestamp));
  const apply = async (s: StatefulSet) => {
    await h.objects.apply(s);
    await h.settle();
  };

  it.each<[Policy, string[][]]>([
    // OrderedReady: one pod at a time, each after the one before it is Running and Ready.
    ['OrderedReady', [['web-0 v1'], ['web-0 v1', 'web-1 v1'], ['web-0 v1', 'web-1 v1', 'web-2 v1']]],
    // Parallel: every pod at once.
    ['Parallel', [['web-0 v1', 'web-1 v1', 'web-2 v1'], ['web-0 v1', 'web-1 v1', 'web-2 v1'], ['web-0 v1', 'web-1 v1', 'web-2 v1']]],
  ])('%s: creates pods in order — after each round of readiness: %j', async (policy, rounds) => {
    await apply(stsWith({ replicas: 3, policy }));
    for (const want of rounds) {
      expect(pods()).toEqual(want);
      await allReady();
    }
    expect(h.get('StatefulSet', 'default', 'web')!.status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3 });
  });

  it.each<[Policy, string[][]]>([
    // OrderedReady: the highest ordinal goes first, the next only once it is gone.
    ['OrderedReady', [['web-0 v1', 'web-1 v1', 'web-2 v1', 'web-3 v1 (terminating)'], ['web-0 v1', 'web-1 v1', 'web-2 v1 (terminating)'], ['web-0 v1', 'web-1 v1']]],
    // Parallel: every pod beyond the replicas at once.
    ['Parallel', [['web-0 v1', 'web-1 v1', 'web-2 v1 (terminating)', 'web-3 v1 (terminating)'], ['web-0 v1', 'web-1 v1']]],
  ])('%s: scales down from the highest ordinal — after each confirmed stop: %j', async (policy, rounds) => {
    await apply(stsWith({ replicas: 4, policy }));
    for (let i = 0; i < 4; i++) await allReady();
    await apply(stsWith({ replicas: 2, policy }));
    for (const want of rounds) {
      expect(pods()).toEqual(want);
      await stopped();
    }
    expect(h.messages('StatefulSet', 'default', 'web').filter((m) => m.startsWith('SuccessfulDelete'))).toEqual([
      'SuccessfulDelete: delete Pod web-3 in StatefulSet web successful',
      'SuccessfulDelete: delete Pod web-2 in StatefulSet web successful',
    ]);
  });

  it('OrderedReady: an unready pod holds a scale-down; Parallel does not wait for it', async () => {
    await apply(stsWith({ replicas: 3 }));
    for (let i = 0; i < 3; i++) await allReady();
    await h.setReady(live().filter((p) => p.metadata.name === 'web-0'), false);
    await apply(stsWith({ replicas: 2 }));
    expect(pods()).toEqual(['web-0 v1', 'web-1 v1', 'web-2 v1']);
    await apply(stsWith({ replicas: 2, policy: 'Parallel' }));
    expect(pods()).toEqual(['web-0 v1', 'web-1 v1', 'web-2 v1 (terminating)']);
  });

  it.each<[string, number, string[][]]>([
    // partition 0: every pod, highest ordinal first, one at a time (maxUnavailable 1), each only once the pod
    // updated before it is Running and Ready. The states alternate: after a stop is confirmed, after pods are Ready.
    [
      'partition 0',
      0,
      [
        ['web-0 v1', 'web-1 v1', 'web-2 v1 (terminating)'],
        ['web-0 v1', 'web-1 v1', 'web-2 v2'],
        ['web-0 v1', 'web-1 v1 (terminating)', 'web-2 v2'],
        ['web-0 v1', 'web-1 v2', 'web-2 v2'],
        ['web-0 v1 (terminating)', 'web-1 v2', 'web-2 v2'],
        ['web-0 v2', 'web-1 v2', 'web-2 v2'],
        ['web-0 v2', 'web-1 v2', 'web-2 v2'],
      ],
    ],
    // partition 2: only the ordinals ≥ 2 are updated; the others stay at the current revision.
    ['partition 2', 2, [['web-0 v1', 'web-1 v1', 'web-2 v1 (terminating)'], ['web-0 v1', 'web-1 v1', 'web-2 v2'], ['web-0 v1', 'web-1 v1', 'web-2 v2']]],
  ])('rolling update, %s', async (_name, partition, states) => {
    await apply(stsWith({ replicas: 3, partition }));
    for (let i = 0; i < 3; i++) await allReady();
    await apply(stsWith({ replicas: 3, partition, version: 'v2' }));
    for (const [i, want] of states.entries()) {
      expect(pods()).toEqual(want);
      await (i % 2 === 0 ? stopped() : allReady());
    }
    const s = h.get('StatefulSet', 'default', 'web')!.status!;
    expect(s.updatedReplicas).toBe(3 - partition);
    expect(s.currentRevision === s.updateRevision).toBe(partition === 0);
  });

  it('a pod below the partition deleted by hand comes back at the current revision; lowering the partition rolls it', async () => {
    await apply(stsWith({ replicas: 3, partition: 2 }));
    for (let i = 0; i < 3; i++) await allReady();
    await apply(stsWith({ replicas: 3, partition: 2, version: 'v2' }));
    await stopped();
    await allReady();
    await h.delete('Pod', 'default', 'web-0');
    await stopped();
    expect(pods()).toEqual(['web-0 v1', 'web-1 v1', 'web-2 v2']);
    await allReady();
    await apply(stsWith({ replicas: 3, partition: 0, version: 'v2' }));
    for (let i = 0; i < 2; i++) {
      await stopped();
      await allReady();
    }
    expect(pods()).toEqual(['web-0 v2', 'web-1 v2', 'web-2 v2']);
  });

  it('OnDelete: a new template changes no pod until the user deletes it', async () => {
    await apply(stsWith({ replicas: 2, onDelete: true }));
    for (let i = 0; i < 2; i++) await allReady();
    await apply(stsWith({ replicas: 2, onDelete: true, version: 'v2' }));
    expect(pods()).toEqual(['web-0 v1', 'web-1 v1']);
    await h.delete('Pod', 'default', 'web-1');
    await stopped();
    expect(pods()).toEqual(['web-0 v1', 'web-1 v2']);
  });

  it('a Failed pod is replaced under the same name', async () => {
    await apply(stsWith({ replicas: 2 }));
    for (let i = 0; i < 2; i++) await allReady();
    const before = live().find((p) => p.metadata.name === 'web-1')!;
    await h.setPhase([before], 'Failed');
    await stopped();
    const after = live().find((p) => p.metadata.name === 'web-1')!;
    expect(after.metadata.uid).not.toBe(before.metadata.uid);
    expect(pods()).toEqual(['web-0 v1', 'web-1 v1']);
  });
});

describe('StatefulSet controller: claims', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ admission: true });
    await h.run(startStatefulSetController);
    await h.run(startGarbageCollector);
    await h.run((ctx) => startVolumeController(ctx, async () => {}));
  });
  afterEach(() => h.stop());
  const set = (replicas: number, retention: object = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db' },
    spec: {
      replicas,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      persistentVolumeClaimRetentionPolicy: retention,
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', command: ['x'], volumeMounts: [{ name: 'data', mountPath: 'd' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  });
  /** Plays the kubelet: every pod of the set is Running and Ready. */
  const allReady = async () => {
    for (const p of (await h.objects.list('Pod', 'default')).items)
      if (p.status?.phase !== 'Running' && !p.metadata.deletionTimestamp)
        await h.objects.mutate('Pod', 'default', p.metadata.name, (x) => ({ ...x, spec: { ...x.spec, nodeName: 'pi-1' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] } }));
    await h.settle();
  };
  const names = async (kind: string) => (await h.objects.list(kind, 'default')).items.filter((o) => !o.metadata.deletionTimestamp).map((o) => o.metadata.name).sort();

  it('makes each claim, then its pod, one ordinal at a time; reports status', async () => {
    await h.objects.apply(set(2));
    await h.settle();
    expect(await names('Pod')).toEqual(['db-0']);
    expect(await names('PersistentVolumeClaim')).toEqual(['data-db-0']);
    await allReady();
    expect(await names('Pod')).toEqual(['db-0', 'db-1']);
    await allReady();
    const s = (await h.objects.get('StatefulSet', 'default', 'db'))!;
    expect(s.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2, currentReplicas: 2 });
    expect(h.messages('StatefulSet', 'default', 'db')).toEqual([
      'SuccessfulCreate: create Claim data-db-0 Pod db-0 in StatefulSet db success',
      'SuccessfulCreate: create Pod db-0 in StatefulSet db successful',
      'SuccessfulCreate: create Claim data-db-1 Pod db-1 in StatefulSet db success',
      'SuccessfulCreate: create Pod db-1 in StatefulSet db successful',
    ]);
  });

  it('whenScaled: Delete — a removed pod\'s claim goes with it; Retain keeps it', async () => {
    await h.objects.apply(set(2, { whenScaled: 'Delete' }));
    await h.settle();
    await allReady();
    await allReady();
    await h.objects.apply(set(1, { whenScaled: 'Delete' }));
    await h.settle();
    // The pod is marked for deletion (no node to confirm it here): its claim now names it as owner.
    const c = (await h.objects.get('PersistentVolumeClaim', 'default', 'data-db-1'))!;
    expect(c.metadata.ownerReferences).toMatchObject([{ kind: 'Pod', name: 'db-1' }]);
    await h.objects.finishPodDeletion('default', 'db-1');
    await h.settle();
    expect(await names('PersistentVolumeClaim')).toEqual(['data-db-0']);
  });

  it('whenDeleted: Delete — the claims go with the set', async () => {
    await h.objects.apply(set(1, { whenDeleted: 'Delete' }));
    await h.settle();
    await allReady();
    expect((await h.objects.get('PersistentVolumeClaim', 'default', 'data-db-0'))!.metadata.ownerReferences).toMatchObject([{ kind: 'StatefulSet', name: 'db', controller: false }]);
    await h.objects.delete('StatefulSet', 'default', 'db');
    await h.settle();
    for (const p of (await h.objects.list('Pod', 'default')).items) await h.objects.finishPodDeletion('default', p.metadata.name);
    await h.settle();
    expect(await names('PersistentVolumeClaim')).toEqual([]);
  });

  it('a quota that refuses a pod: the set says why and waits (no failing sync)', async () => {
    await h.objects.apply({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods: '1' } } });
    await h.objects.apply(set(2));
    await h.settle();
    await allReady();
    expect(await names('Pod')).toEqual(['db-0']);
    expect(h.messages('StatefulSet', 'default', 'db').at(-1)).toBe('Warning: create Pod db-1 in StatefulSet db failed error: pods "db-1" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1'.replace('Warning: ', 'FailedCreate: '));
  });
});
