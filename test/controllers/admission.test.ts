/**
 * Admission, in memory (the master's plugins over a `:memory:` store): LimitRange defaults and bounds,
 * ResourceQuota refusals with kubectl's words and the charges written with the object, a charge race lost
 * and retried, usage as the evaluators count it, storage defaults and protection, the atomic apply of a file
 * that would take a quota past its limit.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { KObject, PersistentVolumeClaim, Pod, ResourceQuota } from '../../protocol/index.js';
import { applyAtomic } from '../../master/apply.js';
import { formatAmount, usageOf } from '../../master/admission/usage.js';
import { harness, type Harness } from './harness.js';

const pod = (name: string, resources?: object, containers = 1): Pod =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, command: ['x'], ...(resources ? { resources } : {}) })) },
  }) as Pod;
const quota = (name: string, hard: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard } });
const limitRange = (...limits: object[]) => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr' }, spec: { limits } });
const claim = (name: string, storage = '1Gi', cls?: string) => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } }, ...(cls !== undefined ? { storageClassName: cls } : {}) } });

describe('admission', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ admission: true });
  });
  afterEach(() => h.stop());
  const used = async (name: string) => (await h.objects.get('ResourceQuota', 'default', name))!.status?.used;
  const refusal = async (raw: unknown) => {
    try {
      await h.objects.apply(raw);
    } catch (err) {
      return `${(err as { code: string }).code}: ${(err as Error).message}`;
    }
    return 'admitted';
  };

  describe('ResourceQuota', () => {
    const cases: { name: string; hard: Record<string, string>; before: unknown[]; obj: unknown; want: string }[] = [
      {
        name: 'requests.cpu past the limit',
        hard: { 'requests.cpu': '2' },
        before: [pod('a', { requests: { cpu: '1500m' } })],
        obj: pod('x', { requests: { cpu: '500m' } }),
        want: 'admitted',
      },
      {
        name: 'one millicore too many',
        hard: { 'requests.cpu': '2' },
        before: [pod('a', { requests: { cpu: '1500m' } })],
        obj: pod('x', { requests: { cpu: '501m' } }),
        want: 'SKIFF_ERR_FORBIDDEN: pods "x" is forbidden: exceeded quota: compute, requested: requests.cpu=501m, used: requests.cpu=1500m, limited: requests.cpu=2',
      },
      {
        name: 'several resources at once, sorted',
        hard: { 'limits.memory': '1Gi', 'requests.memory': '512Mi' },
        before: [],
        obj: pod('x', { requests: { memory: '768Mi' }, limits: { memory: '2Gi' } }),
        want: 'SKIFF_ERR_FORBIDDEN: pods "x" is forbidden: exceeded quota: compute, requested: limits.memory=2Gi,requests.memory=768Mi, used: limits.memory=0,requests.memory=0, limited: limits.memory=1Gi,requests.memory=512Mi',
      },
      { name: 'the pod count', hard: { pods: '1' }, before: [pod('a')], obj: pod('x'), want: 'SKIFF_ERR_FORBIDDEN: pods "x" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1' },
      {
        name: 'a container that states no cpu under a cpu quota',
        hard: { 'requests.cpu': '4', 'limits.cpu': '4' },
        before: [],
        obj: pod('x', { requests: { cpu: '100m' } }, 2),
        want: 'SKIFF_ERR_FORBIDDEN: pods "x" is forbidden: failed quota: compute: must specify limits.cpu for: c0,c1',
      },
      { name: 'a limit alone counts as the request', hard: { 'requests.cpu': '1' }, before: [], obj: pod('x', { limits: { cpu: '2' } }), want: 'SKIFF_ERR_FORBIDDEN: pods "x" is forbidden: exceeded quota: compute, requested: requests.cpu=2, used: requests.cpu=0, limited: requests.cpu=1' },
      {
        name: 'claims: count and storage',
        hard: { persistentvolumeclaims: '1', 'requests.storage': '5Gi' },
        before: [claim('a', '4Gi')],
        obj: claim('b', '2Gi'),
        want: 'SKIFF_ERR_FORBIDDEN: persistentvolumeclaims "b" is forbidden: exceeded quota: compute, requested: persistentvolumeclaims=1,requests.storage=2Gi, used: persistentvolumeclaims=1,requests.storage=4Gi, limited: persistentvolumeclaims=1,requests.storage=5Gi',
      },
      {
        name: 'storage per class',
        hard: { 'local-path.storageclass.storage.k8s.io/requests.storage': '1Gi' },
        before: [],
        obj: claim('b', '2Gi'),
        want: 'SKIFF_ERR_FORBIDDEN: persistentvolumeclaims "b" is forbidden: exceeded quota: compute, requested: local-path.storageclass.storage.k8s.io/requests.storage=2Gi, used: local-path.storageclass.storage.k8s.io/requests.storage=0, limited: local-path.storageclass.storage.k8s.io/requests.storage=1Gi',
      },
      {
        name: 'object counts by kind',
        hard: { 'count/configmaps': '1', secrets: '0' },
        before: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } }],
        obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } },
        want: 'SKIFF_ERR_FORBIDDEN: configmaps "b" is forbidden: exceeded quota: compute, requested: count/configmaps=1, used: count/configmaps=1, limited: count/configmaps=1',
      },
      { name: 'kinds the quota does not count pass', hard: { pods: '0' }, before: [], obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' } }, want: 'admitted' },
    ];
    it.each(cases)('$name', async ({ hard, before, obj, want }) => {
      for (const o of before) await h.objects.apply(o);
      await h.objects.apply(quota('compute', hard));
      expect(await refusal(obj)).toBe(want);
    });

    it('a quota counts what was there before it; each admitted object is charged in the same write', async () => {
      await h.objects.apply(pod('a', { requests: { cpu: '250m' } }));
      await h.objects.apply(quota('compute', { 'requests.cpu': '1', pods: '10' }));
      expect(await used('compute')).toEqual({ 'requests.cpu': '250m', pods: '1' });
      const p = await h.objects.create(pod('b', { requests: { cpu: '500m' } }));
      const q = await h.objects.get('ResourceQuota', 'default', 'compute');
      expect(q!.status!.used).toEqual({ 'requests.cpu': '750m', pods: '2' });
      // One transaction: the quota and the pod changed at one store revision.
      expect(q!.metadata.resourceVersion).toBe(p.metadata.resourceVersion);
      // A dry run checks and charges nothing.
      await h.objects.apply(pod('c', { requests: { cpu: '100m' } }), 'default', { dryRun: true });
      expect((await used('compute'))!['requests.cpu']).toBe('750m');
      // An update that grows usage is charged by the growth.
      await h.objects.apply({ ...pod('d'), spec: { containers: [{ name: 'c', command: ['x'], resources: { requests: { cpu: '100m' } } }] } });
      expect((await used('compute'))!['requests.cpu']).toBe('850m');
    });

    it('two writers racing for the last unit: one wins, the other is refused after admitting again', async () => {
      await h.objects.apply(quota('compute', { pods: '1' }));
      const results = await Promise.allSettled([h.objects.create(pod('a')), h.objects.create(pod('b'))]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(lost.reason.message).toMatch(/^pods "[ab]" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=1, limited: pods=1$/);
      expect((await used('compute'))!.pods).toBe('1');
    });

    it('an atomic apply of a file counts every document before it: over the quota together, nothing is stored', async () => {
      await h.objects.apply(quota('compute', { pods: '2' }));
      const results = await applyAtomic(h.objects, [pod('a'), pod('b'), pod('c')], 'default', {}, () => {});
      expect(results.map((r) => r.action)).toEqual(['failed', 'failed', 'failed']);
      expect(results[2]!.error!.message).toBe('pods "c" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2');
      expect((await h.objects.list('Pod', 'default')).items).toEqual([]);
      expect((await used('compute'))!.pods).toBe('0');
      const ok = await applyAtomic(h.objects, [pod('a'), pod('b')], 'default', {}, () => {});
      expect(ok.map((r) => r.action)).toEqual(['created', 'created']);
      expect((await used('compute'))!.pods).toBe('2');
    });
  });

  describe('LimitRange', () => {
    it('fills a container\'s missing requests and limits, says so, and checks min, max and ratio', async () => {
      await h.objects.apply(limitRange({ type: 'Container', defaultRequest: { cpu: '100m', memory: '64Mi' }, default: { cpu: '500m', memory: '128Mi' }, max: { cpu: '1' }, min: { memory: '32Mi' }, maxLimitRequestRatio: { cpu: '10' } }));
      const p = (await h.objects.apply(pod('a', { requests: { cpu: '200m' } }))).object as Pod;
      expect(p.spec.containers[0]!.resources).toEqual({ requests: { cpu: '200m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } });
      expect(p.metadata.annotations?.['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: memory request for container c0; cpu, memory limit for container c0');
      expect(await refusal(pod('big', { limits: { cpu: '2' }, requests: { cpu: '1500m' } }))).toBe(
        'SKIFF_ERR_FORBIDDEN: pods "big" is forbidden: [maximum cpu usage per Container is 1, but limit is 2, maximum cpu usage per Container is 1, but request is 1500m]',
      );
      expect(await refusal(pod('small', { requests: { memory: '16Mi' } }))).toBe('SKIFF_ERR_FORBIDDEN: pods "small" is forbidden: minimum memory usage per Container is 32Mi, but request is 16Mi');
      expect(await refusal(pod('skewed', { requests: { cpu: '10m' }, limits: { cpu: '500m' } }))).toBe('SKIFF_ERR_FORBIDDEN: pods "skewed" is forbidden: cpu max limit to request ratio per Container is 10, but provided ratio is 50.000000');
      // Init containers are containers too: defaulted and bounded alike.
      const withInit = { ...pod('init'), spec: { initContainers: [{ name: 'setup', command: ['x'] }], containers: [{ name: 'c0', command: ['x'] }] } };
      const q = (await h.objects.apply(withInit)).object as Pod;
      expect(q.spec.initContainers![0]!.resources).toEqual({ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } });
      const bigInit = { ...pod('biginit'), spec: { initContainers: [{ name: 'setup', command: ['x'], resources: { limits: { cpu: '2' } } }], containers: [{ name: 'c0', command: ['x'] }] } };
      expect(await refusal(bigInit)).toMatch(/^SKIFF_ERR_FORBIDDEN: pods "biginit" is forbidden: \[maximum cpu usage per Container is 1, but limit is 2/);
    });

    it('Pod items bound the sum of the containers; claim items the storage asked', async () => {
      await h.objects.apply(limitRange({ type: 'Pod', max: { memory: '1Gi' } }, { type: 'PersistentVolumeClaim', min: { storage: '1Gi' }, max: { storage: '10Gi' } }));
      // Without requests the limits stand for them (Kubernetes defaults requests to limits): both are over.
    expect(await refusal(pod('pair', { limits: { memory: '600Mi' } }, 2))).toBe(
      'SKIFF_ERR_FORBIDDEN: pods "pair" is forbidden: [maximum memory usage per Pod is 1Gi, but limit is 1200Mi, maximum memory usage per Pod is 1Gi, but request is 1200Mi]',
    );
      expect(await refusal(claim('tiny', '500Mi'))).toBe('SKIFF_ERR_FORBIDDEN: persistentvolumeclaims "tiny" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi');
      expect(await refusal(claim('huge', '20Gi'))).toBe('SKIFF_ERR_FORBIDDEN: persistentvolumeclaims "huge" is forbidden: maximum storage usage per PersistentVolumeClaim is 10Gi, but request is 20Gi');
      expect(await refusal(claim('fine', '5Gi'))).toBe('admitted');
    });
  });

  describe('storage', () => {
    it('a new claim gets the default class and pvc-protection; its spec is then immutable but for a larger request where the class allows it', async () => {
      const c = (await h.objects.apply(claim('data'))).object as PersistentVolumeClaim;
      expect(c.spec.storageClassName).toBe('local-path');
      expect(c.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
      expect(await refusal(claim('none', '1Gi', ''))).toBe('admitted');
      expect((await h.objects.get('PersistentVolumeClaim', 'default', 'none'))!.spec.storageClassName).toBe('');
      expect(await refusal({ ...claim('data'), spec: { ...claim('data').spec, accessModes: ['ReadWriteMany'] } })).toBe('SKIFF_ERR_VALIDATION: PersistentVolumeClaim/data: spec: is immutable after creation except resources.requests.storage');
      expect(await refusal(claim('data', '2Gi'))).toMatch(/can grow only when the claim's StorageClass has allowVolumeExpansion: true/);
      expect(await refusal(claim('data', '500Mi'))).toMatch(/must not be less than the current request \(1Gi\)/);
      // Re-applying the manifest keeps what the server filled in (the class, the finalizer).
      expect((await h.objects.apply(claim('data'))).action).toBe('unchanged');
    });

    it('a claim with a finalizer is only marked by a delete; the last finalizer removed deletes it', async () => {
      const c = (await h.objects.apply(claim('data'))).object as PersistentVolumeClaim;
      const marked = await h.objects.delete('PersistentVolumeClaim', 'default', 'data');
      expect(marked.metadata.deletionTimestamp).toBeDefined();
      expect(await h.objects.get('PersistentVolumeClaim', 'default', 'data')).toBeDefined();
      await h.objects.removeFinalizer('PersistentVolumeClaim', 'default', 'data', c.metadata.uid!, 'kubernetes.io/pvc-protection');
      expect(await h.objects.get('PersistentVolumeClaim', 'default', 'data')).toBeUndefined();
    });

    it('the last finalizer removed deletes the claim even when a write lands between the removal and the delete', async () => {
      const c = (await h.objects.apply(claim('data'))).object as PersistentVolumeClaim;
      await h.objects.delete('PersistentVolumeClaim', 'default', 'data');
      const store = h.store;
      const del = store.delete.bind(store);
      let raced = 0;
      vi.spyOn(store, 'delete').mockImplementation(async (key: string, expected?: number) => {
        if (raced++ === 0) {
          const e = (await store.get<PersistentVolumeClaim>(key))!;
          await store.update(key, { ...e.value, metadata: { ...e.value.metadata, labels: { touched: 'yes' } } }, e.modRevision);
        }
        return del(key, expected);
      });
      await h.objects.removeFinalizer('PersistentVolumeClaim', 'default', 'data', c.metadata.uid!, 'kubernetes.io/pvc-protection');
      expect(raced).toBe(2);
      expect(await h.objects.get('PersistentVolumeClaim', 'default', 'data')).toBeUndefined();
    });
  });
});

describe('usage (the quota evaluators)', () => {
  const objects: [string, KObject, Record<string, number>][] = [
    ['a running pod', { ...pod('p', { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1' } }), status: { phase: 'Running' } }, { pods: 1, 'count/pods': 1, cpu: 250, 'requests.cpu': 250, 'limits.cpu': 1000, memory: 67108864, 'requests.memory': 67108864 }],
    // Init containers run before the app containers, sidecars beside them: max(app + sidecars, init + sidecars before it).
    [
      'a pod with an init container and a sidecar',
      {
        ...pod('p', { requests: { cpu: '100m' } }),
        spec: {
          initContainers: [
            { name: 'sidecar', command: ['x'], restartPolicy: 'Always', resources: { requests: { cpu: '50m' } } },
            { name: 'migrate', command: ['x'], resources: { requests: { cpu: '500m' }, limits: { memory: '1Gi' } } },
          ],
          containers: [{ name: 'c0', command: ['x'], resources: { requests: { cpu: '100m' } } }],
        },
        status: { phase: 'Running' },
      },
      { pods: 1, 'count/pods': 1, cpu: 550, 'requests.cpu': 550, memory: 1024 ** 3, 'requests.memory': 1024 ** 3, 'limits.memory': 1024 ** 3 },
    ],
    ['a finished pod uses nothing', { ...pod('p', { requests: { cpu: '1' } }), status: { phase: 'Succeeded' } }, {}],
    ['a NodePort service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { type: 'NodePort', ports: [{ port: 1 }, { port: 2 }] } }, { services: 1, 'count/services': 1, 'services.nodeports': 2 }],
    ['a deployment', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: {} }, { 'count/deployments.apps': 1 }],
  ];
  it.each(objects)('%s', (_, o, want) => {
    const got = Object.fromEntries([...usageOf(o)].filter(([, v]) => v !== 0));
    expect(got).toEqual(want);
  });

  it.each([
    ['requests.cpu', 1500, '1500m'],
    ['cpu', 2000, '2'],
    ['requests.memory', 1024 ** 3, '1Gi'],
    ['requests.storage', 1.5e9, '1500M'],
    ['limits.memory', 1000, '1k'],
    ['limits.memory', 1001, '1001'],
    ['pods', 3, '3'],
  ] as const)('%s %d prints as %s', (r, n, s) => expect(formatAmount(r, n)).toBe(s));
});
