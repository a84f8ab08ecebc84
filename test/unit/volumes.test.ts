/**
 * The volume rules, table by table: which volume a claim binds to, what a claim's state means for scheduling
 * its pod, how volume node affinity is ANDed into a pod's, what local-path provisions, how a volume is
 * reclaimed, and which directories an agent agrees to delete.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeObject, type Node, type NodeSelectorRequirement, type PersistentVolume, type PersistentVolumeClaim, type Pod, type StorageClass } from '../../protocol/index.js';
import { localPathStorageClass, provisionedVolume } from '../../master/controllers/volumes/local-path.js';
import { claimInUse, claimPlacement, matchVolume } from '../../master/controllers/volumes/match.js';
import { nodeOfVolume, reclaimDirectory } from '../../master/controllers/volumes/reclaim.js';
import { andTerms, enginePod } from '../../master/scheduler/convert.js';
import { deleteVolume, volumeTarget } from '../../edge-agent/rpc/volume.js';

function claimWith(o: { storage?: string; modes?: string[]; cls?: string | null; volumeName?: string; phase?: string; selector?: object; node?: string; deleting?: boolean } = {}): PersistentVolumeClaim {
  const c = normalizeObject({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default', ...(o.node ? { annotations: { 'volume.kubernetes.io/selected-node': o.node } } : {}) },
    spec: {
      accessModes: o.modes ?? ['ReadWriteOnce'],
      resources: { requests: { storage: o.storage ?? '1Gi' } },
      ...(o.cls === null ? {} : { storageClassName: o.cls ?? 'local-path' }),
      ...(o.volumeName ? { volumeName: o.volumeName } : {}),
      ...(o.selector ? { selector: o.selector } : {}),
    },
  }) as PersistentVolumeClaim;
  c.metadata.uid = 'claim-uid';
  if (o.phase) c.status = { phase: o.phase as 'Bound' };
  if (o.deleting) c.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  return c;
}

function volumeWith(name: string, o: { storage?: string; modes?: string[]; cls?: string; node?: string; claimRef?: object; labels?: Record<string, string>; phase?: string } = {}): PersistentVolume {
  const v = normalizeObject({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      capacity: { storage: o.storage ?? '1Gi' },
      accessModes: o.modes ?? ['ReadWriteOnce'],
      storageClassName: o.cls ?? 'local-path',
      hostPath: { path: `/srv/${name}` },
      ...(o.node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.node] }] }] } } } : {}),
      ...(o.claimRef ? { claimRef: o.claimRef } : {}),
    },
  }) as PersistentVolume;
  if (o.phase) v.status = { phase: o.phase as 'Available' };
  return v;
}

describe('matchVolume (the PV controller\'s choice)', () => {
  const cases: [string, PersistentVolumeClaim, PersistentVolume[], Record<string, string> | undefined, string | undefined][] = [
    ['the smallest volume that fits', claimWith({ storage: '2Gi' }), [volumeWith('big', { storage: '10Gi' }), volumeWith('small', { storage: '1Gi' }), volumeWith('mid', { storage: '3Gi' })], undefined, 'mid'],
    ['a volume reserved for the claim, whatever else fits', claimWith(), [volumeWith('free'), volumeWith('mine', { storage: '5Gi', claimRef: { namespace: 'default', name: 'data' } })], undefined, 'mine'],
    ['not one reserved for another uid of that name', claimWith(), [volumeWith('theirs', { claimRef: { namespace: 'default', name: 'data', uid: 'other' } })], undefined, undefined],
    ['not another class', claimWith({ cls: 'fast' }), [volumeWith('slow', { cls: 'slow' })], undefined, undefined],
    ['"" matches only volumes without a class', claimWith({ cls: '' }), [volumeWith('classy'), volumeWith('plain', { cls: '' })], undefined, 'plain'],
    ['every access mode asked', claimWith({ modes: ['ReadWriteOnce', 'ReadOnlyMany'] }), [volumeWith('rwo'), volumeWith('both', { modes: ['ReadWriteOnce', 'ReadOnlyMany'] })], undefined, 'both'],
    ['the claim\'s selector', claimWith({ selector: { matchLabels: { disk: 'ssd' } } }), [volumeWith('hdd', { labels: { disk: 'hdd' } }), volumeWith('ssd', { labels: { disk: 'ssd' } })], undefined, 'ssd'],
    ['not a Released volume', claimWith(), [volumeWith('old', { phase: 'Released' })], undefined, undefined],
    ['from a node: only volumes usable there', claimWith(), [volumeWith('there', { node: 'pi-2' }), volumeWith('here', { node: 'pi-1', storage: '2Gi' })], { 'kubernetes.io/hostname': 'pi-1' }, 'here'],
  ];
  it.each(cases)('%s', (_, claim, volumes, node, want) => {
    expect(matchVolume(claim, volumes, node)?.metadata.name).toBe(want);
  });
});

describe('claimPlacement (what a claim means for its pod\'s scheduling)', () => {
  const wffc = localPathStorageClass();
  const immediate: StorageClass = { ...localPathStorageClass(), metadata: { name: 'now' }, volumeBindingMode: 'Immediate' };
  const classes = (n: string) => (n === 'local-path' ? wffc : n === 'now' ? immediate : undefined);
  const bound = volumeWith('pv-1', { node: 'pi-1' });
  const volumes = (n: string) => (n === 'pv-1' ? bound : undefined);
  const cases: [string, PersistentVolumeClaim | undefined, object][] = [
    ['missing', undefined, { kind: 'blocked', reason: 'persistentvolumeclaim "data" not found' }],
    ['being deleted', claimWith({ deleting: true }), { kind: 'blocked', reason: 'persistentvolumeclaim "data" is being deleted' }],
    ['bound: the volume\'s node affinity', claimWith({ volumeName: 'pv-1', phase: 'Bound' }), { kind: 'bound', terms: [[{ key: 'kubernetes.io/hostname', operator: 'In', values: ['pi-1'] }]] }],
    ['bound to a volume that is gone', claimWith({ volumeName: 'pv-9', phase: 'Bound' }), { kind: 'blocked', reason: 'persistentvolumeclaim "data" bound to non-existent persistentvolume "pv-9"' }],
    ['WaitForFirstConsumer, no node yet: anywhere', claimWith(), { kind: 'waiting', node: undefined }],
    ['WaitForFirstConsumer, node selected: there', claimWith({ node: 'pi-2' }), { kind: 'waiting', node: 'pi-2' }],
    ['Immediate and unbound: not yet', claimWith({ cls: 'now' }), { kind: 'blocked', reason: 'pod has unbound immediate PersistentVolumeClaims' }],
  ];
  it.each(cases)('%s', (_, claim, want) => expect(claimPlacement('data', claim, volumes, classes)).toEqual(want));

  it('a claim is in use while a pod that has not finished names it', () => {
    const pod = (phase: string, ns = 'default'): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns }, spec: { containers: [], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: 'data' } }] }, status: { phase: phase as 'Running' } });
    const c = claimWith();
    expect(claimInUse(c, [pod('Running')])).toBe(true);
    expect(claimInUse(c, [pod('Pending')])).toBe(true);
    expect(claimInUse(c, [pod('Succeeded'), pod('Failed')])).toBe(false);
    expect(claimInUse(c, [pod('Running', 'other')])).toBe(false);
  });
});

describe('andTerms (a volume\'s node affinity joins the pod\'s)', () => {
  const r = (key: string, v: string): NodeSelectorRequirement => ({ key, operator: 'In', values: [v] });
  const cases: [string, NodeSelectorRequirement[][] | undefined, NodeSelectorRequirement[][][], NodeSelectorRequirement[][] | undefined][] = [
    ['nothing stays nothing', undefined, [], undefined],
    ['the pod\'s own terms alone', [[r('zone', 'a')]], [], [[r('zone', 'a')]]],
    ['only the volume\'s', undefined, [[[r('host', 'pi-1')]]], [[r('host', 'pi-1')]]],
    ['each ORed term of the pod gets the volume\'s', [[r('zone', 'a')], [r('zone', 'b')]], [[[r('host', 'pi-1')]]], [[r('zone', 'a'), r('host', 'pi-1')], [r('zone', 'b'), r('host', 'pi-1')]]],
    ['two volumes: both', undefined, [[[r('host', 'pi-1')]], [[r('disk', 'ssd')]]], [[r('host', 'pi-1'), r('disk', 'ssd')]]],
  ];
  it.each(cases)('%s', (_, base, more, want) => expect(andTerms(base, more)).toEqual(want));

  it('enginePod carries them as required node terms', () => {
    const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', command: ['x'] }] } };
    expect(enginePod(pod, [[[r('kubernetes.io/hostname', 'pi-1')]]]).requiredNodeTerms).toEqual([[r('kubernetes.io/hostname', 'pi-1')]]);
    expect(enginePod(pod).requiredNodeTerms).toBeUndefined();
  });
});

describe('local-path provisioning and reclaim', () => {
  const claim = claimWith({ node: 'pi-1' });

  it('provisions a directory on the selected node, pinned there, pre-bound to the claim', () => {
    const pv = provisionedVolume(claim, localPathStorageClass(), 'pi-1', '/var/lib/skiff/volumes/');
    expect(pv.metadata).toMatchObject({ name: 'pvc-claim-uid', annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' }, finalizers: ['skiff.io/local-path'] });
    expect(pv.spec).toMatchObject({
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'local-path',
      hostPath: { path: '/var/lib/skiff/volumes/pvc-claim-uid_default_data', type: 'DirectoryOrCreate' },
      claimRef: { kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'claim-uid' },
    });
    expect(nodeOfVolume(pv)).toBe('pi-1');
    expect(normalizeObject(pv)).toBeTruthy(); // what it provisions passes validation
    const retain = provisionedVolume(claim, { ...localPathStorageClass(), reclaimPolicy: 'Retain' }, 'pi-1', '/v');
    expect(retain.metadata.finalizers).toBeUndefined();
  });

  const node = (ready: boolean): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-1' }, spec: {}, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
  const pv = provisionedVolume(claim, localPathStorageClass(), 'pi-1', '/v');
  const cases: [string, PersistentVolume, Node | undefined, boolean, object][] = [
    ['Delete, node Ready: the node deletes it', pv, node(true), true, { deleted: true, message: 'Deleted directory /v/pvc-claim-uid_default_data on node pi-1' }],
    ['Delete, the node failed: again later', pv, node(true), false, { deleted: false, retryAfterMs: 10_000 }],
    ['Delete, node not Ready: again later, nothing asked', pv, node(false), true, { deleted: false, retryAfterMs: 10_000, message: 'node "pi-1" is not Ready: deleting /v/pvc-claim-uid_default_data waits for it' }],
    ['Delete, node gone: left behind, said', pv, undefined, true, { deleted: false, message: 'node "pi-1" no longer exists: directory /v/pvc-claim-uid_default_data was not deleted' }],
    ['Retain: kept', { ...pv, spec: { ...pv.spec, persistentVolumeReclaimPolicy: 'Retain' } }, node(true), true, { deleted: false, message: 'reclaim policy Retain: directory /v/pvc-claim-uid_default_data kept on node pi-1' }],
  ];
  it.each(cases)('%s', async (_, volume, n, works, want) => {
    const asked: string[] = [];
    const out = await reclaimDirectory(volume, () => n, async (nodeName, v) => {
      asked.push(`${nodeName}:${v.path}`);
      if (!works) throw new Error('disk on fire');
    });
    expect(out).toMatchObject(want);
    expect(asked.length).toBe(n && (n.status!.conditions![0]!.status === 'True') && volume.spec.persistentVolumeReclaimPolicy === 'Delete' ? 1 : 0);
  });
});

describe('the agent deletes only its own volume directories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-volumes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a path outside the volume dir', { name: 'pvc-1', path: '/etc' }, 'SKIFF_ERR_FORBIDDEN'],
    ['a path that climbs out', { name: 'pvc-1', path: `${dir}/../pvc-1` }, 'SKIFF_ERR_FORBIDDEN'],
    ['the volume dir itself', { name: 'pvc-1', path: dir }, 'SKIFF_ERR_FORBIDDEN'],
    ['another volume\'s directory', { name: 'pvc-1', path: `${dir}/pvc-2_default_x` }, 'SKIFF_ERR_FORBIDDEN'],
    ['a nested path', { name: 'pvc-1', path: `${dir}/pvc-1_default_x/sub` }, 'SKIFF_ERR_FORBIDDEN'],
    ['a relative path', { name: 'pvc-1', path: 'pvc-1' }, 'SKIFF_ERR_BAD_REQUEST'],
    ['a name that is not a volume name', { name: '../x', path: `${dir}/../x` }, 'SKIFF_ERR_BAD_REQUEST'],
  ])('refuses %s', (_, params, code) => {
    expect(() => volumeTarget(dir, params)).toThrowError(expect.objectContaining({ code }));
  });

  it('deletes a volume\'s directory with its files, a planted symlink only as a link, and says when it was gone already', async () => {
    const outside = join(dir, '..', `keep-${process.pid}`);
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, 'precious'), 'x');
    const target = join(dir, 'pvc-1_default_data');
    mkdirSync(join(target, 'sub'), { recursive: true });
    writeFileSync(join(target, 'sub', 'f'), 'data');
    expect(await deleteVolume(dir, { name: 'pvc-1', path: target })).toEqual({ deleted: true });
    expect(existsSync(target)).toBe(false);
    expect(await deleteVolume(dir, { name: 'pvc-1', path: target })).toEqual({ deleted: false });
    const link = join(dir, 'pvc-2');
    symlinkSync(outside, link);
    expect(await deleteVolume(dir, { name: 'pvc-2', path: link })).toEqual({ deleted: true });
    expect(existsSync(join(outside, 'precious'))).toBe(true);
    rmSync(outside, { recursive: true, force: true });
  });
});
