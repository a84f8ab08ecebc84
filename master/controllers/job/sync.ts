/**
 * The Job controller (batch/v1): runs pods from the template until `completions` succeed, at most
 * `parallelism` at once; replaces failed pods after a doubling back-off until `backoffLimit`; fails the
 * Job at `activeDeadlineSeconds`; keeps status (active, ready, succeeded, failed, startTime,
 * completionTime, conditions Complete/Failed) and deletes a finished Job after ttlSecondsAfterFinished
 * (Kubernetes' TTL-after-finished controller; the garbage collector then removes its pods).
 */
import { isReady, type Job, type Pod } from '../../../protocol/index.js';
import { realClock } from '../../clock.js';
import { cacheKey, keyOf } from '../../informer.js';
import { WorkQueue } from '../queue.js';
import { createPods, deletePods, type PodWrites } from '../podcontrol.js';
import { controllerOf, controllerRef, deletionOrder, isActive, isTerminating } from '../pods.js';
import type { ControllerContext, SyncController } from '../types.js';
import { backoffDelay, deadlineAt, failureOf, finishedCondition, isComplete, lastFailureTime, wantActive, type JobCounts } from './rules.js';
import { baseOf, countFinished, sameBase, type CountBase } from './tracking.js';

/** Options of the Job controller. */
export interface JobControllerOptions {
  /** First retry delay after a pod failure, doubled per failure (Kubernetes: 10 s). */
  backoffBaseMs: number;
}

/** Labels Kubernetes puts on a Job's pods. */
export function jobPodLabels(job: Job): Record<string, string> {
  return {
    'batch.kubernetes.io/controller-uid': job.metadata.uid!,
    'batch.kubernetes.io/job-name': job.metadata.name,
    'controller-uid': job.metadata.uid!,
    'job-name': job.metadata.name,
  };
}

/** The pod a Job creates from its template. */
export function podFromJob(job: Job): Pod {
  const t = job.spec.template;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: '',
      generateName: `${job.metadata.name}-`,
      namespace: job.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}), ...jobPodLabels(job) },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(job)],
    },
    spec: structuredClone(t.spec),
    status: { phase: 'Pending' },
  };
}

