/**
 * The pure rules of volume binding (Kubernetes' PV controller and the scheduler's VolumeBinding plugin): which
 * claims a pod uses, which pods hold a claim, which volume a claim may bind to, and what a claim's binding
 * state means for where its pods may run. Table-tested without a cluster (test/unit/volumes.test.ts).
 */
import { bytes, matchesSelector, type KObject, type NodeSelectorRequirement, type PersistentVolume, type PersistentVolumeClaim, type Pod, type StorageClass } from '../../../protocol/index.js';
import { termsMatch } from '../daemonset/eligibility.js';
import { isFinished } from '../pods.js';
import { selectedNodeAnnotation } from './names.js';

/** The claims a pod's volumes name. */
export function claimsOf(pod: Pod): string[] {
  return (pod.spec.volumes ?? []).flatMap((v) => (v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : []));
}

/** pvc-protection's rule: a claim is in use while a pod of its namespace that has not finished names it. */
export function claimInUse(claim: KObject, pods: Pod[]): boolean {
  return pods.some((p) => p.metadata.namespace === claim.metadata.namespace && !isFinished(p) && claimsOf(p).includes(claim.metadata.name));
}

/** True when a volume is bound to (or reserved for) this claim: its claimRef names it, with its uid when the ref has one. */
export function reservedFor(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = pv.spec.claimRef;
  return !!ref && ref.namespace === claim.metadata.namespace && ref.name === claim.metadata.name && (!ref.uid || ref.uid === claim.metadata.uid);
}

/** The class a claim asks for: its storageClassName ('' and absent: none). */
function classOf(o: { spec: { storageClassName?: string } }): string {
  return o.spec.storageClassName ?? '';
}

/**
 * The volume a claim binds to, as Kubernetes' PV controller chooses: one reserved for it (claimRef), else an
 * unreserved, not terminating volume of the same class with every access mode asked, at least the storage
 * requested, matching the claim's selector — and, when `nodeLabels` is given, usable from that node — the
 * smallest such.
 */
export function matchVolume(claim: PersistentVolumeClaim, volumes: PersistentVolume[], nodeLabels?: Record<string, string>): PersistentVolume | undefined {
  const reserved = volumes.find((v) => reservedFor(v, claim) && !v.metadata.deletionTimestamp);
  if (reserved) return reserved;
  const want = bytes(claim.spec.resources.requests.storage) ?? 0;
  const fits = (v: PersistentVolume) =>
    !v.spec.claimRef &&
    !v.metadata.deletionTimestamp &&
    (v.status?.phase ?? 'Available') === 'Available' &&
    classOf(v) === classOf(claim) &&
    claim.spec.accessModes.every((m) => v.spec.accessModes.includes(m)) &&
    (bytes(v.spec.capacity.storage) ?? 0) >= want &&
    (!claim.spec.selector || matchesSelector(claim.spec.selector, v.metadata.labels)) &&
    (!nodeLabels || !v.spec.nodeAffinity || termsMatch(v.spec.nodeAffinity.required.nodeSelectorTerms, nodeLabels));
  return volumes.filter(fits).sort((a, b) => (bytes(a.spec.capacity.storage) ?? 0) - (bytes(b.spec.capacity.storage) ?? 0))[0];
}

/** Where the pods of a claim may run, or why they may not run anywhere yet. */
export type ClaimPlacement =
  /** Bound: the volume's node affinity (ORed terms), if it has one. */
  | { kind: 'bound'; terms?: NodeSelectorRequirement[][] }
  /** Not bound, WaitForFirstConsumer: anywhere the class can provision; the first pod's node becomes the claim's. */
  | { kind: 'waiting'; node?: string }
  /** The pod cannot be scheduled: the reason, in kube-scheduler's words. */
  | { kind: 'blocked'; reason: string };

/** What the state of one claim means for scheduling a pod that uses it. */
export function claimPlacement(name: string, claim: PersistentVolumeClaim | undefined, volume: (n: string) => PersistentVolume | undefined, storageClass: (n: string) => StorageClass | undefined): ClaimPlacement {
  if (!claim) return { kind: 'blocked', reason: `persistentvolumeclaim "${name}" not found` };
  if (claim.metadata.deletionTimestamp) return { kind: 'blocked', reason: `persistentvolumeclaim "${name}" is being deleted` };
  if (claim.spec.volumeName && claim.status?.phase === 'Bound') {
    const pv = volume(claim.spec.volumeName);
    if (!pv) return { kind: 'blocked', reason: `persistentvolumeclaim "${name}" bound to non-existent persistentvolume "${claim.spec.volumeName}"` };
    const terms = pv.spec.nodeAffinity?.required.nodeSelectorTerms.map((t) => t.matchExpressions ?? []);
    return { kind: 'bound', ...(terms ? { terms } : {}) };
  }
  const sc = classOf(claim) ? storageClass(classOf(claim)) : undefined;
  if (sc?.volumeBindingMode === 'WaitForFirstConsumer') return { kind: 'waiting', node: claim.metadata.annotations?.[selectedNodeAnnotation] };
  return { kind: 'blocked', reason: 'pod has unbound immediate PersistentVolumeClaims' };
}
