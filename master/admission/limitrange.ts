/**
 * LimitRange admission (kube-apiserver's LimitRanger plugin): a new pod's containers (init containers too) get the `default` limits
 * and `defaultRequest` requests of the Container items of its namespace's LimitRanges for what they leave out
 * (recorded in the `kubernetes.io/limit-ranger` annotation), then every item's min, max and
 * maxLimitRequestRatio is checked — per container, per pod (the sums), per claim (requests.storage) — with
 * the API server's messages: `minimum cpu usage per Container is 100m, but request is 50m`.
 */
import { isObject, parseQuantity, podTotal, type Container, type KObject, type LimitRange, type LimitRangeItem, type PersistentVolumeClaim, type Pod } from '../../protocol/index.js';
import type { Objects } from '../objects.js';
import type { AdmissionBatch } from './batch.js';
import { forbidden } from './quota.js';
import type { AdmissionPlugin } from './types.js';
import { amount, formatAmount } from './usage.js';

/** The annotation the LimitRanger plugin leaves on a pod it filled in. */
export const limitRangerAnnotation = 'kubernetes.io/limit-ranger';

type Quantities = Record<string, string | number>;

/** Kubernetes' LimitRangeItem defaulting: default from max, defaultRequest from default. */
function itemDefaults(item: LimitRangeItem): { limits: Quantities; requests: Quantities } {
  const limits: Quantities = { ...(item.max ?? {}), ...(item.default ?? {}) };
  const requests: Quantities = { ...limits, ...(item.defaultRequest ?? {}) };
  return { limits, requests };
}

/** Fills a container's missing requests and limits; returns what was set (for the annotation). */
function fillContainer(c: Container, d: { limits: Quantities; requests: Quantities }): string[] {
  const set: string[] = [];
  const res = (c.resources ??= {});
  for (const [kind, defaults] of [['requests', d.requests], ['limits', d.limits]] as const) {
    const have = (res[kind] ??= {}) as Quantities;
    const filled = Object.keys(defaults).filter((r) => have[r] === undefined);
    for (const r of filled) have[r] = defaults[r]!;
    if (filled.length) set.push(`${filled.join(', ')} ${kind === 'requests' ? 'request' : 'limit'} for container ${c.name}`);
    if (Object.keys(have).length === 0) delete res[kind];
  }
  return set;
}

/** Kubernetes' min, max and ratio constraints of one resource of one item, as messages. */
function constraints(type: string, r: string, item: LimitRangeItem, request: number | undefined, limit: number | undefined, show: (v: number) => string): string[] {
  const out: string[] = [];
  const min = item.min?.[r] !== undefined ? amount(r, item.min[r]) : undefined;
  const max = item.max?.[r] !== undefined ? amount(r, item.max[r]) : undefined;
  if (min !== undefined) {
    if (request === undefined) out.push(`minimum ${r} usage per ${type} is ${item.min![r]}.  No request is specified`);
    else if (request < min) out.push(`minimum ${r} usage per ${type} is ${item.min![r]}, but request is ${show(request)}`);
    if (limit !== undefined && limit < min) out.push(`minimum ${r} usage per ${type} is ${item.min![r]}, but limit is ${show(limit)}`);
  }
  if (max !== undefined) {
    if (limit === undefined) out.push(`maximum ${r} usage per ${type} is ${item.max![r]}.  No limit is specified`);
    else if (limit > max) out.push(`maximum ${r} usage per ${type} is ${item.max![r]}, but limit is ${show(limit)}`);
    if (request !== undefined && request > max) out.push(`maximum ${r} usage per ${type} is ${item.max![r]}, but request is ${show(request)}`);
  }
  const ratio = item.maxLimitRequestRatio?.[r] !== undefined ? parseQuantity(item.maxLimitRequestRatio[r]) : undefined;
  if (ratio !== undefined) {
    const what = `${r} max limit to request ratio per ${type} is ${item.maxLimitRequestRatio![r]}`;
    if (!request) out.push(`${what}, but no request is specified or request is 0`);
    else if (!limit) out.push(`${what}, but no limit is specified or limit is 0`);
    else if (limit / request > ratio) out.push(`${what}, but provided ratio is ${(limit / request).toFixed(6)}`);
  }
  return out;
}

