/**
 * The volume, quota and StatefulSet controllers through their syncs, in memory (test/helpers/world.ts): no
 * agents and no scheduler — the test binds pods and sets their phases. Binding and provisioning, release and
 * reclaim, protection finalizers, quota status kept, and a StatefulSet's pods and claims.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node, PersistentVolume, PersistentVolumeClaim, Pod, ResourceQuota, StatefulSet } from '../../protocol/index.js';
import { startQuotaController } from '../../master/controllers/quota.js';
import { startStatefulSetController } from '../../master/controllers/statefulset/sync.js';
import { startVolumeController } from '../../master/controllers/volumes/binder.js';
import { startGarbageCollector } from '../../master/controllers/gc.js';
import { openWorld, type World } from '../helpers/world.js';

const node = (name: string, volumeDir?: string, ready = true): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  spec: {},
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }], nodeInfo: { architecture: 'arm64', operatingSystem: 'linux', ...(volumeDir ? { volumeDir } : {}) } },
});
const claim = (name: string, cls?: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(cls !== undefined ? { storageClassName: cls } : {}) } });
const podUsing = (name: string, claimName: string, nodeName?: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', command: ['x'] }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }], ...(nodeName ? { nodeName } : {}) },
});

describe('volume controller', () => {
  let w: World;
  const deleted: string[] = [];
  let deleterWorks = true;
  beforeEach(async () => {
    w = await openWorld();
    deleted.length = 0;
    deleterWorks = true;
    w.run((ctx) =>
      startVolumeController(ctx, async (n, v) => {
        if (!deleterWorks) throw new Error('node busy');
        deleted.push(`${n}:${v.path}`);
      }),
    );
  });
  afterEach(async () => w.close());
  const getClaim = (name: string) => w.objects.get<PersistentVolumeClaim>('PersistentVolumeClaim', 'default', name);
  const volumes = async () => (await w.objects.list<PersistentVolume>('PersistentVolume')).items;
  const select = (name: string, n: string) =>
    w.objects.mutate<PersistentVolumeClaim>('PersistentVolumeClaim', 'default', name, (c) => {
      c.metadata.annotations = { ...(c.metadata.annotations ?? {}), 'volume.kubernetes.io/selected-node': n };
      return c;
    });

  it('WaitForFirstConsumer: waits; once a node is selected, provisions there and binds', async () => {
    await w.objects.create(node('pi-1', '/data/volumes'));
    await w.objects.apply(claim('data'));
    await w.settle();
    expect((await getClaim('data'))!.status?.phase).toBe('Pending');
    expect(w.eventsOf('PersistentVolumeClaim', 'default', 'data')).toEqual(['WaitForFirstConsumer: waiting for first consumer to be created before binding']);
    expect(await volumes()).toEqual([]);
    await select('data', 'pi-1');
    await w.settle();
    const c = (await getClaim('data'))!;
    expect(c.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
    const [pv] = await volumes();
    expect(c.spec.volumeName).toBe(pv!.metadata.name);
    expect(pv!.status?.phase).toBe('Bound');
    expect(pv!.spec.hostPath!.path).toBe(`/data/volumes/pvc-${c.metadata.uid}_default_data`);
    expect(pv!.metadata.finalizers?.sort()).toEqual(['kubernetes.io/pv-protection', 'skiff.io/local-path']);
  });

  it('a released volume with reclaim Delete: its node deletes the directory, then the volume goes; retried while the node fails', async () => {
    await w.objects.create(node('pi-1', '/v'));
    await w.objects.apply(claim('data'));
    await select('data', 'pi-1');
    await w.settle();
    const [pv] = await volumes();
    deleterWorks = false;
    await w.objects.delete('PersistentVolumeClaim', 'default', 'data');
    await w.settle();
    expect(await getClaim('data')).toBeUndefined();
    const released = (await volumes())[0]!;
    expect(released.status?.phase).toBe('Released');
    expect(w.eventsOf('PersistentVolume', undefined, pv!.metadata.name).at(-1)).toMatch(/^VolumeFailedDelete: deleting \/v\/pvc-.* on node pi-1 failed: node busy$/);
    deleterWorks = true;
    // The node comes back into view (a heartbeat that changes nothing does not count: change a fact).
    await w.objects.mutate<Node>('Node', undefined, 'pi-1', (n) => ({ ...n, status: { ...n.status!, conditions: [{ type: 'Ready', status: 'False' }] } }));
    await w.settle();
    await w.objects.mutate<Node>('Node', undefined, 'pi-1', (n) => ({ ...n, status: { ...n.status!, conditions: [{ type: 'Ready', status: 'True' }] } }));
    await w.settle();
    expect(deleted).toEqual([`pi-1:${pv!.spec.hostPath!.path}`]);
    expect(await volumes()).toEqual([]);
  });

  it('Retain keeps a released volume and its directory; deleting that volume keeps the directory too', async () => {
    await w.objects.apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'keep' }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' });
    await w.objects.create(node('pi-1', '/v'));
    await w.objects.apply(claim('data', 'keep'));
    await select('data', 'pi-1');
    await w.settle();
    await w.objects.delete('PersistentVolumeClaim', 'default', 'data');
    await w.settle();
    const [pv] = await volumes();
    expect(pv!.status?.phase).toBe('Released');
    await w.objects.delete('PersistentVolume', undefined, pv!.metadata.name);
    await w.settle();
    expect(await volumes()).toEqual([]);
    expect(deleted).toEqual([]);
  });

  it('pvc-protection: a claim used by a pod stays Terminating until the pod is gone', async () => {
    await w.objects.apply(claim('data'));
    await w.objects.create(podUsing('p', 'data'));
    await w.objects.delete('PersistentVolumeClaim', 'default', 'data');
    await w.settle();
    expect((await getClaim('data'))!.metadata.deletionTimestamp).toBeDefined();
    await w.objects.delete('Pod', 'default', 'p');
    await w.settle();
    expect(await getClaim('data')).toBeUndefined();
  });

  it('pv-protection: a bound volume stays until its claim lets it go', async () => {
    await w.objects.create(node('pi-1', '/v'));
    await w.objects.apply(claim('data'));
    await select('data', 'pi-1');
    await w.settle();
    const [pv] = await volumes();
    await w.objects.delete('PersistentVolume', undefined, pv!.metadata.name);
    await w.settle();
    expect((await volumes())[0]!.metadata.deletionTimestamp).toBeDefined();
    await w.objects.delete('PersistentVolumeClaim', 'default', 'data');
    await w.settle();
    expect(await volumes()).toEqual([]);
    expect(deleted).toHaveLength(1);
  });

  it('binds a volume an administrator made (static, no class), the smallest that fits', async () => {
    for (const [name, size] of [['big', '10Gi'], ['small', '2Gi']])
      await w.objects.apply({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: `/srv/${name}` } } });
    await w.objects.apply(claim('data', ''));
    await w.settle();
    expect((await getClaim('data'))!.spec.volumeName).toBe('small');
    expect((await w.objects.get<PersistentVolume>('PersistentVolume', undefined, 'small'))!.spec.claimRef).toMatchObject({ namespace: 'default', name: 'data' });
    expect((await w.objects.get<PersistentVolume>('PersistentVolume', undefined, 'big'))!.status?.phase).toBe('Available');
  });

  it.each([
    ['a node whose agent tells no volume dir', () => node('pi-1'), 'default', /^ProvisioningFailed: node "pi-1" does not report a volume directory/],
    ['local-path with Immediate binding', () => node('pi-1', '/v'), 'now', /^ProvisioningFailed: configuration error, no node was specified/],
  ])('says why it cannot provision: %s', async (_, mk, cls, why) => {
    await w.objects.apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'now' }, provisioner: 'rancher.io/local-path', volumeBindingMode: 'Immediate' });
    await w.objects.create(mk());
    await w.objects.apply(claim('data', cls === 'default' ? undefined : cls));
    if (cls === 'default') await select('data', 'pi-1');
    await w.settle();
    expect(w.eventsOf('PersistentVolumeClaim', 'default', 'data').at(-1)).toMatch(why);
    expect(await volumes()).toEqual([]);
  });
});

describe('quota controller', () => {
  let w: World;
  beforeEach(async () => {
    w = await openWorld();
    w.run(startQuotaController);
  });
  afterEach(async () => w.close());

  it('gives usage back when a pod finishes or goes, and counts pods made before the quota', async () => {
    await w.objects.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'early', namespace: 'default' }, spec: { containers: [{ name: 'c', command: ['x'], resources: { requests: { cpu: '1' } } }] } });
    await w.objects.apply({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { 'requests.cpu': '4', pods: '4' } } });
    await w.objects.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'job', namespace: 'default' }, spec: { containers: [{ name: 'c', command: ['x'], resources: { requests: { cpu: '2' } } }] } });
    await w.settle();
    const used = async () => (await w.objects.get<ResourceQuota>('ResourceQuota', 'default', 'q'))!.status?.used;
    expect(await used()).toEqual({ 'requests.cpu': '3', pods: '2' });
    await w.objects.mutate<Pod>('Pod', 'default', 'job', (p) => ({ ...p, status: { phase: 'Succeeded' } }));
    await w.settle();
    expect(await used()).toEqual({ 'requests.cpu': '1', pods: '1' });
    await w.objects.delete('Pod', 'default', 'early', { force: true });
    await w.settle();
    expect(await used()).toEqual({ 'requests.cpu': '0', pods: '0' });
  });
});

describe('StatefulSet controller', () => {
  let w: World;
  beforeEach(async () => {
    w = await openWorld();
    w.run(startStatefulSetController);
    w.run(startGarbageCollector);
    w.run((ctx) => startVolumeController(ctx, async () => {}));
  });
  afterEach(async () => w.close());
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
    for (const p of (await w.objects.list<Pod>('Pod', 'default')).items)
      if (p.status?.phase !== 'Running' && !p.metadata.deletionTimestamp)
        await w.objects.mutate<Pod>('Pod', 'default', p.metadata.name, (x) => ({ ...x, spec: { ...x.spec, nodeName: 'pi-1' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] } }));
    await w.settle();
  };
  const names = async (kind: string) => (await w.objects.list(kind, 'default')).items.filter((o) => !o.metadata.deletionTimestamp).map((o) => o.metadata.name).sort();

  it('makes each claim, then its pod, one ordinal at a time; reports status', async () => {
    await w.objects.apply(set(2));
    await w.settle();
    expect(await names('Pod')).toEqual(['db-0']);
    expect(await names('PersistentVolumeClaim')).toEqual(['data-db-0']);
    await allReady();
    expect(await names('Pod')).toEqual(['db-0', 'db-1']);
    await allReady();
    const s = (await w.objects.get<StatefulSet>('StatefulSet', 'default', 'db'))!;
    expect(s.status).toMatchObject({ replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2, currentReplicas: 2 });
    expect(w.eventsOf('StatefulSet', 'default', 'db')).toEqual([
      'SuccessfulCreate: create Claim data-db-0 Pod db-0 in StatefulSet db success',
      'SuccessfulCreate: create Pod db-0 in StatefulSet db successful',
      'SuccessfulCreate: create Claim data-db-1 Pod db-1 in StatefulSet db success',
      'SuccessfulCreate: create Pod db-1 in StatefulSet db successful',
    ]);
  });

  it('whenScaled: Delete — a removed pod\'s claim goes with it; Retain keeps it', async () => {
    await w.objects.apply(set(2, { whenScaled: 'Delete' }));
    await w.settle();
    await allReady();
    await allReady();
    await w.objects.apply(set(1, { whenScaled: 'Delete' }));
    await w.settle();
    // The pod is marked for deletion (no node to confirm it here): its claim now names it as owner.
    const c = (await w.objects.get<PersistentVolumeClaim>('PersistentVolumeClaim', 'default', 'data-db-1'))!;
    expect(c.metadata.ownerReferences).toMatchObject([{ kind: 'Pod', name: 'db-1' }]);
    await w.objects.finishPodDeletion('default', 'db-1');
    await w.settle();
    expect(await names('PersistentVolumeClaim')).toEqual(['data-db-0']);
  });

  it('whenDeleted: Delete — the claims go with the set', async () => {
    await w.objects.apply(set(1, { whenDeleted: 'Delete' }));
    await w.settle();
    await allReady();
    expect((await w.objects.get<PersistentVolumeClaim>('PersistentVolumeClaim', 'default', 'data-db-0'))!.metadata.ownerReferences).toMatchObject([{ kind: 'StatefulSet', name: 'db', controller: false }]);
    await w.objects.delete('StatefulSet', 'default', 'db');
    await w.settle();
    for (const p of (await w.objects.list<Pod>('Pod', 'default')).items) await w.objects.finishPodDeletion('default', p.metadata.name);
    await w.settle();
    expect(await names('PersistentVolumeClaim')).toEqual([]);
  });

  it('a quota that refuses a pod: the set says why and waits (no failing sync)', async () => {
    await w.objects.apply({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { pods: '1' } } });
    await w.objects.apply(set(2));
    await w.settle();
    await allReady();
    expect(await names('Pod')).toEqual(['db-0']);
    expect(w.eventsOf('StatefulSet', 'default', 'db').at(-1)).toBe('Warning: create Pod db-1 in StatefulSet db failed error: pods "db-1" is forbidden: exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1'.replace('Warning: ', 'FailedCreate: '));
  });
});
