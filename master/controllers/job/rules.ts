/**
 * The Job controller's rules as pure functions (Kubernetes pkg/controller/job): how many pods should
 * run, when failures exhaust backoffLimit, when the deadline is past, and the retry back-off.
 */
import type { Job, Pod } from '../../../protocol/index.js';

/** Kubernetes' DefaultJobPodFailureBackOff (10 s) doubles per failure up to MaxJobPodFailureBackOff (6 min). */
export const maxBackoffMs = 360_000;

/** Pod counts of a Job. */
export interface JobCounts {
  active: number;
  succeeded: number;
  failed: number;
}

/** Restarts of a pod's containers (init and regular), as pastBackoffLimitOnFailure sums them. */
export function podRestarts(p: Pod): number {
  return (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}

/**
 * Why the Job has failed, or undefined. Kubernetes: with restartPolicy Never a Job fails once
 * `failed > backoffLimit` (so backoffLimit 2 allows three attempts); with OnFailure the restarts of its
 * running and pending pods count too (`restarts >= backoffLimit`, or any restart when the limit is 0).
 */
export function failureOf(job: Job, counts: JobCounts, activePods: Pod[], now: number): { reason: string; message: string } | undefined {
  const limit = job.spec.backoffLimit ?? 6;
  if (counts.failed > limit) return { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
  if (job.spec.template.spec.restartPolicy === 'OnFailure') {
    const restarts = activePods.filter((p) => p.status?.phase === 'Running' || p.status?.phase === 'Pending' || !p.status?.phase).reduce((n, p) => n + podRestarts(p), 0);
    if (limit === 0 ? restarts > 0 : restarts >= limit) return { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
  }
  const deadline = deadlineAt(job);
  if (deadline !== undefined && now >= deadline) return { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
  return undefined;
}

/** When activeDeadlineSeconds runs out (ms since epoch), counted from status.startTime. */
export function deadlineAt(job: Job): number | undefined {
  if (job.spec.activeDeadlineSeconds === undefined || !job.status?.startTime) return undefined;
  return Date.parse(job.status.startTime) + job.spec.activeDeadlineSeconds * 1000;
}

/** True when the Job has what it needs: `completions` successes, or (a work queue) one success and nothing left running. */
export function isComplete(job: Job, counts: JobCounts): boolean {
  if (job.spec.completions !== undefined) return counts.succeeded >= job.spec.completions;
  return counts.succeeded > 0 && counts.active === 0;
}

/**
 * How many pods should be running now (Kubernetes' wantActive): parallelism, but never more than the
 * completions still missing; a work queue starts no new pods once one has succeeded.
 */
export function wantActive(job: Job, counts: JobCounts): number {
  const parallelism = job.spec.parallelism ?? 1;
  if (job.spec.completions === undefined) return counts.succeeded > 0 ? Math.min(counts.active, parallelism) : parallelism;
  return Math.max(0, Math.min(parallelism, job.spec.completions - counts.succeeded));
}

/** The delay before a replacement pod after `failed` failures: base × 2^(failed−1), at most 6 min. */
export function backoffDelay(failed: number, baseMs: number): number {
  if (failed <= 0) return 0;
  return Math.min(maxBackoffMs, baseMs * 2 ** Math.min(failed - 1, 30));
}

/** When the last pod failed: the latest finishedAt among failed pods' containers (undefined when unknown). */
export function lastFailureTime(failedPods: Pod[]): number | undefined {
  let at: number | undefined;
  for (const p of failedPods)
    for (const c of p.status?.containerStatuses ?? []) {
      const t = Date.parse(c.state?.terminated?.finishedAt ?? '');
      if (Number.isFinite(t)) at = Math.max(at ?? 0, t);
    }
  return at;
}

/** The finished condition of a Job (Complete or Failed with status True), if any. */
export function finishedCondition(job: Job): { type: string; lastTransitionTime?: string } | undefined {
  return job.status?.conditions?.find((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}