/** The resources an item bounds. */
function boundResources(item: LimitRangeItem): string[] {
  return [...new Set([...Object.keys(item.min ?? {}), ...Object.keys(item.max ?? {}), ...Object.keys(item.maxLimitRequestRatio ?? {})])];
}

/** A container's request (its limit when it has none, as Kubernetes defaults it) and limit of `r`. */
function containerUse(c: Container, r: 'cpu' | 'memory' | 'ephemeral-storage'): { request?: number; limit?: number } {
  const limit = amount(`limits.${r}`, c.resources?.limits?.[r]);
  const request = amount(`requests.${r}`, c.resources?.requests?.[r] ?? c.resources?.limits?.[r]);
  return { request, limit };
}

/** Init (sidecars too) and app containers: LimitRanger defaults and bounds each of them. */
function allContainers(pod: Pod): Container[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
}

/** Every broken constraint of a pod against one item. */
function podProblems(pod: Pod, item: LimitRangeItem): string[] {
  const out: string[] = [];
  for (const r of boundResources(item) as ('cpu' | 'memory' | 'ephemeral-storage')[]) {
    const show = (v: number) => formatAmount(`requests.${r}`, v);
    if (item.type === 'Container') for (const c of allContainers(pod)) out.push(...constraints('Container', r, item, containerUse(c, r).request, containerUse(c, r).limit, show));
    if (item.type === 'Pod') {
      // The pod's total as the scheduler counts it (init containers and sidecars too); unknown while a container has none.
      const total = (k: 'request' | 'limit') => (allContainers(pod).every((c) => containerUse(c, r)[k] !== undefined) ? podTotal(pod, (c) => containerUse(c, r)[k]!) : undefined);
      out.push(...constraints('Pod', r, item, total('request'), total('limit'), show));
    }
  }
  return out;
}

/** The LimitRanger admission plugin. */
export class LimitRangeAdmission implements AdmissionPlugin {
  readonly name = 'LimitRanger';

  constructor(private readonly objects: Objects) {}

  async admit(obj: KObject, current: KObject | undefined, batch: AdmissionBatch): Promise<void> {
    if (current || (obj.kind !== 'Pod' && obj.kind !== 'PersistentVolumeClaim')) return;
    const ns = obj.metadata.namespace!;
    const ranges = await batch.limitRangesOf(ns);
    const items = ranges.flatMap((lr) => (isObject(lr.spec) && Array.isArray(lr.spec.limits) ? lr.spec.limits : []));
    if (items.length === 0) return;
    const problems: string[] = [];
    if (obj.kind === 'Pod') {
      const pod = obj as Pod;
      const set: string[] = [];
      for (const item of items.filter((i) => i.type === 'Container')) for (const c of allContainers(pod)) set.push(...fillContainer(c, itemDefaults(item)));
      if (set.length) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [limitRangerAnnotation]: `LimitRanger plugin set: ${set.join('; ')}` };
      for (const item of items) problems.push(...podProblems(pod, item));
    } else {
      const storage = amount('requests.storage', (obj as PersistentVolumeClaim).spec?.resources?.requests?.storage);
      for (const item of items.filter((i) => i.type === 'PersistentVolumeClaim'))
        problems.push(...constraints('PersistentVolumeClaim', 'storage', item, storage, storage, (v) => formatAmount('requests.storage', v)).filter((m) => !m.includes('limit')));
    }
    if (problems.length === 1) throw forbidden(obj, problems[0]!);
    if (problems.length > 1) throw forbidden(obj, `[${problems.join(', ')}]`);
  }
}
