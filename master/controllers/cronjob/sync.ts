/**
 * The CronJob controller (batch/v1), driven by node-cron: at each scheduled time it creates a Job from
 * `jobTemplate`, honouring concurrencyPolicy (Allow, Forbid: skip while one runs, Replace: delete the
 * running one first), `suspend`, `startingDeadlineSeconds` (a start later than that is skipped), and
 * keeps `successfulJobsHistoryLimit` / `failedJobsHistoryLimit` finished Jobs. Status: active,
 * lastScheduleTime, lastSuccessfulTime.
 */
import type { CronJob, Job, ObjectReference } from './types.js';
import { realClock } from '../../clock.js';
import { cacheKey, keyOf } from '../../informer.js';
import { WorkQueue } from '../queue.js';
import { controllerOf, controllerRef, createDependent, isTerminating } from '../pods.js';
import type { ControllerContext, SyncController } from '../types.js';
import { finishedCondition } from '../job/rules.js';
import { hasSeconds, mostRecentMissed, shapeOf, startTicker, type Ticker } from './schedule.js';

/** The annotation Kubernetes (≥ 1.28) puts on a Job with the time it was scheduled for. */
export const scheduledTimestampAnnotation = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

/** The Job name for a scheduled time: `{cronjob}-{minutes since epoch}` as Kubernetes; seconds for a 6-field schedule. */
export function jobName(cj: CronJob, at: Date): string {
  const unit = hasSeconds(cj.spec.schedule) ? 1000 : 60_000;
  return `${cj.metadata.name}-${Math.floor(at.getTime() / unit)}`;
}

/** The Job a CronJob creates for a scheduled time. */
export function jobFor(cj: CronJob, at: Date): Job {
  const t = cj.spec.jobTemplate;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobName(cj, at),
      namespace: cj.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}) },
      annotations: { ...(t.metadata?.annotations ?? {}), [scheduledTimestampAnnotation]: at.toISOString() },
      ownerReferences: [controllerRef(cj)],
    },
    spec: structuredClone(t.spec),
  };
}

const ref = (j: Job): ObjectReference => ({ apiVersion: 'batch/v1', kind: 'Job', name: j.metadata.name, namespace: j.metadata.namespace, uid: j.metadata.uid! });
const finishedAt = (j: Job) => Date.parse(j.status?.completionTime ?? finishedCondition(j)?.lastTransitionTime ?? j.metadata.creationTimestamp ?? '') || 0;

