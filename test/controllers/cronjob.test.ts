/**
 * CronJob controller rules on the fake clock: the schedule (and its time zone), Job names and the
 * scheduled-time annotation, concurrencyPolicy Allow / Forbid / Replace, history limits, a run missed
 * while the master was down (startingDeadlineSeconds), suspend. The test plays the Job controller:
 * Jobs finish when it says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Job } from '../../protocol/index.js';
import { startCronJobController } from '../../master/controllers/cronjob/sync.js';
import { harness, type Harness } from './harness.js';
import { cronJobWith } from './builders.js';

const minute = 60_000;

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.stop());

const cj = (name = 'tick') => h.get('CronJob', 'default', name)!;
const jobs = () => h.list('Job', 'default').sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
const finished = (j: Job) => j.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
const running = () => jobs().filter((j) => !finished(j));
/** Plays the Job controller: marks a Job Complete or Failed now. */
const finish = (j: Job, type: 'Complete' | 'Failed' = 'Complete') =>
  h.update('Job', 'default', j.metadata.name, (o) => {
    const at = new Date(h.clock.now()).toISOString();
    o.status = { ...(o.status ?? {}), conditions: [{ type, status: 'True', lastTransitionTime: at }], ...(type === 'Complete' ? { completionTime: at } : {}) };
  });
const start = () => h.run(startCronJobController);
const iso = (ms: number) => new Date(ms).toISOString();

describe('CronJob: schedule', () => {
  it('creates a Job at each scheduled time, named after it, and records lastScheduleTime', async () => {
    const t0 = h.clock.now(); // 2030-01-01T00:00:00Z
    await start();
    await h.create(cronJobWith({ schedule: '*/5 * * * *' }));
    await h.advance(5 * minute - 1000);
    expect(jobs()).toEqual([]);
    await h.advance(1000);
    const [j] = jobs();
    expect(j.metadata.name).toBe(`tick-${(t0 + 5 * minute) / minute}`);
    expect(j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(iso(t0 + 5 * minute));
    expect(j.metadata.labels).toEqual({ cron: 'tick' });
    expect(j.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick', controller: true });
    expect(cj().status).toMatchObject({ lastScheduleTime: iso(t0 + 5 * minute), active: [{ kind: 'Job', name: j.metadata.name }] });
    await h.advance(10 * minute);
    expect(jobs()).toHaveLength(3);
  });

  it('reads the schedule in spec.timeZone', async () => {
    const t0 = h.clock.now(); // midnight UTC = 09:00 in Tokyo
    await start();
    await h.create(cronJobWith({ schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' }));
    await h.advance(24 * 60 * minute);
    expect(jobs().map((j) => j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'])).toEqual([iso(t0 + 24 * 60 * minute)]);
  });

  it('the 6-field form ticks every second', async () => {
    await start();
    await h.create(cronJobWith({ schedule: '*/10 * * * * *' }));
    await h.advance(35_000);
    expect(jobs()).toHaveLength(3);
  });

  it('a suspended CronJob starts nothing; resumed, it starts the one most recent missed run', async () => {
    const t0 = h.clock.now();
    await start();
    await h.create(cronJobWith());
    await h.advance(minute);
    await h.update('CronJob', 'default', 'tick', (o) => (o.spec.suspend = true));
    await h.advance(3 * minute + 30_000);
    expect(jobs()).toHaveLength(1);
    await h.update('CronJob', 'default', 'tick', (o) => (o.spec.suspend = false));
    expect(jobs().map((j) => j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'])).toEqual([iso(t0 + minute), iso(t0 + 4 * minute)]);
  });
});

describe('CronJob: concurrencyPolicy', () => {
  it('Allow: a second run starts while the first still runs', async () => {
    await start();
    await h.create(cronJobWith({ concurrencyPolicy: 'Allow' }));
    await h.advance(2 * minute);
    expect(running()).toHaveLength(2);
    expect(cj().status?.active).toHaveLength(2);
  });

  it('Forbid: a run is skipped while the previous one runs; the next time after it finished starts', async () => {
    await start();
    await h.create(cronJobWith({ concurrencyPolicy: 'Forbid' }));
    await h.advance(3 * minute);
    expect(jobs()).toHaveLength(1);
    expect(h.reasons('CronJob', 'default', 'tick').filter((r) => r === 'JobAlreadyActive')).toHaveLength(2);
    await finish(jobs()[0]);
    expect(jobs()).toHaveLength(1); // a skipped run is not started late
    await h.advance(minute);
    expect(jobs()).toHaveLength(2);
    expect(running()).toHaveLength(1);
  });

  it('Replace: a new run deletes the running Job first', async () => {
    await start();
    await h.create(cronJobWith({ concurrencyPolicy: 'Replace' }));
    await h.advance(minute);
    const [first] = jobs();
    await h.advance(minute);
    expect(jobs().map((j) => j.metadata.name)).not.toContain(first.metadata.name);
    expect(running()).toHaveLength(1);
    expect(cj().status?.active?.map((a) => a.name)).toEqual([jobs()[0].metadata.name]);
  });
});

describe('CronJob: history', () => {
  it.each([
    ['Complete', 2, 2],
    ['Failed', 1, 1],
    ['Complete', 0, 0],
  ] as const)('keeps the newest %s Jobs up to their limit (%i)', async (type, limit, kept) => {
    await start();
    await h.create(cronJobWith({ successfulJobsHistoryLimit: type === 'Complete' ? limit : 3, failedJobsHistoryLimit: type === 'Failed' ? limit : 1 }));
    for (let i = 0; i < 4; i++) {
      await h.advance(minute);
      for (const j of running()) await finish(j, type);
    }
    const left = jobs();
    expect(left).toHaveLength(kept);
    if (kept > 0) expect(left.at(-1)!.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(iso(h.clock.now()));
    if (type === 'Complete' && kept > 0) expect(cj().status?.lastSuccessfulTime).toBe(iso(h.clock.now()));
  });
});

describe('CronJob: a run missed while the master was down', () => {
  // The CronJob last ran 10 minutes before the master starts, 45 s past a scheduled minute.
  it.each([
    ['no startingDeadlineSeconds: the most recent missed run starts late', undefined, 1],
    ['startingDeadlineSeconds 60: 45 s late is still in time', 60, 1],
    ['startingDeadlineSeconds 30: 45 s late is too late', 30, 0],
  ])('%s', async (_what, startingDeadlineSeconds, started) => {
    const t0 = h.clock.now();
    await h.create(cronJobWith({ startingDeadlineSeconds }));
    await h.update('CronJob', 'default', 'tick', (o) => (o.status = { lastScheduleTime: iso(t0 - 10 * minute) }));
    await h.clock.advance(45_000);
    await start();
    expect(jobs().map((j) => j.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'])).toEqual(started ? [iso(t0)] : []);
  });
});
