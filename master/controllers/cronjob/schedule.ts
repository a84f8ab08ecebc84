/**
 * A CronJob's clock: one node-cron task per CronJob (rescheduled when its schedule, time zone or
 * suspension changes), and the late-start rule for schedules missed while the master was down.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { CronJob } from '../../../protocol/index.js';

/** A running task and what it was made from. */
export interface Ticker {
  task: ScheduledTask;
  /** schedule, time zone and uid: a change of any replaces the task. */
  shape: string;
}

/** What a ticker is made from. */
export function shapeOf(cj: CronJob): string {
  return JSON.stringify([cj.spec.schedule, cj.spec.timeZone ?? '', cj.metadata.uid]);
}

/** True for the 6-field form, whose first field is seconds. */
export function hasSeconds(schedule: string): boolean {
  return !schedule.startsWith('@') && schedule.trim().split(/\s+/).length === 6;
}

/** Starts a node-cron task calling `onTick(scheduledTime)` at each time the schedule names. */
export function startTicker(cj: CronJob, key: string, onTick: (at: Date) => void): Ticker {
  const task = cron.schedule(cj.spec.schedule, (c) => onTick(c.date), {
    name: `cronjob/${key}/${cj.metadata.uid}`,
    // Our callback only queues work, but never let two invocations of one CronJob's tick overlap.
    noOverlap: true,
    timezone: cj.spec.timeZone,
    // The master's sockets keep the process alive; a timer must not keep a stopped master alive.
    unref: true,
    suppressMissedWarning: true,
  });
  return { task, shape: shapeOf(cj) };
}

/** Stops and unregisters a task. */
export async function stopTicker(t: Ticker): Promise<void> {
  await t.task.stop();
  await t.task.destroy();
}

/**
 * The most recent scheduled time in (since, now] — a run missed while the master was down — or
 * undefined. Kubernetes starts the most recent missed run late unless it is older than
 * startingDeadlineSeconds; Skiff looks back at most `lookbackMs` (1 h) without a deadline.
 */
export function mostRecentMissed(cj: CronJob, t: Ticker, since: number, now: number, lookbackMs = 3_600_000): Date | undefined {
  const step = hasSeconds(cj.spec.schedule) ? 1000 : 60_000;
  const window = cj.spec.startingDeadlineSeconds !== undefined ? cj.spec.startingDeadlineSeconds * 1000 : lookbackMs;
  const from = Math.max(since + 1, now - window);
  for (let at = Math.floor(now / step) * step; at >= from; at -= step) if (t.task.match(new Date(at))) return new Date(at);
  return undefined;
}
