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

/**
 * The Job's succeeded and failed totals, every finished pod counted once. Writes the first two steps
 * (list as uncounted, mark the pods); the caller's status write stores the totals and clears the list.
 * A Job whose status predates tracking (no uncountedTerminatedPods) keeps the old rule: counts never
 * go below what its pods show.
 */
export async function countFinished(ctx: ControllerContext, job: Job, pods: Pod[]): Promise<{ succeeded: number; failed: number; tracked: boolean }> {
  const st = job.status;
  if (!isTracked(job))
    return { succeeded: Math.max(st?.succeeded ?? 0, pods.filter((p) => outcome(p) === 'succeeded').length), failed: Math.max(st?.failed ?? 0, pods.filter((p) => outcome(p) === 'failed').length), tracked: false };
  const uncounted = { succeeded: new Set(st?.uncountedTerminatedPods?.succeeded ?? []), failed: new Set(st?.uncountedTerminatedPods?.failed ?? []) };
  const fresh = pods.filter((p) => outcome(p) && !p.metadata.annotations?.[countedAnnotation] && !uncounted.succeeded.has(p.metadata.uid!) && !uncounted.failed.has(p.metadata.uid!));
  if (fresh.length > 0) {
    for (const p of fresh) uncounted[outcome(p)!].add(p.metadata.uid!);
    const list: Uncounted = { succeeded: [...uncounted.succeeded], failed: [...uncounted.failed] };
    const res = await ctx.objects.mutate('Job', job.metadata.namespace, job.metadata.name, (cur) => {
      if (cur.metadata.uid !== job.metadata.uid) return undefined;
      cur.status = { ...(cur.status ?? {}), uncountedTerminatedPods: list };
      return cur;
    });
    if (!res) return { succeeded: st?.succeeded ?? 0, failed: st?.failed ?? 0, tracked: true };
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
  return { succeeded: (st?.succeeded ?? 0) + uncounted.succeeded.size, failed: (st?.failed ?? 0) + uncounted.failed.size, tracked: true };
}

/** True when the Job counts pod by pod: a new Job, or one whose status has the uncounted list (`{}` included). */
export function isTracked(job: Job): boolean {
  return !job.status?.startTime || job.status.uncountedTerminatedPods !== undefined;
}