/** Starts the Job controller. */
export function startJobController(ctx: ControllerContext, opts: JobControllerOptions = { backoffBaseMs: 10_000 }): SyncController {
  const { informers, objects, events } = ctx;
  const clock = ctx.clock ?? realClock;
  const queue = new WorkQueue('job', sync, ctx.log, clock);

  informers.on('Job', (_j, _old, job) => queue.add(keyOf(job)));
  informers.on('Pod', (_p, _old, pod) => {
    const ref = controllerOf(pod);
    if (ref?.kind === 'Job') queue.add(cacheKey(pod.metadata.namespace, ref.name));
  });

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const job = informers.get('Job', ns, name);
    if (!job || isTerminating(job)) return;
    const now = clock.now();
    if (finishedCondition(job)) return expireIfDue(job, now);

    const pods = informers.dependents('Pod', job.metadata.uid!).filter((p) => controllerOf(p)?.uid === job.metadata.uid);
    const active = pods.filter(isActive);
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    // Every finished pod counted once, deleted or not: a user deleting failed pods buys the Job no attempts.
    const { succeeded, failed, base, staleUntil } = await countFinished(ctx, job, pods);
    if (staleUntil !== undefined) {
      // Counted from a Job the cache had not caught up with: count again once it has (nothing was written).
      await informers.waitForRevision(staleUntil);
      return queue.add(key);
    }
    const counts: JobCounts = { active: active.length, succeeded, failed };
    const started = job.status?.startTime ? job : { ...job, status: { ...job.status, startTime: new Date(now).toISOString() } };

    const failure = failureOf(started, counts, active, now);
    const complete = !failure && isComplete(job, counts);
    let writes: PodWrites | undefined;
    if (failure || complete) {
      // A finished Job leaves nothing running (Kubernetes deletes the active pods of a failed or complete Job).
      writes = await deletePods(ctx, job, active, ` (${failure ? `Job failed: ${failure.reason}` : 'Job completed'})`);
      counts.active = 0;
      events.object('Job', ns, name, failure ? 'Warning' : 'Normal', failure ? failure.reason : 'Completed', failure ? failure.message : 'Job completed');
    } else {
      const want = wantActive(job, counts);
      if (active.length < want) {
        const wait = retryWait(counts.failed, failedPods, now);
        if (wait > 0) queue.addAfter(key, wait);
        else writes = await createPods(ctx, job, Math.min(want, objects.maxReplicas) - active.length, () => podFromJob(job));
      } else if (active.length > want) writes = await deletePods(ctx, job, [...active].sort(deletionOrder).slice(0, active.length - want), ' (parallelism lowered)');
      const deadline = deadlineAt(started);
      if (deadline !== undefined) queue.addAfter(key, Math.max(0, deadline - now) + 10);
    }
    if (writes?.revision) await informers.waitForRevision(writes.revision);
    const stale = await writeStatus(job, started.status!.startTime!, counts, pods, failure, complete, now, base);
    if (stale !== undefined) {
      await informers.waitForRevision(stale);
      queue.add(key);
    }
    if (writes?.error) throw writes.error;
  }

  /** How long to wait before replacing failed pods (0 = now), from the last failure's time. */
  function retryWait(failed: number, failedPods: Pod[], now: number): number {
    if (failed === 0) return 0;
    const last = lastFailureTime(failedPods);
    if (last === undefined) return 0;
    return Math.max(0, last + backoffDelay(failed, opts.backoffBaseMs) - now);
  }

  /**
   * Stores the status; with `base` (a tracked Job) only onto a stored Job still holding that base, else it writes
   * nothing and returns the stored resourceVersion to wait for (the totals rest on the base).
   */
  async function writeStatus(job: Job, startTime: string, counts: JobCounts, pods: Pod[], failure: { reason: string; message: string } | undefined, complete: boolean, now: number, base: CountBase | undefined): Promise<number | undefined> {
    const at = new Date(now).toISOString();
    const conditions: NonNullable<Job['status']>['conditions'] = [...(job.status?.conditions ?? [])];
    if (failure) conditions.push({ type: 'Failed', status: 'True', reason: failure.reason, message: failure.message, lastProbeTime: at, lastTransitionTime: at });
    if (complete) conditions.push({ type: 'Complete', status: 'True', lastProbeTime: at, lastTransitionTime: at });
    const status: NonNullable<Job['status']> = {
      startTime,
      active: counts.active,
      ready: counts.active === 0 ? 0 : pods.filter((p) => isActive(p) && isReady(p)).length,
      succeeded: counts.succeeded,
      failed: counts.failed,
      // The counts now hold every finished pod (countFinished listed and marked them).
      ...(base ? { uncountedTerminatedPods: {} } : {}),
      ...(conditions.length ? { conditions } : {}),
      ...(complete ? { completionTime: at } : {}),
    };
    let stale = false;
    const res = await objects.mutate('Job', job.metadata.namespace, job.metadata.name, (cur) => {
      stale = false; // a retry on the stored object decides
      if (cur.metadata.uid !== job.metadata.uid || finishedCondition(cur)) return undefined;
      if (base && !sameBase(baseOf(cur), base)) return void (stale = true);
      cur.status = { ...(cur.status ?? {}), ...status };
      return cur;
    });
    return stale && res ? Number(res.metadata.resourceVersion) : undefined;
  }

  /** ttlSecondsAfterFinished: delete the Job (its pods follow by cascade) once the time has passed. */
  async function expireIfDue(job: Job, now: number): Promise<void> {
    const ttl = job.spec.ttlSecondsAfterFinished;
    if (ttl === undefined) return;
    const finished = Date.parse(job.status?.completionTime ?? finishedCondition(job)?.lastTransitionTime ?? '');
    const due = (Number.isFinite(finished) ? finished : now) + ttl * 1000;
    if (now < due) return queue.addAfter(cacheKey(job.metadata.namespace, job.metadata.name), due - now + 10);
    events.object('Job', job.metadata.namespace, job.metadata.name, 'Normal', 'Expired', `Job finished more than ${ttl}s ago (ttlSecondsAfterFinished)`);
    await objects.delete('Job', job.metadata.namespace, job.metadata.name).catch((err) => {
      if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
    });
  }

  return { name: 'job', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}
