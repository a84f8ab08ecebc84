/**
 * CronJobs over a real in-process cluster, on a 6-field (seconds) schedule: Forbid never lets two of
 * its Jobs run at once (checked on every Job change), while Allow does; Replace swaps the running Job;
 * history limits prune finished Jobs; suspend stops new runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CronJob, Job } from '../../protocol/index.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';

const cronJob = (name: string, policy: string, seconds: number, extra = '') => `
apiVersion: batch/v1
kind: CronJob
metadata: {name: ${name}}
spec:
  schedule: '* * * * * *'
  concurrencyPolicy: ${policy}
  successfulJobsHistoryLimit: 1
${extra}
  jobTemplate:
    metadata: {labels: {cron: ${name}}}
    spec:
      template:
        metadata: {labels: {cron: ${name}}}
        spec:
          restartPolicy: Never
          terminationGracePeriodSeconds: 1
          containers: [{name: main, command: [sleep, '${seconds}']}]
`;

const finished = (j: Job) => j.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

/** Watches every Job change of a CronJob in the master's cache: most running at once, every name seen. */
function watchJobs(c: TestCluster, name: string) {
  const seen = { maxActive: 0, names: new Set<string>(), completed: new Set<string>() };
  c.master.informers.on('Job', (j) => {
    if (j?.metadata.labels?.cron !== name) return;
    seen.names.add(j.metadata.name);
    if (finished(j as Job)) seen.completed.add(j.metadata.name);
    const running = c.master.informers.list<Job>('Job').filter((x) => x.metadata.labels?.cron === name && !finished(x));
    seen.maxActive = Math.max(seen.maxActive, running.length);
  });
  return seen;
}

const jobsOf = async (c: TestCluster, name: string) => (await c.api.request<{ items: Job[] }>('list', { kind: 'Job', namespace: 'default', labelSelector: `cron=${name}` })).items;
const stop = (c: TestCluster, name: string) => c.api.request('delete', { kind: 'CronJob', name, namespace: 'default' });

describe('CronJob', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['cron-a']);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('Forbid: never two Jobs at once, history pruned to the limit, suspend stops new runs', async () => {
    const seen = watchJobs(c, 'forbid');
    await c.apply(cronJob('forbid', 'Forbid', 1.5));
    // Three runs take at least 3 × 1.5 s when they cannot overlap.
    await eventually(() => seen.completed.size >= 3, 'three forbid runs completed', 20_000);
    expect(seen.maxActive).toBe(1);
    const cj = await c.api.request<CronJob>('get', { kind: 'CronJob', name: 'forbid', namespace: 'default' });
    expect(Date.parse(cj.status!.lastScheduleTime!)).toBeGreaterThan(Date.parse(cj.metadata.creationTimestamp!));
    expect(cj.status?.lastSuccessfulTime).toBeDefined();
    await eventually(async () => (await jobsOf(c, 'forbid')).filter(finished).length <= 1, 'finished jobs pruned to successfulJobsHistoryLimit 1');
    // Suspend: once the running Job ends, nothing new starts.
    await c.master.objects.mutate<CronJob>('CronJob', 'default', 'forbid', (o) => ((o.spec.suspend = true), o));
    await eventually(async () => (await jobsOf(c, 'forbid')).every(finished), 'the last forbid run finished', 10_000);
    const before = seen.names.size;
    await new Promise((r) => setTimeout(r, 2500)); // a window of 2 ticks in which nothing may start
    expect(seen.names.size).toBe(before);
    expect(seen.maxActive).toBe(1);
    await stop(c, 'forbid');
  }, 40_000);

  it('Allow: runs overlap when a Job outlasts the period (the contrast to Forbid)', async () => {
    const seen = watchJobs(c, 'allow');
    await c.apply(cronJob('allow', 'Allow', 3));
    await eventually(() => seen.maxActive >= 2, 'two allow jobs running at once', 10_000);
    await stop(c, 'allow');
  }, 20_000);

  it('Replace: a new run deletes the running Job first', async () => {
    const seen = watchJobs(c, 'replace');
    await c.apply(cronJob('replace', 'Replace', 30));
    await eventually(() => seen.names.size >= 3, 'three replace jobs started', 10_000);
    expect(seen.completed.size).toBe(0);
    const jobs = await jobsOf(c, 'replace');
    expect(jobs.filter((j) => !finished(j)).length).toBeLessThanOrEqual(1);
    await stop(c, 'replace');
    // The CronJob's Jobs and their pods go with it (garbage collection).
    await eventually(async () => (await jobsOf(c, 'replace')).length === 0 && (await c.pods('cron=replace')).length === 0, 'replace jobs and pods collected', 15_000);
  }, 30_000);
});
