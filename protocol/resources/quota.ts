/**
 * ResourceQuota and LimitRange (core/v1): per-namespace bounds enforced at admission (master/admission/).
 * Their types, validation and the resource names a quota may bound — the names and their meaning follow
 * Kubernetes (https://kubernetes.io/docs/concepts/policy/resource-quotas/).
 */
import type { Checker } from '../check.js';
import { parseQuantity } from '../quantity.js';
import type { KObject } from '../types.js';

/** Quota names for pods' compute resources; the bare `cpu`, `memory`, `ephemeral-storage` mean requests. */
export const computeQuotaNames = ['cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage'] as const;
/** Object counts under their legacy names, and the storage requested by claims. */
export const countQuotaNames = ['pods', 'services', 'configmaps', 'secrets', 'persistentvolumeclaims', 'resourcequotas', 'services.nodeports', 'services.loadbalancers'] as const;
/** The suffix of per-StorageClass quota names: `<class>.storageclass.storage.k8s.io/requests.storage`. */
export const storageClassQuota = '.storageclass.storage.k8s.io/';

const countName = /^count\/[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const classQuota = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?\.storageclass\.storage\.k8s\.io\/(requests\.storage|persistentvolumeclaims)$/;

/** True for a resource name a quota can bound. */
export function isQuotaResource(name: string): boolean {
  return (computeQuotaNames as readonly string[]).includes(name) || (countQuotaNames as readonly string[]).includes(name) || name === 'requests.storage' || countName.test(name) || classQuota.test(name);
}

/** True for a quota resource that counts objects (its values must be whole numbers). */
export function isCountResource(name: string): boolean {
  return name.startsWith('count/') || (countQuotaNames as readonly string[]).includes(name) || name.endsWith('/persistentvolumeclaims');
}

/** A ResourceQuota: hard limits on what a namespace may hold; status.used is kept by the quota controller. */
export interface ResourceQuota extends KObject {
  kind: 'ResourceQuota';
  spec: { hard: Record<string, string | number> };
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
}

/** The kinds of LimitRange items. */
export const limitTypes = ['Container', 'Pod', 'PersistentVolumeClaim'] as const;

/** One item of a LimitRange. */
export interface LimitRangeItem {
  type: (typeof limitTypes)[number];
  max?: Record<string, string | number>;
  min?: Record<string, string | number>;
  default?: Record<string, string | number>;
  defaultRequest?: Record<string, string | number>;
  maxLimitRequestRatio?: Record<string, string | number>;
}

/** A LimitRange: per-container, per-pod and per-claim bounds and defaults in a namespace. */
export interface LimitRange extends KObject {
  kind: 'LimitRange';
  spec: { limits: LimitRangeItem[] };
}

/** Checks a ResourceQuota: known resource names, quantities (whole numbers for counts); scopes are not offered. */
export function checkResourceQuota(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  if (o.spec.scopes !== undefined || o.spec.scopeSelector !== undefined) c.fail('spec.scopes', 'quota scopes are not supported by Skiff; use one quota per namespace');
  if (!c.object(o.spec.hard, 'spec.hard', true)) return;
  for (const [name, q] of Object.entries(o.spec.hard)) {
    const f = `spec.hard[${name}]`;
    if (!isQuotaResource(name)) {
      c.fail(f, 'must be a quota resource: pods, cpu, memory, requests.cpu|memory|storage, limits.cpu|memory, services, configmaps, secrets, persistentvolumeclaims, count/<resource>[.<group>]');
      continue;
    }
    if (!c.quantity(q, f)) continue;
    if (isCountResource(name) && !Number.isInteger(parseQuantity(q))) c.fail(f, 'must be a whole number (it counts objects)', q);
  }
}

const resourcesOf: Record<(typeof limitTypes)[number], readonly string[]> = {
  Container: ['cpu', 'memory', 'ephemeral-storage'],
  Pod: ['cpu', 'memory', 'ephemeral-storage'],
  PersistentVolumeClaim: ['storage'],
};

/** Checks one map of a LimitRange item: resource names of its type, quantities. */
function checkLimitMap(c: Checker, m: unknown, f: string, type: LimitRangeItem['type'] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!c.object(m, f)) return out;
  for (const [r, q] of Object.entries(m)) {
    if (type && !resourcesOf[type].includes(r)) c.fail(`${f}[${r}]`, `must be one of ${resourcesOf[type].join(', ')} for type ${type}`, r);
    else if (c.quantity(q, `${f}[${r}]`)) out.set(r, parseQuantity(q)!);
  }
  return out;
}

/** Checks a LimitRange: item types, resources, and min ≤ defaultRequest ≤ default ≤ max as Kubernetes does. */
export function checkLimitRange(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true) || !c.array(o.spec.limits, 'spec.limits', true)) return;
  o.spec.limits.forEach((item: unknown, i: number) => {
    const f = `spec.limits[${i}]`;
    if (!c.object(item, f, true)) return;
    const type = c.oneOf(item.type, `${f}.type`, limitTypes, true) ? item.type : undefined;
    const m = Object.fromEntries(['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'].map((k) => [k, checkLimitMap(c, item[k], `${f}.${k}`, type)]));
    if (type !== 'Container') for (const k of ['default', 'defaultRequest']) if (item[k] !== undefined) c.fail(`${f}.${k}`, `may be set only for type Container`);
    if (type === 'PersistentVolumeClaim' && item.maxLimitRequestRatio !== undefined) c.fail(`${f}.maxLimitRequestRatio`, 'may not be set for type PersistentVolumeClaim');
    const order: [string, string][] = [['min', 'max'], ['min', 'defaultRequest'], ['min', 'default'], ['defaultRequest', 'default'], ['defaultRequest', 'max'], ['default', 'max']];
    for (const [lo, hi] of order)
      for (const [r, v] of m[lo]) {
        const top = m[hi].get(r);
        if (top !== undefined && v > top) c.fail(`${f}.${lo}[${r}]`, `must be at most ${hi}[${r}] (${item[hi][r]})`, item[lo][r]);
      }
    for (const [r, v] of m.maxLimitRequestRatio) if (v < 1) c.fail(`${f}.maxLimitRequestRatio[${r}]`, 'must be at least 1', item.maxLimitRequestRatio[r]);
  });
}