/** Starts the CronJob controller. */
export function startCronJobController(ctx: ControllerContext): SyncController {
  const { informers, objects, events } = ctx;
  const clock = ctx.clock ?? realClock;
  const tickers = new Map<string, Ticker>();
  /** Scheduled times that fired and wait for their sync, per CronJob key. */
  const due = new Map<string, Date[]>();
  const queue = new WorkQueue('cronjob', sync, ctx.log, clock);
  let stopped = false;

  informers.on('CronJob', (_cj, _old, cj) => queue.add(keyOf(cj)));
  informers.on('Job', (_j, _old, o) => {
    const r = controllerOf(o);
    if (r?.kind === 'CronJob') queue.add(cacheKey(o.metadata.namespace, r.name));
  });

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const cj = informers.get('CronJob', ns, name);
    if (!cj || isTerminating(cj) || stopped) {
      due.delete(key);
      const t = tickers.get(key);
      tickers.delete(key);
      if (t) await t.stop();
      return;
    }
    const fresh = await ensureTicker(key, cj);
    const jobs = informers.dependents('Job', cj.metadata.uid!).filter((j) => controllerOf(j)?.uid === cj.metadata.uid);
    let active = jobs.filter((j) => !finishedCondition(j) && !isTerminating(j));
    const runs = due.get(key) ?? [];
    due.delete(key);
    const last = Date.parse(cj.status?.lastScheduleTime ?? '') || 0;
    if (fresh && runs.length === 0 && last > 0) {
      // A new task (master start, schedule change, resume): catch up a run missed meanwhile. A run that
      // Forbid skipped is not started late (Kubernetes would, when no startingDeadlineSeconds is set).
      const missed = mostRecentMissed(cj, fresh, last, clock.now());
      if (missed) runs.push(missed);
    }
    let scheduled: Date | undefined;
    // Only the newest due time matters: older ones were missed (Kubernetes starts at most one).
    const at = runs.sort((a, b) => a.getTime() - b.getTime()).pop();
    if (at && !cj.spec.suspend && at.getTime() > last) {
      const started = await startRun(cj, at, active);
      if (started) {
        scheduled = at;
        active = started;
      }
    }
    await pruneHistory(cj, jobs);
    await writeStatus(cj, active, jobs, scheduled);
  }

  /** Keeps one ticker per CronJob (none while suspended); returns it when it was started just now. */
  async function ensureTicker(key: string, cj: CronJob): Promise<Ticker | undefined> {
    let t = tickers.get(key);
    if (t && (t.shape !== shapeOf(cj) || cj.spec.suspend)) {
      tickers.delete(key);
      await t.stop();
      t = undefined;
    }
    if (t || cj.spec.suspend) return undefined;
    t = startTicker(cj, key, clock, (at) => {
      due.set(key, [...(due.get(key) ?? []), at]);
      queue.add(key);
    });
    tickers.set(key, t);
    return t;
  }

  /** Starts the Job for `at` under the concurrency policy; returns the new active list, or undefined when skipped. */
  async function startRun(cj: CronJob, at: Date, active: Job[]): Promise<Job[] | undefined> {
    const { namespace: ns, name } = cj.metadata;
    const lateMs = clock.now() - at.getTime();
    if (cj.spec.startingDeadlineSeconds !== undefined && lateMs > cj.spec.startingDeadlineSeconds * 1000) {
      events.object('CronJob', ns, name, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${at.toISOString()} (${Math.round(lateMs / 1000)}s late, startingDeadlineSeconds ${cj.spec.startingDeadlineSeconds})`);
      return undefined;
    }
    if (active.length > 0 && cj.spec.concurrencyPolicy === 'Forbid') {
      events.object('CronJob', ns, name, 'Normal', 'JobAlreadyActive', `Not starting job because prior execution is running and concurrency policy is Forbid`);
      return undefined;
    }
    if (active.length > 0 && cj.spec.concurrencyPolicy === 'Replace') {
      for (const j of active) {
        await objects.delete('Job', ns, j.metadata.name).catch((err) => {
          if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
        });
        events.object('CronJob', ns, name, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name} (concurrency policy Replace)`);
      }
      active = [];
    }
    try {
      const j = await createDependent(ctx, cj, jobFor(cj, at));
      events.object('CronJob', ns, name, 'Normal', 'SuccessfulCreate', `Created job ${j.metadata.name}`);
      await informers.waitForRevision(Number(j.metadata.resourceVersion));
      return [...active, j];
    } catch (err: any) {
      if (err?.code === 'SKIFF_ERR_ALREADY_EXISTS') return active; // this time already ran (idempotent, as Kubernetes)
      throw err;
    }
  }

  /** Deletes the oldest finished Jobs beyond the history limits (their pods follow by cascade). */
  async function pruneHistory(cj: CronJob, jobs: Job[]): Promise<void> {
    const finished = (type: string) => jobs.filter((j) => finishedCondition(j)?.type === type && !isTerminating(j)).sort((a, b) => finishedAt(b) - finishedAt(a));
    const extra = [...finished('Complete').slice(cj.spec.successfulJobsHistoryLimit ?? 3), ...finished('Failed').slice(cj.spec.failedJobsHistoryLimit ?? 1)];
    for (const j of extra)
      await objects.delete('Job', j.metadata.namespace, j.metadata.name).catch((err) => {
        if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
      });
  }

  async function writeStatus(cj: CronJob, active: Job[], jobs: Job[], scheduled: Date | undefined): Promise<void> {
    const succeeded = jobs.filter((j) => finishedCondition(j)?.type === 'Complete').map(finishedAt);
    await objects.mutate('CronJob', cj.metadata.namespace, cj.metadata.name, (cur) => {
      if (cur.metadata.uid !== cj.metadata.uid) return undefined;
      const s = { ...(cur.status ?? {}) };
      if (active.length) s.active = active.map(ref);
      else delete s.active;
      if (scheduled) s.lastScheduleTime = scheduled.toISOString();
      const lastOk = Math.max(Date.parse(s.lastSuccessfulTime ?? '') || 0, ...succeeded);
      if (lastOk > 0) s.lastSuccessfulTime = new Date(lastOk).toISOString();
      cur.status = s;
      return cur;
    });
  }

  return {
    name: 'cronjob',
    sync,
    idle: () => queue.idle(),
    stop() {
      stopped = true;
      queue.stop();
      for (const t of tickers.values()) void t.stop();
      tickers.clear();
    },
  };
}
