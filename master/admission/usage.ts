/**
 * What objects use of each quota resource (Kubernetes' quota evaluators), in whole base units: millicores
 * for cpu, bytes for memory and storage, a number for counts. One definition, read by quota admission (the
 * object about to be stored) and by the quota controller (every object in the namespace).
 */
import { bytes, cpuMilli, findKind, isCountResource, isKind, podTotal, parseQuantity, storageClassQuota, type KObject, type Pod } from '../../protocol/index.js';
import type { PersistentVolumeClaim } from '../../protocol/index.js';

/** Usage per quota resource name. */
export type Usage = Map<string, number>;

const cpuNames = new Set(['cpu', 'requests.cpu', 'limits.cpu']);

/** A quantity of `resource` in its base units (undefined when it is not a quantity). */
export function amount(resource: string, q: unknown): number | undefined {
  if (cpuNames.has(resource)) return cpuMilli(q);
  if (isCountResource(resource)) return parseQuantity(q);
  return bytes(q);
}

const binary: [string, number][] = [['Ei', 2 ** 60], ['Pi', 2 ** 50], ['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]];
const decimal: [string, number][] = [['E', 1e18], ['P', 1e15], ['T', 1e12], ['G', 1e9], ['M', 1e6], ['k', 1e3]];

/** An amount as kubectl prints a quantity: `500m` or `2` for cpu; `1Gi`, `1500M` or plain bytes; counts plain. */
export function formatAmount(resource: string, n: number): string {
  if (cpuNames.has(resource)) return n % 1000 === 0 ? String(n / 1000) : `${n}m`;
  if (isCountResource(resource) || n === 0) return String(n);
  for (const [s, size] of binary) if (n % size === 0) return `${n / size}${s}`;
  for (const [s, size] of decimal) if (n % size === 0) return `${n / size}${s}`;
  return String(n);
}

/** `count/<plural>[.<group>]`: the name a quota uses to count objects of a kind. */
export function countName(kind: string): string | undefined {
  const info = findKind(kind);
  if (!info) return undefined;
  const group = info.apiVersion.includes('/') ? '.' + info.apiVersion.split('/')[0] : '';
  return `count/${info.plural}${group}`;
}

/** The legacy object-count name of a kind (`pods`, `services`, ...), if it has one. */
const legacyCount: Record<string, string> = {
  Pod: 'pods',
  Service: 'services',
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  ResourceQuota: 'resourcequotas',
};

/** True when a pod counts toward quotas: not Succeeded or Failed (Kubernetes' rule). */
function podCounts(p: Pod): boolean {
  return p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';
}

/** Sums a compute resource over a pod's containers; a container without a request uses its limit (as Kubernetes defaults it). */
function podCompute(p: Pod, use: Usage): void {
  const add = (name: string, v: number | undefined) => {
    if (v) use.set(name, (use.get(name) ?? 0) + v);
  };
  // Init containers and sidecars count as the scheduler counts them (Kubernetes' quota uses PodRequests/PodLimits).
  for (const r of ['cpu', 'memory', 'ephemeral-storage'] as const) {
    const request = podTotal(p, (c) => amount(`requests.${r}`, c.resources?.requests?.[r] ?? c.resources?.limits?.[r]) ?? 0);
    add(`requests.${r}`, request);
    add(r, request);
    add(`limits.${r}`, podTotal(p, (c) => amount(`limits.${r}`, c.resources?.limits?.[r]) ?? 0));
  }
}

/** What one object uses of every quota resource it counts toward (nothing for a finished pod). */
export function usageOf(o: KObject): Usage {
  const use: Usage = new Map();
  if (o.kind === 'Pod' && !podCounts(o as Pod)) return use;
  const count = countName(o.kind);
  if (count) use.set(count, 1);
  if (Object.hasOwn(legacyCount, o.kind)) use.set(legacyCount[o.kind]!, 1);
  if (o.kind === 'Pod') podCompute(o as Pod, use);
  if (isKind(o, 'Service')) {
    const ports = o.spec?.ports ?? [];
    if (o.spec?.type === 'NodePort' || o.spec?.type === 'LoadBalancer') use.set('services.nodeports', ports.length);
    if (o.spec?.type === 'LoadBalancer') use.set('services.loadbalancers', 1);
  }
  if (o.kind === 'PersistentVolumeClaim') {
    const c = o as PersistentVolumeClaim;
    const storage = bytes(c.spec.resources?.requests?.storage) ?? 0;
    use.set('requests.storage', storage);
    if (c.spec.storageClassName) {
      use.set(`${c.spec.storageClassName}${storageClassQuota}requests.storage`, storage);
      use.set(`${c.spec.storageClassName}${storageClassQuota}persistentvolumeclaims`, 1);
    }
  }
  return use;
}

/** The kinds whose objects a quota resource counts (the controller lists those). */
export function kindsOf(resource: string): string[] {
  if (resource.startsWith('count/')) {
    const [plural, ...group] = resource.slice(6).split('.');
    const info = findKind(plural!);
    if (!info || !info.namespaced) return [];
    const want = group.join('.');
    const has = info.apiVersion.includes('/') ? info.apiVersion.split('/')[0] : '';
    return want === has || (want === '' && has === '') ? [info.kind] : [];
  }
  if (resource.startsWith('services')) return ['Service'];
  if (resource === 'configmaps') return ['ConfigMap'];
  if (resource === 'secrets') return ['Secret'];
  if (resource === 'resourcequotas') return ['ResourceQuota'];
  if (resource === 'persistentvolumeclaims' || resource === 'requests.storage' || resource.includes(storageClassQuota)) return ['PersistentVolumeClaim'];
  return ['Pod'];
}

/** The usage of `objects` summed for each of `resources`. */
export function usedBy(resources: readonly string[], objects: Iterable<KObject>): Usage {
  const used: Usage = new Map(resources.map((r) => [r, 0]));
  for (const o of objects)
    for (const [r, v] of usageOf(o)) if (used.has(r)) used.set(r, used.get(r)! + v);
  return used;
}

/** The kinds a quota's status counts. */
export function quotaKinds(hard: Record<string, unknown>): string[] {
  return [...new Set(Object.keys(hard).flatMap(kindsOf))];
}

/** A quota's status from the objects of its namespace (of quotaKinds): hard as asked, used summed, in kubectl's quantities. */
export function quotaStatusOf(hard: Record<string, string | number>, objects: Iterable<KObject>): { hard: Record<string, string>; used: Record<string, string> } {
  const names = Object.keys(hard);
  const used = usedBy(names, objects);
  return {
    hard: Object.fromEntries(names.map((r) => [r, String(hard[r])])),
    used: Object.fromEntries(names.map((r) => [r, formatAmount(r, used.get(r) ?? 0)])),
  };
}
