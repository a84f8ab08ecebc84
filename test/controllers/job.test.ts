/**
 * Job controller rules, in memory with the fake clock: completions with bounded parallelism, work
 * queues, retries up to backoffLimit with the doubling back-off (Never) or restarts counted (OnFailure),
 * activeDeadlineSeconds, ttlSecondsAfterFinished, counts that never go down. The test plays the
 * agents: pods succeed or fail when it says so.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backoffDelay, wantActive } from '../../master/controllers/job/rules.js';
import { startJobController } from '../../master/controllers/job/sync.js';
import { countedAnnotation, countFinished } from '../../master/controllers/job/tracking.js';
import { harness, type Harness } from './harness.js';
import { jobWith, podWith } from './builders.js';

const base = 10_000;

describe('Job rules (pure)', () => {
  it.each([
    [0, 0],
    [1, base],
    [2, 2 * base],
    [3, 4 * base],
    [6, 32 * base],
    [7, 360_000], // capped at 6 min, as Kubernetes' MaxJobPodFailureBackOff
    [100, 360_000],
  ])('back-off after %i failures: %i ms', (failed, ms) => expect(backoffDelay(failed, base)).toBe(ms));

  it.each([
    ['completions 4, parallelism 2, none done', { completions: 4, parallelism: 2 }, { active: 0, succeeded: 0 }, 2],
    ['completions 4, parallelism 2, 3 done', { completions: 4, parallelism: 2 }, { active: 0, succeeded: 3 }, 1],
    ['completions 2, parallelism 5', { completions: 2, parallelism: 5 }, { active: 0, succeeded: 0 }, 2],
    ['work queue, parallelism 3, none done', { parallelism: 3 }, { active: 0, succeeded: 0 }, 3],
    ['work queue, one done: no new pods', { parallelism: 3 }, { active: 1, succeeded: 1 }, 1],
    ['parallelism 0 (paused by hand)', { completions: 3, parallelism: 0 }, { active: 0, succeeded: 0 }, 0],
  ])('wantActive: %s → %i', (_what, spec, counts, want) => {
    expect(wantActive(jobWith(spec), { failed: 0, ...counts })).toBe(want);
  });
});

let h: Harness;
beforeEach(async () => {
  h = await harness();
  await h.run((ctx) => startJobController(ctx, { backoffBaseMs: base }));
});
afterEach(() => h.stop());

const job = (name = 'batch') => h.get('Job', 'default', name);
const active = (name = 'batch') => h.pods({ job: name }).filter((p) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''));
const condition = (type: string, name = 'batch') => job(name)?.status?.conditions?.find((c) => c.type === type && c.status === 'True');

/** Records the most pods of a Job active at once and every pod name ever seen. */
function watch(name = 'batch') {
  const seen = { maxActive: 0, names: new Set<string>() };
  h.informers.on('Pod', (p) => {
    if (p?.metadata.labels?.job !== name) return;
    seen.names.add(p.metadata.name);
    seen.maxActive = Math.max(seen.maxActive, active(name).length);
  });
  return seen;
}

describe('Job: completions and parallelism', () => {
  it('runs completions 4 at most 2 at a time, then is Complete with its counts and times', async () => {
    const seen = watch();
    await h.create(jobWith({ completions: 4, parallelism: 2 }));
    const started = h.clock.now();
    expect(active()).toHaveLength(2);
    expect(active()[0].metadata.labels).toMatchObject({ 'job-name': 'batch', 'controller-uid': job()!.metadata.uid });
    while (active().length > 0) {
      await h.clock.advance(5_000);
      await h.setPhase(active().slice(0, 1), 'Succeeded');
    }
    expect(condition('Complete')).toBeDefined();
    expect(job()!.status).toMatchObject({ succeeded: 4, failed: 0, active: 0, startTime: new Date(started).toISOString(), completionTime: new Date(h.clock.now()).toISOString() });
    expect(seen.maxActive).toBe(2);
    expect(seen.names.size).toBe(4);
    expect(h.reasons('Job', 'default', 'batch').filter((r) => r === 'SuccessfulCreate')).toHaveLength(4);
  });

  it('a work queue (parallelism, no completions) starts no pod after the first success and completes when all are done', async () => {
    const seen = watch();
    await h.create(jobWith({ parallelism: 3 }));
    expect(active()).toHaveLength(3);
    await h.setPhase(active().slice(0, 1), 'Succeeded');
    expect(active()).toHaveLength(2);
    expect(condition('Complete')).toBeUndefined();
    await h.setPhase(active(), 'Succeeded');
    expect(condition('Complete')).toBeDefined();
    expect(seen.names.size).toBe(3);
  });

  it('lowering parallelism deletes the extra pods; raising it adds pods', async () => {
    await h.create(jobWith({ completions: 10, parallelism: 4 }));
    await h.update('Job', 'default', 'batch', (j) => (j.spec.parallelism = 1));
    expect(active()).toHaveLength(1);
    await h.update('Job', 'default', 'batch', (j) => (j.spec.parallelism = 3));
    expect(active()).toHaveLength(3);
  });
});

