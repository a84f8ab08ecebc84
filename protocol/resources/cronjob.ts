/** CronJob (batch/v1): its type, validation (the schedule checked by node-cron) and defaults. */
import { validateDetailed } from 'node-cron';
import type { Checker } from '../check.js';
import type { KObject, ObjectMeta } from '../types.js';
import { checkJobSpec, defaultJobSpec, type Job } from './job.js';

/** A CronJob: creates a Job from `jobTemplate` at each time `schedule` names. */
export interface CronJob extends KObject {
  kind: 'CronJob';
  spec: {
    /** Cron: 5 fields (minute hour day-of-month month day-of-week), a 6-field form with seconds first, or @hourly/@daily/... */
    schedule: string;
    /** IANA time zone name (e.g. Europe/Berlin); absent: the master's local time. */
    timeZone?: string;
    concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
    suspend?: boolean;
    startingDeadlineSeconds?: number;
    successfulJobsHistoryLimit?: number;
    failedJobsHistoryLimit?: number;
    jobTemplate: { metadata?: Partial<ObjectMeta>; spec: Job['spec'] };
  };
  status?: {
    active?: { apiVersion: string; kind: string; name: string; namespace?: string; uid: string }[];
    lastScheduleTime?: string;
    lastSuccessfulTime?: string;
  };
}

/** True when `tz` is a time zone the runtime knows (IANA names, as Kubernetes' timeZone field takes). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Checks a cron expression with node-cron, naming the cron field that is wrong. */
export function checkSchedule(c: Checker, v: unknown, f: string): void {
  if (!c.string(v, f, true)) return;
  // Kubernetes refuses a time zone inside the schedule: it belongs in spec.timeZone.
  if (/^\s*(CRON_)?TZ=/.test(v)) {
    c.fail(f, 'must not carry TZ= or CRON_TZ=; use spec.timeZone', v);
    return;
  }
  const r = validateDetailed(v.trim());
  if (r.valid) return;
  const detail = r.errors.map((e) => (e.field === 'expression' ? e.message : `${e.field} field: ${e.message}`)).join('; ');
  c.fail(f, `must be a cron expression (5 fields, or 6 with seconds first): ${detail}`, v);
}

/** Checks a CronJob's spec as batch/v1 does. */
export function checkCronJob(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  const s = o.spec;
  checkSchedule(c, s.schedule, 'spec.schedule');
  if (c.string(s.timeZone, 'spec.timeZone') && !isTimeZone(s.timeZone)) c.fail('spec.timeZone', 'must be an IANA time zone name such as Europe/Berlin', s.timeZone);
  c.oneOf(s.concurrencyPolicy, 'spec.concurrencyPolicy', ['Allow', 'Forbid', 'Replace']);
  c.bool(s.suspend, 'spec.suspend');
  c.int(s.startingDeadlineSeconds, 'spec.startingDeadlineSeconds', 0);
  c.int(s.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit', 0);
  c.int(s.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit', 0);
  if (!c.object(s.jobTemplate, 'spec.jobTemplate', true)) return;
  if (c.object(s.jobTemplate.metadata, 'spec.jobTemplate.metadata')) {
    c.labels(s.jobTemplate.metadata.labels, 'spec.jobTemplate.metadata.labels');
    c.stringMap(s.jobTemplate.metadata.annotations, 'spec.jobTemplate.metadata.annotations');
  }
  if (c.object(s.jobTemplate.spec, 'spec.jobTemplate.spec', true)) checkJobSpec(c, s.jobTemplate.spec, 'spec.jobTemplate.spec');
}

/** CronJob defaults, as in batch/v1: Allow, not suspended, history 3 successful and 1 failed. */
export function defaultCronJob(o: CronJob): void {
  const s = o.spec;
  s.schedule = s.schedule.trim();
  s.concurrencyPolicy ??= 'Allow';
  s.suspend ??= false;
  s.successfulJobsHistoryLimit ??= 3;
  s.failedJobsHistoryLimit ??= 1;
  defaultJobSpec(s.jobTemplate.spec);
}
