/** Small facts about pods and owners that several controllers share. */
import { SkiffError, isReady, own, readyCondition, type KObject, type OwnerReference, type Pod } from '../../protocol/index.js';
import type { ControllerContext } from './types.js';

/** The controlling owner reference, if any. */
export function controllerOf(o: KObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

/** An owner reference that makes `owner` the controller of a dependent. */
export function controllerRef(owner: KObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/**
 * Creates a dependent of `owner` (a pod, a ReplicaSet, a Job). A refusal by admission (Pod Security, after a
 * namespace's level was raised) is recorded as a FailedCreate Warning on the owner, as Kubernetes' controllers
 * record it, and thrown: the sync is retried with back-off.
 */
export async function createDependent<T extends KObject>(ctx: Pick<ControllerContext, 'objects' | 'events'>, owner: KObject, obj: T): Promise<T> {
  try {
    return await ctx.objects.create(obj);
  } catch (err) {
    if (err instanceof SkiffError && err.code === 'SKIFF_ERR_FORBIDDEN') ctx.events.object(owner.kind, owner.metadata.namespace, owner.metadata.name, 'Warning', 'FailedCreate', `Error creating: ${err.message}`);
    throw err;
  }
}

/** Being deleted (graceful deletion in progress). */
export function isTerminating(o: KObject): boolean {
  return !!o.metadata.deletionTimestamp;
}

/** Finished: Succeeded or Failed. */
export function isFinished(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/** Counts toward a controller's replicas: not terminating, not finished. */
export function isActive(p: Pod): boolean {
  return !isTerminating(p) && !isFinished(p);
}

/** Ready for at least minReadySeconds at `now` (Kubernetes' "available"). */
export function isAvailable(p: Pod, minReadySeconds: number, now: number): boolean {
  const c = readyCondition(p);
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0 || !c.lastTransitionTime) return true;
  return Date.parse(c.lastTransitionTime) + minReadySeconds * 1000 <= now;
}

/**
 * Orders pods for scale-down, most deletable first, as Kubernetes' ActivePods ranking:
 * unassigned < assigned; Pending < Unknown < Running; not ready < ready; more restarts first; newer first.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const assigned = (p: Pod) => (p.spec.nodeName ? 1 : 0);
  const phase = (p: Pod) => own({ Pending: 0, Unknown: 1, Running: 2 }, p.status?.phase ?? '') ?? 0;
  const restarts = (p: Pod) => (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  return (
    assigned(a) - assigned(b) ||
    phase(a) - phase(b) ||
    Number(isReady(a)) - Number(isReady(b)) ||
    restarts(b) - restarts(a) ||
    Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? '')
  );
}