describe('Job: failures', () => {
  it('backoffLimit 2 (restartPolicy Never): replaces a failed pod after 10 s, then 20 s, and fails on the third failure', async () => {
    const seen = watch();
    await h.create(jobWith({ backoffLimit: 2 }));
    for (const delay of [base, 2 * base]) {
      await h.setPhase(active(), 'Failed');
      expect(active()).toHaveLength(0);
      await h.advance(delay - 100);
      expect(active()).toHaveLength(0);
      await h.advance(100);
      expect(active()).toHaveLength(1);
    }
    await h.setPhase(active(), 'Failed');
    expect(condition('Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
    expect(job()!.status).toMatchObject({ failed: 3, succeeded: 0, active: 0 });
    await h.advance(3_600_000);
    expect(seen.names.size).toBe(3);
    expect(seen.maxActive).toBe(1);
  });

  it.each([
    [0, 1],
    [3, 3],
  ])('restartPolicy OnFailure, backoffLimit %i: fails once the running pod restarted %i times', async (limit, restarts) => {
    await h.create(jobWith({ backoffLimit: limit, restartPolicy: 'OnFailure' }));
    const [p] = active();
    const restart = (n: number) =>
      h.update('Pod', 'default', p.metadata.name, (o) => {
        o.status = { phase: 'Running', containerStatuses: [{ name: 'main', ready: false, restartCount: n, state: { running: {} } }] };
      });
    if (restarts > 1) {
      await restart(restarts - 1);
      expect(condition('Failed')).toBeUndefined();
    }
    await restart(restarts);
    expect(condition('Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
    expect(h.get('Pod', 'default', p.metadata.name)).toBeUndefined(); // a failed Job leaves nothing running
  });

  it('counts every finished pod once, even after it is deleted: deleting failed pods buys no extra attempts', async () => {
    await h.create(jobWith({ backoffLimit: 1 }));
    const [first] = active();
    await h.setPhase([first], 'Failed');
    expect(h.get('Pod', 'default', first.metadata.name)?.metadata.annotations?.[countedAnnotation]).toBe('true');
    await h.delete('Pod', 'default', first.metadata.name);
    expect(job()!.status).toMatchObject({ failed: 1, uncountedTerminatedPods: {} });
    await h.advance(base);
    const [second] = active();
    await h.setPhase([second], 'Failed');
    await h.delete('Pod', 'default', second.metadata.name);
    expect(condition('Failed')).toMatchObject({ reason: 'BackoffLimitExceeded' });
    expect(job()!.status).toMatchObject({ failed: 2 });
  });

  it('finishes counting after an interruption without counting a pod twice', async () => {
    // What a master stopped between the steps leaves: `a` finished and listed as uncounted, but neither
    // marked nor in the counts; `b` finished after the master stopped. The controller starts on that.
    const w = await harness();
    try {
      const j = await w.create({ ...jobWith({ completions: 3, parallelism: 1 }), status: { startTime: new Date(w.clock.now()).toISOString(), succeeded: 0, uncountedTerminatedPods: {} } });
      const a = await w.create(podWith({ name: 'a', labels: { job: 'batch' }, owner: j, node: 'n1', phase: 'Succeeded' }));
      await w.create(podWith({ name: 'b', labels: { job: 'batch' }, owner: j, node: 'n1', phase: 'Succeeded' }));
      await w.update('Job', 'default', 'batch', (o) => (o.status = { ...o.status, uncountedTerminatedPods: { succeeded: [a.metadata.uid!] } }));
      await w.run((ctx) => startJobController(ctx, { backoffBaseMs: base }));
      expect(w.get('Job', 'default', 'batch')!.status).toMatchObject({ succeeded: 2, uncountedTerminatedPods: {} });
      expect(w.pods({ job: 'batch' }).filter((p) => p.metadata.annotations?.[countedAnnotation]).map((p) => p.metadata.name).sort()).toEqual(['a', 'b']);
    } finally {
      await w.stop();
    }
  });

  it('counts nothing from a Job the cache has not caught up with: a pod already in the totals is not listed again', async () => {
    // The stored Job counted `x` (and `x` is marked); a sync that started before the cache saw that still holds
    // the Job and the pod as they were. Listing `x` as uncounted onto the stored totals would count it twice.
    const w = await harness();
    try {
      const j = await w.create({ ...jobWith({ completions: 4, parallelism: 2 }), status: { startTime: new Date(w.clock.now()).toISOString(), succeeded: 0, uncountedTerminatedPods: {} } });
      const x = await w.create(podWith({ name: 'x', labels: { job: 'batch' }, owner: j, node: 'n1', phase: 'Succeeded' }));
      const staleJob = w.get('Job', 'default', 'batch')!;
      await w.update('Pod', 'default', 'x', (o) => (o.metadata.annotations = { ...o.metadata.annotations, [countedAnnotation]: 'true' }));
      await w.update('Job', 'default', 'batch', (o) => (o.status = { ...o.status, succeeded: 1, uncountedTerminatedPods: {} }));
      const stored = w.get('Job', 'default', 'batch')!;
      const counted = await countFinished(w.ctx, staleJob, [x]);
      expect(counted.staleUntil).toBe(Number(stored.metadata.resourceVersion));
      await w.settle();
      expect(w.get('Job', 'default', 'batch')!.status).toMatchObject({ succeeded: 1, uncountedTerminatedPods: {} });
      // Once the cache holds the stored Job and pod, the same count is right and writes nothing.
      const fresh = await countFinished(w.ctx, w.get('Job', 'default', 'batch')!, [w.get('Pod', 'default', 'x')!]);
      expect(fresh).toMatchObject({ succeeded: 1, failed: 0, tracked: true });
      expect(fresh.staleUntil).toBeUndefined();
    } finally {
      await w.stop();
    }
  });

  it('a Job whose status predates counting by pod keeps the old rule (counts never below what its pods show)', async () => {
    await h.create({ ...jobWith({ completions: 5, parallelism: 2 }), status: { startTime: new Date(h.clock.now()).toISOString(), succeeded: 1 } });
    await h.setPhase(active().slice(0, 1), 'Succeeded');
    expect(job()!.status).toMatchObject({ succeeded: 1 });
  });
});

describe('Job: time limits (fake clock)', () => {
  it('fails with DeadlineExceeded at activeDeadlineSeconds and deletes its running pods', async () => {
    await h.create(jobWith({ activeDeadlineSeconds: 30, parallelism: 2, completions: 2 }));
    const started = h.clock.now();
    await h.advance(29_000);
    expect(condition('Failed')).toBeUndefined();
    expect(active()).toHaveLength(2);
    await h.advance(1_100);
    const failed = condition('Failed');
    expect(failed).toMatchObject({ reason: 'DeadlineExceeded' });
    expect(Date.parse(failed!.lastTransitionTime!) - started).toBeGreaterThanOrEqual(30_000);
    expect(h.pods({ job: 'batch' })).toEqual([]);
  });

  it('deletes a finished Job ttlSecondsAfterFinished after it finished', async () => {
    await h.create(jobWith({ ttlSecondsAfterFinished: 100 }));
    await h.setPhase(active(), 'Succeeded');
    expect(condition('Complete')).toBeDefined();
    await h.advance(99_000);
    expect(job()).toBeDefined();
    await h.advance(1_100);
    expect(job()).toBeUndefined();
    expect(h.reasons('Job', 'default', 'batch')).toContain('Expired');
  });
});
