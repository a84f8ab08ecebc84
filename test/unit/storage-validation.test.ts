/** Validation of StatefulSets, the storage kinds, ResourceQuotas and LimitRanges names the field and rule; defaults as apps/v1 and core/v1. */
import { describe, expect, it } from 'vitest';
import { findKind, normalizeObject, type PersistentVolume, type StatefulSet, type StorageClass } from '../../protocol/index.js';
import { errorOf } from '../helpers/validation.js';

const template = (mounts: string[] = ['data'], extra: Record<string, unknown> = {}) => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', command: ['run'], volumeMounts: mounts.map((name) => ({ name, mountPath: name })) }], ...extra },
});
const claimTemplate = (name = 'data', spec: Record<string, unknown> = {}) => ({ metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } });
const sts = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'StatefulSet',
  metadata: { name: 'web' },
  spec: { serviceName: 'web', selector: { matchLabels: { app: 'web' } }, template: template(), volumeClaimTemplates: [claimTemplate()], ...spec },
});
const pvc = (spec: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec } });
const pv = (spec: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv-1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/srv/a' }, ...spec } });
const quota = (hard: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard, ...extra } });
const limits = (...items: unknown[]) => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'l' }, spec: { limits: items } });

describe('validation names the field and the rule', () => {
  const cases: [string, unknown, string, string][] = [
    ['a mount of neither a volume nor a claim template', sts({ template: template(['logs']) }), 'spec.template.spec.containers[0].volumeMounts[0].name', 'must name a volume in spec.volumes'],
    ['a volume shadowing a claim template', sts({ template: template(['data'], { volumes: [{ name: 'data', emptyDir: {} }] }) }), 'spec.template.spec.volumes[0].name', 'must not repeat a volumeClaimTemplates name'],
    ['two claim templates of one name', sts({ volumeClaimTemplates: [claimTemplate(), claimTemplate()] }), 'spec.volumeClaimTemplates[1].metadata.name', 'must be unique'],
    ['a claim template without storage', sts({ volumeClaimTemplates: [claimTemplate('data', { resources: { requests: {} } })] }), 'spec.volumeClaimTemplates[0].spec.resources.requests.storage', 'is required'],
    ['restartPolicy Never', sts({ template: template(['data'], { restartPolicy: 'Never' }) }), 'spec.template.spec.restartPolicy', 'must be Always'],
    ['a pod management policy', sts({ podManagementPolicy: 'Random' }), 'spec.podManagementPolicy', 'must be one of OrderedReady, Parallel'],
    ['a negative partition', sts({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: -1 } } }), 'spec.updateStrategy.rollingUpdate.partition', 'must be an integer ≥ 0'],
    ['rollingUpdate with OnDelete', sts({ updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } }), 'spec.updateStrategy.rollingUpdate', 'may not be set when type is OnDelete'],
    ['maxUnavailable 0', sts({ updateStrategy: { rollingUpdate: { maxUnavailable: 0 } } }), 'spec.updateStrategy.rollingUpdate.maxUnavailable', 'must be at least 1'],
    ['a retention policy', sts({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Keep' } }), 'spec.persistentVolumeClaimRetentionPolicy.whenDeleted', 'must be one of Retain, Delete'],
    ['a serviceName that is no DNS label', sts({ serviceName: 'Web_Svc' }), 'spec.serviceName', 'must be a DNS label'],
    ['a claim without access modes', pvc({ accessModes: [] }), 'spec.accessModes', 'must have at least one access mode'],
    ['an unknown access mode', pvc({ accessModes: ['ReadWriteSometimes'] }), 'spec.accessModes[0]', 'must be one of ReadWriteOnce'],
    ['a claim asking for cpu', pvc({ resources: { requests: { storage: '1Gi', cpu: '1' } } }), 'spec.resources.requests.cpu', 'must be storage'],
    ['Block volumes', pvc({ volumeMode: 'Block' }), 'spec.volumeMode', 'must be one of Filesystem'],
    ['a volume without a source', pv({ hostPath: undefined }), 'spec', 'must have exactly one of hostPath, local'],
    ['a relative hostPath', pv({ hostPath: { path: 'srv' } }), 'spec.hostPath.path', 'must be an absolute path'],
    ['a local volume without node affinity', pv({ hostPath: undefined, local: { path: '/mnt/ssd' } }), 'spec.nodeAffinity', 'is required for a local volume'],
    ['a pod volume of a claim without a name', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', command: ['x'] }], volumes: [{ name: 'v', persistentVolumeClaim: {} }] } }, 'spec.volumes[0].persistentVolumeClaim.claimName', 'is required'],
    ['a subdomain that is no DNS label', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', command: ['x'] }], subdomain: 'a.b' } }, 'spec.subdomain', 'must be a DNS label'],
    ['a finalizer that is no qualified name', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', finalizers: ['not a key'] } }, 'metadata.finalizers[0]', 'must be a label key'],
    ['a storage class binding mode', { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 's' }, provisioner: 'x', volumeBindingMode: 'Later' }, 'volumeBindingMode', 'must be one of Immediate, WaitForFirstConsumer'],
    ['a quota resource Skiff does not know', quota({ 'requests.gpu': 1 }), 'spec.hard[requests.gpu]', 'must be a quota resource'],
    ['a count that is not whole', quota({ pods: '1.5' }), 'spec.hard[pods]', 'must be a whole number'],
    ['quota scopes', quota({ pods: 1 }, { scopes: ['BestEffort'] }), 'spec.scopes', 'quota scopes are not supported by Skiff'],
    ['a LimitRange type', limits({ type: 'Node' }), 'spec.limits[0].type', 'must be one of Container, Pod, PersistentVolumeClaim'],
    ['min above max', limits({ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }), 'spec.limits[0].min[cpu]', 'must be at most max[cpu] (1)'],
    ['a default request above the default limit', limits({ type: 'Container', default: { memory: '1Gi' }, defaultRequest: { memory: '2Gi' } }), 'spec.limits[0].defaultRequest[memory]', 'must be at most default[memory]'],
    ['defaults on a Pod item', limits({ type: 'Pod', default: { cpu: '1' } }), 'spec.limits[0].default', 'may be set only for type Container'],
    ['cpu on a claim item', limits({ type: 'PersistentVolumeClaim', max: { cpu: '1' } }), 'spec.limits[0].max[cpu]', 'must be one of storage'],
    ['a ratio below 1', limits({ type: 'Container', maxLimitRequestRatio: { cpu: '0.5' } }), 'spec.limits[0].maxLimitRequestRatio[cpu]', 'must be at least 1'],
  ];
  it.each(cases)('%s', (_, raw, field, rule) => {
    const err = errorOf(raw);
    expect(err.code).toBe('SKIFF_ERR_VALIDATION');
    expect(err.message).toContain(`${field}: ${rule}`);
  });

  it('a StatefulSet may mount its claim templates without spec.volumes, and gets apps/v1 defaults', () => {
    const s = normalizeObject(sts()) as StatefulSet;
    expect(s.spec).toMatchObject({
      replicas: 1,
      podManagementPolicy: 'OrderedReady',
      revisionHistoryLimit: 10,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
    });
    expect(s.spec.volumeClaimTemplates![0]!.spec.volumeMode).toBe('Filesystem');
  });

  it('volumes default to Retain, classes to Delete and Immediate; kubectl names and short names', () => {
    expect((normalizeObject(pv()) as PersistentVolume).spec.persistentVolumeReclaimPolicy).toBe('Retain');
    expect(normalizeObject({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 's' }, provisioner: 'x' }) as StorageClass).toMatchObject({ reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
    for (const [name, kind] of [['sts', 'StatefulSet'], ['pvc', 'PersistentVolumeClaim'], ['pv', 'PersistentVolume'], ['sc', 'StorageClass'], ['storageclasses.storage.k8s.io', 'StorageClass'], ['quota', 'ResourceQuota'], ['limits', 'LimitRange'], ['statefulsets.apps', 'StatefulSet']])
      expect(findKind(name)?.kind, name).toBe(kind);
    expect(findKind('pv')?.namespaced).toBe(false);
    expect(normalizeObject(quota({ 'count/deployments.apps': 2, 'local-path.storageclass.storage.k8s.io/requests.storage': '10Gi', 'requests.storage': '5Gi' }))).toBeTruthy();
  });
});
