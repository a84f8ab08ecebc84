/**
 * Jobs over a real in-process cluster (master + one agent, real child processes): completions with
 * bounded parallelism, and retries up to backoffLimit of a process that really fails (watched on every
 * pod change). activeDeadlineSeconds, ttlSecondsAfterFinished and the back-off timing are checked on
 * the fake clock in test/controllers/job.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Job, KObject } from '../../protocol/index.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';

const job = (name: string, spec: string, command: string) => `
apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
${spec}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        command: [sh, -c, '${command}']
`;

/** Watches every Pod change of a job in the master's cache and records the worst moments. */
function watchPods(c: TestCluster, jobName: string) {
  const seen = { maxActive: 0, names: new Set<string>() };
  const ofJob = (p: KObject) => p.metadata.labels?.['job-name'] === jobName;
  c.master.informers.on('Pod', (p) => {
    if (!p || !ofJob(p)) return;
    seen.names.add(p.metadata.name);
    const active = c.master.informers.list('Pod').filter((x) => ofJob(x) && !x.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(x.status?.phase ?? ''));
    seen.maxActive = Math.max(seen.maxActive, active.length);
  });
  return seen;
}

const getJob = (c: TestCluster, name: string) => c.api.request<Job>('get', { kind: 'Job', name, namespace: 'default' });
const condition = (j: Job, type: string) => j.status?.conditions?.find((x) => x.type === type && x.status === 'True');

describe('Job', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['job-a'], { jobBackoffBaseMs: 100 });
  }, 60_000);
  afterAll(async () => c?.stop());

  it('runs completions=4 with at most parallelism=2 pods at a time, then is Complete', async () => {
    const seen = watchPods(c, 'batch');
    await c.apply(job('batch', '  completions: 4\n  parallelism: 2', 'sleep 0.3'));
    const j = await eventually(async () => {
      const x = await getJob(c, 'batch');
      return condition(x, 'Complete') && x;
    }, 'job batch Complete', 20_000);
    expect(j.status).toMatchObject({ succeeded: 4, failed: 0, active: 0 });
    expect(Date.parse(j.status!.completionTime!)).toBeGreaterThanOrEqual(Date.parse(j.status!.startTime!));
    expect(seen.maxActive).toBe(2);
    const pods = await c.pods('job-name=batch');
    expect(pods.length).toBe(4);
    expect(pods.every((p) => p.status?.phase === 'Succeeded')).toBe(true);
  });

  it('retries a failing pod until backoffLimit, never creating more than backoffLimit+1 pods', async () => {
    const seen = watchPods(c, 'flaky');
    await c.apply(job('flaky', '  backoffLimit: 2', 'exit 3'));
    const j = await eventually(async () => {
      const x = await getJob(c, 'flaky');
      return condition(x, 'Failed') && x;
    }, 'job flaky Failed', 20_000);
    expect(condition(j, 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
    expect(j.status).toMatchObject({ failed: 3, succeeded: 0, active: 0 });
    // Give the controller a chance to misbehave after the verdict, then count every pod it ever made.
    await c.master.idle();
    expect(seen.names.size).toBe(3);
    expect(seen.maxActive).toBe(1);
    const pods = await c.pods('job-name=flaky');
    expect(pods.map((p) => p.status?.phase)).toEqual(['Failed', 'Failed', 'Failed']);
    expect(pods.every((p) => p.status?.containerStatuses?.[0]?.state.terminated?.exitCode === 3)).toBe(true);
  });
});
