/**
 * ResourceQuota admission (kube-apiserver's ResourceQuota plugin): an object whose usage would take a quota of
 * its namespace past `spec.hard` is refused with kubectl's words —
 * `pods "x" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=1500m, limited: requests.cpu=2`
 * — and one that fits charges every quota it counts toward (status.used, written in the same transaction as
 * the object: batch.ts). A quota tracking requests.* or limits.* needs every container of a new pod to state
 * them (`failed quota: compute: must specify limits.cpu for: app`); LimitRange defaults run first. A new or
 * changed quota gets its status (hard, used) here, counted from the store.
 */
import { SkiffError, kindOf, type KObject, type Pod, type ResourceQuota } from '../../protocol/index.js';
import { qualifiedPlural, type Objects } from '../objects.js';
import type { AdmissionBatch, ChargedQuota } from './batch.js';
import type { AdmissionPlugin } from './types.js';
import { amount, formatAmount, quotaKinds, quotaStatusOf, usageOf, type Usage } from './usage.js';

/** `requests.cpu=500m,requests.memory=1Gi`: a usage as kubectl's quota messages print it, sorted. */
function pretty(u: Usage): string {
  return [...u].sort(([a], [b]) => a.localeCompare(b)).map(([r, v]) => `${r}=${formatAmount(r, v)}`).join(',');
}

/** The refusal of `obj`, worded as the API server words it. */
export function forbidden(obj: KObject, why: string): SkiffError {
  return new SkiffError('SKIFF_ERR_FORBIDDEN', `${qualifiedPlural(kindOf(obj.kind))} "${obj.metadata.name || obj.metadata.generateName || ''}" is forbidden: ${why}`);
}

/** What `obj` adds over `current`, for the resources that grew. */
function growth(obj: KObject, current: KObject | undefined): Usage {
  const after = usageOf(obj);
  const before = current ? usageOf(current) : new Map<string, number>();
  const out: Usage = new Map();
  for (const [r, v] of after) if (v > (before.get(r) ?? 0)) out.set(r, v - (before.get(r) ?? 0));
  return out;
}

/** Kubernetes' "must specify" rule: the compute resources a quota tracks that some container (init containers too) of the pod leaves out. */
function unspecified(pod: Pod, hard: Record<string, unknown>): string | undefined {
  const missing: string[] = [];
  for (const r of ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'requests.ephemeral-storage', 'limits.ephemeral-storage']) {
    const bare = r.startsWith('requests.') ? r.slice(9) : undefined;
    if (!Object.hasOwn(hard, r) && !(bare && Object.hasOwn(hard, bare))) continue;
    const res = r.split('.')[1] as 'cpu' | 'memory' | 'ephemeral-storage';
    const lacking = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].filter((c) => (r.startsWith('limits.') ? c.resources?.limits?.[res] : c.resources?.requests?.[res] ?? c.resources?.limits?.[res]) === undefined);
    if (lacking.length) missing.push(`${r} for: ${lacking.map((c) => c.name).join(',')}`);
  }
  return missing.length ? missing.sort().join('; ') : undefined;
}

/** The resources of `add` a quota would exceed: requested, used and limited, each by resource. */
function exceeded(q: ResourceQuota, add: Usage): { requested: Usage; used: Usage; limited: Usage } | undefined {
  const requested: Usage = new Map();
  const used: Usage = new Map();
  const limited: Usage = new Map();
  for (const [r, v] of add) {
    if (!Object.hasOwn(q.spec.hard, r)) continue;
    const hard = amount(r, q.spec.hard[r]) ?? 0;
    const now = amount(r, q.status?.used?.[r]) ?? 0;
    if (now + v <= hard) continue;
    requested.set(r, v);
    used.set(r, now);
    limited.set(r, hard);
  }
  return requested.size ? { requested, used, limited } : undefined;
}

/** Adds `add` to a quota's status.used (the resources it tracks) and marks it for writing. */
function charge(q: ChargedQuota, add: Usage): void {
  const used = { ...(q.quota.status?.used ?? {}) };
  let changed = false;
  for (const [r, v] of add) {
    if (!Object.hasOwn(q.quota.spec.hard, r)) continue;
    used[r] = formatAmount(r, (amount(r, used[r]) ?? 0) + v);
    changed = true;
  }
  if (!changed) return;
  q.quota.status = { ...(q.quota.status ?? {}), used };
  q.charged = true;
}

/** The ResourceQuota admission plugin. */
export class QuotaAdmission implements AdmissionPlugin {
  readonly name = 'ResourceQuota';

  constructor(private readonly objects: Objects) {}

  async admit(obj: KObject, current: KObject | undefined, batch: AdmissionBatch): Promise<void> {
    if (obj.kind === 'ResourceQuota') return this.statusOf(obj as ResourceQuota, batch);
    const ns = obj.metadata.namespace;
    if (!ns) return;
    const quotas = await batch.quotasOf(ns);
    if (quotas.length === 0) return;
    const add = growth(obj, current);
    for (const q of quotas) {
      const missing = obj.kind === 'Pod' && !current ? unspecified(obj as Pod, q.quota.spec.hard) : undefined;
      if (missing) throw forbidden(obj, `failed quota: ${q.quota.metadata.name}: must specify ${missing}`);
      const over = exceeded(q.quota, add);
      if (over)
        throw forbidden(obj, `exceeded quota: ${q.quota.metadata.name}, requested: ${pretty(over.requested)}, used: ${pretty(over.used)}, limited: ${pretty(over.limited)}`);
    }
    for (const q of quotas) charge(q, add);
  }

  /** A quota's status as it is stored: hard as asked, used counted now from the store (the controller keeps it so). */
  private async statusOf(q: ResourceQuota, batch: AdmissionBatch): Promise<void> {
    const ns = q.metadata.namespace!;
    const objects: KObject[] = [];
    for (const kind of quotaKinds(q.spec.hard)) objects.push(...(await this.objects.list(kind, ns)).items, ...batch.pendingOf(kind, ns));
    q.status = quotaStatusOf(q.spec.hard, objects);
  }
}
