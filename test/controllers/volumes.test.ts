/**
 * The volume controller through its sync, in memory (the harness, with the master's admission): binding and
 * provisioning, release and reclaim, the protection finalizers, and why a claim cannot be provisioned. No agents:
 * the test selects nodes and plays the node that deletes a directory.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '../../protocol/index.js';
import { startVolumeController } from '../../master/controllers/volumes/binder.js';
import { harness, type Harness } from './harness.js';

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
  let h: Harness;
  const deleted: string[] = [];
  let deleterWorks = true;
  beforeEach(async () => {
    h = await harness({ admission: true });
    deleted.length = 0;
    deleterWorks = true;
    await h.run((ctx) =>
      startVolumeController(ctx, async (n, v) => {
        if (!deleterWorks) throw new Error('node busy');
        deleted.push(`${n}:${v.path}`);
      }),
    );
  });
  afterEach(() => h.stop());
  const getClaim = (name: string) => h.objects.get('PersistentVolumeClaim', 'default', name);
  const volumes = async () => (await h.objects.list('PersistentVolume')).items;
  const select = (name: string, n: string) =>
    h.objects.mutate('PersistentVolumeClaim', 'default', name, (c) => {
      c.metadata.annotations = { ...(c.metadata.annotations ?? {}), 'volume.kubernetes.io/selected-node': n };
      return c;
    });

  it('WaitForFirstConsumer: waits; once a node is selected, provisions there and binds', async () => {
    await h.objects.create(node('pi-1', '/data/volumes'));
    await h.objects.apply(claim('data'));
    await h.settle();
    expect((await getClaim('data'))!.status?.phase).toBe('Pending');
    expect(h.messages('PersistentVolumeClaim', 'default', 'data')).toEqual(['WaitForFirstConsumer: waiting for first consumer to be created before binding']);
    expect(await volumes()).toEqual([]);
    await select('data', 'pi-1');
    await h.settle();
    const c = (await getClaim('data'))!;
    expect(c.status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
    const [pv] = await volumes();
    expect(c.spec.volumeName).toBe(pv!.metadata.name);
    expect(pv!.status?.phase).toBe('Bound');
    expect(pv!.spec.hostPath!.path).toBe(`/data/volumes/pvc-${c.metadata.uid}_default_data`);
    expect(pv!.metadata.finalizers?.sort()).toEqual(['kubernetes.io/pv-protection', 'skiff.io/local-path']);
  });

  it('a released volume with reclaim Delete: its node deletes the directory, then the volume goes; retried while the node fails', async () => {
    await h.objects.create(node('pi-1', '/v'));
    await h.objects.apply(claim('data'));
    await select('data', 'pi-1');
    await h.settle();
    const [pv] = await volumes();
    deleterWorks = false;
    await h.objects.delete('PersistentVolumeClaim', 'default', 'data');
    await h.settle();
    expect(await getClaim('data')).toBeUndefined();
    const released = (await volumes())[0]!;
    expect(released.status?.phase).toBe('Released');
    expect(h.messages('PersistentVolume', undefined, pv!.metadata.name).at(-1)).toMatch(/^VolumeFailedDelete: deleting \/v\/pvc-.* on node pi-1 failed: node busy$/);
    deleterWorks = true;
    // The node comes back into view (a heartbeat that changes nothing does not count: change a fact).
    await h.objects.mutate('Node', undefined, 'pi-1', (n) => ({ ...n, status: { ...n.status!, conditions: [{ type: 'Ready', status: 'False' }] } }));
    await h.settle();
    await h.objects.mutate('Node', undefined, 'pi-1', (n) => ({ ...n, status: { ...n.status!, conditions: [{ type: 'Ready', status: 'True' }] } }));
    await h.settle();
    expect(deleted).toEqual([`pi-1:${pv!.spec.hostPath!.path}`]);
    expect(await volumes()).toEqual([]);
  });

  it('Retain keeps a released volume and its directory; deleting that volume keeps the directory too', async () => {
    await h.objects.apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'keep' }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' });
    await h.objects.create(node('pi-1', '/v'));
    await h.objects.apply(claim('data', 'keep'));
    await select('data', 'pi-1');
    await h.settle();
    await h.objects.delete('PersistentVolumeClaim', 'default', 'data');
    await h.settle();
    const [pv] = await volumes();
    expect(pv!.status?.phase).toBe('Released');
    await h.objects.delete('PersistentVolume', undefined, pv!.metadata.name);
    await h.settle();
    expect(await volumes()).toEqual([]);
    expect(deleted).toEqual([]);
  });

  it('pvc-protection: a claim used by a pod stays Terminating until the pod is gone', async () => {
    await h.objects.apply(claim('data'));
    await h.objects.create(podUsing('p', 'data'));
    await h.objects.delete('PersistentVolumeClaim', 'default', 'data');
    await h.settle();
    expect((await getClaim('data'))!.metadata.deletionTimestamp).toBeDefined();
    await h.objects.delete('Pod', 'default', 'p');
    await h.settle();
    expect(await getClaim('data')).toBeUndefined();
  });

  it('pv-protection: a bound volume stays until its claim lets it go', async () => {
    await h.objects.create(node('pi-1', '/v'));
    await h.objects.apply(claim('data'));
    await select('data', 'pi-1');
    await h.settle();
    const [pv] = await volumes();
    await h.objects.delete('PersistentVolume', undefined, pv!.metadata.name);
    await h.settle();
    expect((await volumes())[0]!.metadata.deletionTimestamp).toBeDefined();
    await h.objects.delete('PersistentVolumeClaim', 'default', 'data');
    await h.settle();
    expect(await volumes()).toEqual([]);
    expect(deleted).toHaveLength(1);
  });

  it('binds a volume an administrator made (static, no class), the smallest that fits', async () => {
    for (const [name, size] of [['big', '10Gi'], ['small', '2Gi']])
      await h.objects.apply({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: `/srv/${name}` } } });
    await h.objects.apply(claim('data', ''));
    await h.settle();
    expect((await getClaim('data'))!.spec.volumeName).toBe('small');
    expect((await h.objects.get('PersistentVolume', undefined, 'small'))!.spec.claimRef).toMatchObject({ namespace: 'default', name: 'data' });
    expect((await h.objects.get('PersistentVolume', undefined, 'big'))!.status?.phase).toBe('Available');
  });

  it.each([
    ['a node whose agent tells no volume dir', () => node('pi-1'), 'default', /^ProvisioningFailed: node "pi-1" does not report a volume directory/],
    ['local-path with Immediate binding', () => node('pi-1', '/v'), 'now', /^ProvisioningFailed: configuration error, no node was specified/],
  ])('says why it cannot provision: %s', async (_, mk, cls, why) => {
    await h.objects.apply({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'now' }, provisioner: 'rancher.io/local-path', volumeBindingMode: 'Immediate' });
    await h.objects.create(mk());
    await h.objects.apply(claim('data', cls === 'default' ? undefined : cls));
    if (cls === 'default') await select('data', 'pi-1');
    await h.settle();
    expect(h.messages('PersistentVolumeClaim', 'default', 'data').at(-1)).toMatch(why);
    expect(await volumes()).toEqual([]);
  });
});

