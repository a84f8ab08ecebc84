/**
 * Counting a Job's finished pods exactly once, as Kubernetes' job tracking does with pod finalizers
 * (KEP-2307), with a pod annotation in the finalizer's role. A finished pod is first listed in the
 * Job's `status.uncountedTerminatedPods`, then marked counted on the pod, then moved into
 * `status.succeeded` / `status.failed` by the sync's status write. So a finished pod the user deletes
 * still counts (deleting failed pods buys no extra attempts), and a master that stops between the steps
 * finishes them on the next sync without counting a pod twice.
 */
import type { Job, Pod } from '../../../protocol/index.js';
import type { ControllerContext } from '../types.js';

/** The annotation marking a finished pod as counted in its Job's status. */
export const countedAnnotation = 'batch.skiff.io/counted';

/** Finished pods' uids not yet in the counts (Kubernetes' UncountedTerminatedPods). */
export interface Uncounted {
  succeeded?: string[];
  failed?: string[];
}

const outcome = (p: Pod) => (p.status?.phase === 'Succeeded' ? 'succeeded' : p.status?.phase === 'Failed' ? 'failed' : undefined);

/** What countFinished concluded. */
export interface Counted {
  succeeded: number;
  failed: number;
  tracked: boolean;
  /** The counting fields the stored Job must still hold for the caller's status write to be right (tracked only). */
  base?: CountBase;
  /**
   * The snapshot's Job is behind the stored one (a sync that started before the cache saw the last sync's status
   * write): nothing was written; the store's resourceVersion to wait for before counting again.
   */
  staleUntil?: number;
}

/** The fields counting rests on: the totals and the uncounted list. */
export interface CountBase {
  succeeded: number;
  failed: number;
  uncounted: Uncounted;
}

/**
 * The Job's succeeded and failed totals, every finished pod counted once. Writes the first two steps
 * (list as uncounted, mark the pods); the caller's status write stores the totals and clears the list.
 * A Job whose status predates tracking (no uncountedTerminatedPods) keeps the old rule: counts never
 * go below what its pods show.
 *
 * The counting rests on the cache's Job; both writes are conditional on the stored Job still holding the
 * same counting fields (`sameBase`), as Kubernetes' status updates are on resourceVersion. Otherwise a list
 * computed from a stale Job written onto a newer status would list a pod already in the totals, and the next
 * sync would count it twice (a Job "complete" with one pod short, its last active pod deleted).
 */
export async function countFinished(ctx: ControllerContext, job: Job, pods: Pod[]): Promise<Counted> {
  const st = job.status;
  if (!isTracked(job))
    return { succeeded: Math.max(st?.succeeded ?? 0, pods.filter((p) => outcome(p) === 'succeeded').length), failed: Math.max(st?.failed ?? 0, pods.filter((p) => outcome(p) === 'failed').length), tracked: false };
  const uncounted = { succeeded: new Set(st?.uncountedTerminatedPods?.succeeded ?? []), failed: new Set(st?.uncountedTerminatedPods?.failed ?? []) };
  const fresh = pods.filter((p) => outcome(p) && !p.metadata.annotations?.[countedAnnotation] && !uncounted.succeeded.has(p.metadata.uid!) && !uncounted.failed.has(p.metadata.uid!));
  const seen = baseOf(job);
  let base = seen;
  if (fresh.length > 0) {
    for (const p of fresh) uncounted[outcome(p)!].add(p.metadata.uid!);
    const list: Uncounted = { succeeded: [...uncounted.succeeded], failed: [...uncounted.failed] };
    let stale = false;
    const res = await ctx.objects.mutate('Job', job.metadata.namespace, job.metadata.name, (cur) => {
      stale = false; // a retry on the stored object decides
      if (cur.metadata.uid !== job.metadata.uid) return undefined;
      if (!sameBase(baseOf(cur), seen)) return void (stale = true);
      cur.status = { ...(cur.status ?? {}), uncountedTerminatedPods: list };
      return cur;
    });
    if (!res) return { succeeded: st?.succeeded ?? 0, failed: st?.failed ?? 0, tracked: true };
    if (stale) return { succeeded: st?.succeeded ?? 0, failed: st?.failed ?? 0, tracked: true, staleUntil: Number(res.metadata.resourceVersion) };
    base = { ...seen, uncounted: list };
  }
  for (const p of pods) {
    const uid = p.metadata.uid!;
    if (!uncounted.succeeded.has(uid) && !uncounted.failed.has(uid)) continue;
    await ctx.objects.mutate('Pod', p.metadata.namespace, p.metadata.name, (cur) => {
      if (cur.metadata.uid !== uid || cur.metadata.annotations?.[countedAnnotation]) return undefined;
      cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), [countedAnnotation]: 'true' };
      return cur;
    });
  }
  return { succeeded: (st?.succeeded ?? 0) + uncounted.succeeded.size, failed: (st?.failed ?? 0) + uncounted.failed.size, tracked: true, base };
}

/** The counting fields of a Job's status. */
export function baseOf(job: Job): CountBase {
  const u = job.status?.uncountedTerminatedPods;
  return { succeeded: job.status?.succeeded ?? 0, failed: job.status?.failed ?? 0, uncounted: { succeeded: u?.succeeded ?? [], failed: u?.failed ?? [] } };
}

/** True when two bases hold the same totals and the same uncounted pods (in any order). */
export function sameBase(a: CountBase, b: CountBase): boolean {
  const same = (x: string[] = [], y: string[] = []) => x.length === y.length && x.every((v) => y.includes(v));
  return a.succeeded === b.succeeded && a.failed === b.failed && same(a.uncounted.succeeded, b.uncounted.succeeded) && same(a.uncounted.failed, b.uncounted.failed);
}

/** True when the Job counts pod by pod: a new Job, or one whose status has the uncounted list (`{}` included). */
export function isTracked(job: Job): boolean {
  return !job.status?.startTime || job.status.uncountedTerminatedPods !== undefined;
}
