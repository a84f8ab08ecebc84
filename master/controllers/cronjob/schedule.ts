/**
 * A CronJob's clock. node-cron parses the schedule and matches times in the CronJob's time zone; a
 * timer on the controller's clock wakes at every step boundary (each minute, or each second for the
 * 6-field form) and reports the boundaries the schedule names. Waking per step instead of sleeping
 * until the next match keeps the ticker on the injected clock (tests move it with a fake one) and
 * costs one match per CronJob per step. The late-start rule for schedules missed while the master
 * was down is here too.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Clock, Timer } from '../../clock.js';
import type { CronJob } from '../../../protocol/index.js';

/** A running ticker and what it was made from. */
export interface Ticker {
  /** schedule, time zone and uid: a change of any replaces the ticker. */
  shape: string;
  /** True when the schedule names this time (to the step). */
  match(at: Date): boolean;
  /** Stops the timer and releases the parsed schedule. */
  stop(): Promise<void>;
}

/** What a ticker is made from. */
export function shapeOf(cj: CronJob): string {
  return JSON.stringify([cj.spec.schedule, cj.spec.timeZone ?? '', cj.metadata.uid]);
}

/** True for the 6-field form, whose first field is seconds. */
export function hasSeconds(schedule: string): boolean {
  return !schedule.startsWith('@') && schedule.trim().split(/\s+/).length === 6;
}

/** The schedule's resolution in ms: a second for the 6-field form, else a minute. */
export function stepOf(schedule: string): number {
  return hasSeconds(schedule) ? 1000 : 60_000;
}

/** The latest step boundary in [from, to] the schedule names, scanning back at most `maxSteps`. */
function latestMatch(match: (at: Date) => boolean, from: number, to: number, step: number, maxSteps = 3600): number | undefined {
  const stop = Math.max(from, to - maxSteps * step);
  for (let at = Math.floor(to / step) * step; at >= stop; at -= step) if (match(new Date(at))) return at;
  return undefined;
}

/** Starts a ticker calling `onTick(scheduledTime)` at each time the schedule names. */
export function startTicker(cj: CronJob, key: string, clock: Clock, onTick: (at: Date) => void): Ticker {
  // A task that is never started: node-cron's parser and time-zone-aware matcher, nothing more.
  const matcher: ScheduledTask = cron.createTask(cj.spec.schedule, () => undefined, { name: `cronjob/${key}/${cj.metadata.uid}`, timezone: cj.spec.timeZone });
  const match = (at: Date) => matcher.match(at);
  const step = stepOf(cj.spec.schedule);
  let next = Math.floor(clock.now() / step) * step + step;
  let timer: Timer | undefined;
  let stopped = false;
  const arm = () => (timer = clock.after(next - clock.now(), wake));
  function wake(): void {
    if (stopped) return;
    const now = clock.now();
    if (now < next) return void arm(); // woke early (timers and the wall clock disagree by a millisecond)
    // A late wake (a blocked event loop, a suspended board) reports only the latest due time: the
    // controller starts at most one missed run, as Kubernetes does.
    const due = latestMatch(match, next, now, step);
    next = Math.floor(now / step) * step + step;
    arm();
    if (due !== undefined) onTick(new Date(due));
  }
  arm();
  return {
    shape: shapeOf(cj),
    match,
    async stop() {
      stopped = true;
      timer?.cancel();
      await matcher.destroy();
    },
  };
}

/**
 * The most recent scheduled time in (since, now] — a run missed while the master was down — or
 * undefined. Kubernetes starts the most recent missed run late unless it is older than
 * startingDeadlineSeconds; Skiff looks back at most `lookbackMs` (1 h) without a deadline.
 */
export function mostRecentMissed(cj: CronJob, t: Pick<Ticker, 'match'>, since: number, now: number, lookbackMs = 3_600_000): Date | undefined {
  const step = stepOf(cj.spec.schedule);
  const window = cj.spec.startingDeadlineSeconds !== undefined ? cj.spec.startingDeadlineSeconds * 1000 : lookbackMs;
  const from = Math.max(since + 1, now - window);
  const at = latestMatch(t.match, from, now, step, Math.ceil(window / step) + 1);
  return at === undefined ? undefined : new Date(at);
}
