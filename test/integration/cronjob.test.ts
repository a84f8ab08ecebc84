/**
 * A CronJob over a real in-process cluster, on a 6-field (seconds) schedule: its Jobs' pods run to
 * completion on a real agent, finished Jobs are pruned to the history limit, and deleting the CronJob
 * collects its Jobs and pods. The rules (Allow / Forbid / Replace, history, suspend, missed runs) are
 * checked on the fake clock in test/controllers/cronjob.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CronJob, Job } from '../../protocol/index.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';

const cronJob = (name: string, policy: string, seconds: number) => `
apiVersion: batch/v1
kind: CronJob
metadata: {name: ${name}}
spec:
  schedule: '* * * * * *'
  concurrencyPolicy: ${policy}
  successfulJobsHistoryLimit: 1
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
    const running = c.master.informers.list('Job').filter((x) => x.metadata.labels?.cron === name && !finished(x));
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

  it('runs its Jobs to completion on an agent, never two at once (Forbid), prunes history, and takes its Jobs along when deleted', async () => {
    const seen = watchJobs(c, 'forbid');
    await c.apply(cronJob('forbid', 'Forbid', 0.2));
    await eventually(() => seen.completed.size >= 2, 'two forbid runs completed', 20_000);
    expect(seen.maxActive).toBe(1);
    const cj = await c.api.request<CronJob>('get', { kind: 'CronJob', name: 'forbid', namespace: 'default' });
    expect(Date.parse(cj.status!.lastScheduleTime!)).toBeGreaterThan(Date.parse(cj.metadata.creationTimestamp!));
    expect(cj.status?.lastSuccessfulTime).toBeDefined();
    await eventually(async () => (await jobsOf(c, 'forbid')).filter(finished).length <= 1, 'finished jobs pruned to successfulJobsHistoryLimit 1');
    await stop(c, 'forbid');
    // The CronJob's Jobs and their pods go with it (garbage collection).
    await eventually(async () => (await jobsOf(c, 'forbid')).length === 0 && (await c.pods('cron=forbid')).length === 0, 'forbid jobs and pods collected', 15_000);
  }, 40_000);
});
