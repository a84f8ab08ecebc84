/**
 * Deployment controller rules, in memory with the ReplicaSet controller beside it (the test plays the
 * agents, turning pods ready): rolling-update arithmetic (maxSurge / maxUnavailable, numbers and
 * percentages), the availability invariant on every change of a whole rollout, minReadySeconds,
 * Recreate, proportional scaling mid-rollout, revision history and its limit, rollback, pause, the
 * progress deadline on the fake clock, and adoption of orphaned ReplicaSets.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isReady, type ReplicaSet } from '../../protocol/index.js';
import { startDeploymentController } from '../../master/controllers/deployment/sync.js';
import { history, planRollback } from '../../master/controllers/deployment/rollback.js';
import { rolloutStatus } from '../../master/controllers/deployment/progress.js';
import { startReplicaSetController } from '../../master/controllers/replicaset.js';
import { controllerOf } from '../../master/controllers/pods.js';
import { harness, type Harness } from './harness.js';
import { deploymentWith, versionOf } from './builders.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
  await h.run(startReplicaSetController);
  await h.run(startDeploymentController);
});
afterEach(() => h.stop());

const deployment = (name = 'web') => h.get('Deployment', 'default', name)!;
const revision = (rs: ReplicaSet) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision']);
/** The Deployment's ReplicaSets, oldest revision first. */
const replicaSets = (name = 'web') =>
  h
    .list('ReplicaSet', 'default')
    .filter((rs) => controllerOf(rs)?.uid === deployment(name).metadata.uid)
    .sort((a, b) => revision(a) - revision(b));
/** spec.replicas of each ReplicaSet by its template's version. */
const sizes = (name = 'web') => Object.fromEntries(replicaSets(name).map((rs) => [versionOf(rs.spec.template), rs.spec.replicas]));
const live = (app = 'web') => h.pods({ app }).filter((p) => !p.metadata.deletionTimestamp);
const setVersion = (version: string, name = 'web') =>
  h.update('Deployment', 'default', name, (d) => (d.spec.template.spec.containers[0].env = [{ name: 'VERSION', value: version }]));
/** Plays every agent: each live pod not yet ready turns ready; repeats until nothing changes. */
async function readyAll(app = 'web'): Promise<void> {
  for (let waiting = live(app).filter((p) => !isReady(p)); waiting.length > 0; waiting = live(app).filter((p) => !isReady(p))) await h.setReady(waiting);
}
const condition = (type: string, name = 'web') => deployment(name).status?.conditions?.find((c) => c.type === type);

describe('Deployment: a new Deployment', () => {
  it('creates its ReplicaSet (revision 1, pod-template-hash) at full size and reports complete once pods are ready', async () => {
    await h.create(deploymentWith({ replicas: 3 }));
    const [rs] = replicaSets();
    const hash = rs.metadata.labels?.['pod-template-hash'];
    expect(rs.metadata.name).toBe(`web-${hash}`);
    expect(rs.spec.selector.matchLabels).toEqual({ app: 'web', 'pod-template-hash': hash });
    expect(revision(rs)).toBe(1);
    expect(rs.spec.replicas).toBe(3);
    expect(live().every((p) => p.metadata.labels?.['pod-template-hash'] === hash)).toBe(true);
    expect(h.events.of('Deployment', 'default', 'web').map((e) => e.message)).toContain(`Scaled up replica set ${rs.metadata.name} from 0 to 3`);
    expect(rolloutStatus(deployment()).message).toBe('Waiting for deployment "web" rollout to finish: 0 of 3 updated replicas are available...');
    await readyAll();
    expect(deployment().status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0 });
    expect(condition('Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    expect(rolloutStatus(deployment())).toEqual({ message: 'deployment "web" successfully rolled out', done: true });
  });
});

describe('Deployment: rolling update arithmetic (no new pod ever ready)', () => {
  // [replicas, maxSurge, maxUnavailable] → where the rollout stops: old and new ReplicaSet sizes.
  // New grows to min(replicas, surge + unavailable); old shrinks by maxUnavailable (Kubernetes' rolling.go).
  it.each([
    [10, 3, 2, { v1: 8, v2: 5 }],
    [3, 1, 0, { v1: 3, v2: 1 }],
    [3, 0, 1, { v1: 2, v2: 1 }],
    [4, '25%', '25%', { v1: 3, v2: 2 }],
    [10, '30%', '30%', { v1: 7, v2: 6 }], // surge rounds up, unavailable down: 3 and 3
    [10, '25%', '25%', { v1: 8, v2: 5 }], // ceil(2.5) = 3 surge, floor(2.5) = 2 unavailable
    [3, '50%', 0, { v1: 3, v2: 2 }],
    [1, 0, 1, { v1: 0, v2: 1 }],
    [2, 5, 0, { v1: 2, v2: 2 }], // surge beyond replicas: new never exceeds replicas
  ])('replicas %i, maxSurge %s, maxUnavailable %s', async (replicas, maxSurge, maxUnavailable, stuck) => {
    await h.create(deploymentWith({ replicas, maxSurge, maxUnavailable }));
    await readyAll();
    await setVersion('v2');
    expect(sizes()).toEqual(stuck);
    expect(live().length).toBe(stuck.v1 + stuck.v2);
  });

  it.each([
    [3, 1, 0],
    [5, 2, 1],
    [4, '25%', '50%'],
  ])('a whole rollout (replicas %i, surge %s, unavailable %s) keeps every invariant on every change', async (replicas, maxSurge, maxUnavailable) => {
    await h.create(deploymentWith({ replicas, maxSurge, maxUnavailable }));
    await readyAll();
    const surge = typeof maxSurge === 'number' ? maxSurge : Math.ceil((replicas * parseInt(maxSurge)) / 100);
    const unavailable = typeof maxUnavailable === 'number' ? maxUnavailable : Math.floor((replicas * parseInt(maxUnavailable)) / 100);
    const worst = { ready: Infinity, total: 0 };
    const check = () => {
      const total = replicaSets().reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
      worst.total = Math.max(worst.total, total);
      worst.ready = Math.min(worst.ready, live().filter(isReady).length);
    };
    h.informers.on('Pod', check);
    h.informers.on('ReplicaSet', check);
    await setVersion('v2');
    await readyAll();
    expect(live().map(versionOf)).toEqual(Array(replicas).fill('v2'));
    expect(sizes()).toEqual({ v1: 0, v2: replicas });
    expect(worst.total).toBe(replicas + surge);
    expect(worst.ready).toBeGreaterThanOrEqual(replicas - unavailable);
    expect(condition('Progressing')).toMatchObject({ reason: 'NewReplicaSetAvailable' });
  });

  it('removes unavailable old pods first, so an old pod that never turns ready does not block the rollout', async () => {
    await h.create(deploymentWith({ replicas: 3, maxSurge: 1, maxUnavailable: 0 }));
    await readyAll();
    const [sick] = live();
    await h.setReady([sick], false); // an old pod fails its readiness probe for good
    await setVersion('v2');
    expect(sizes()).toEqual({ v1: 3, v2: 1 });
    // The new pod is ready: availability 3 = minAvailable, so no healthy old pod may go, but the sick one may.
    await h.setReady(live().filter((p) => versionOf(p) === 'v2'));
    expect(sizes()).toEqual({ v1: 2, v2: 2 });
    expect(h.get('Pod', 'default', sick.metadata.name)).toBeUndefined();
    expect(live().filter((p) => versionOf(p) === 'v1').every(isReady)).toBe(true);
  });

  it('waits minReadySeconds after a new pod is ready before counting it available (fake clock)', async () => {
    await h.create(deploymentWith({ replicas: 2, maxSurge: 1, maxUnavailable: 0, minReadySeconds: 30 }));
    await readyAll();
    await h.advance(30_000);
    await setVersion('v2');
    await h.setReady(live().filter((p) => versionOf(p) === 'v2'));
    await h.advance(29_000);
    expect(sizes()).toEqual({ v1: 2, v2: 1 });
    await h.advance(1_100);
    expect(sizes()).toEqual({ v1: 1, v2: 2 });
  });
});

describe('Deployment: Recreate', () => {
  it('scales every old ReplicaSet to 0 and creates the new one only when no old pod is left, terminating ones included', async () => {
    await h.create(deploymentWith({ replicas: 2, strategy: 'Recreate' }));
    await readyAll();
    await h.bind(live(), 'n1'); // bound pods terminate until their agent confirms
    const old = live();
    await setVersion('v2');
    expect(sizes()).toEqual({ v1: 0 });
    expect(h.pods().every((p) => p.metadata.deletionTimestamp)).toBe(true);
    await h.confirmStopped(old.slice(0, 1));
    expect(replicaSets()).toHaveLength(1);
    await h.confirmStopped(old.slice(1));
    expect(sizes()).toEqual({ v1: 0, v2: 2 });
    expect(live().map(versionOf)).toEqual(['v2', 'v2']);
  });
});

describe('Deployment: scaling', () => {
  it('scales old and new ReplicaSets proportionally in the middle of a stuck rollout', async () => {
    await h.create(deploymentWith({ replicas: 4, maxSurge: 1, maxUnavailable: 0 }));
    await readyAll();
    await setVersion('v2');
    expect(sizes()).toEqual({ v1: 4, v2: 1 });
    // 4 → 8: 9 allowed (8 + maxSurge 1), 4 to add; each gets round(size × 9 / 5) - size:
    // old 4 → +3 (7), new 1 → +1 (2), as Kubernetes' getReplicaSetFraction.
    await h.update('Deployment', 'default', 'web', (d) => (d.spec.replicas = 8));
    expect(sizes()).toEqual({ v1: 7, v2: 2 });
  });

  it('a paused Deployment still scales, but does not roll a template change', async () => {
    await h.create(deploymentWith({ replicas: 2 }));
    await readyAll();
    await h.update('Deployment', 'default', 'web', (d) => (d.spec.paused = true));
    expect(condition('Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
    await setVersion('v2');
    await h.update('Deployment', 'default', 'web', (d) => (d.spec.replicas = 3));
    expect(sizes()).toEqual({ v1: 3 });
    await h.update('Deployment', 'default', 'web', (d) => (d.spec.paused = false));
    await readyAll();
    expect(sizes()).toEqual({ v1: 0, v2: 3 });
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });
});

describe('Deployment: revisions', () => {
  it('keeps revisionHistoryLimit old ReplicaSets, dropping the oldest revisions', async () => {
    await h.create(deploymentWith({ replicas: 1, revisionHistoryLimit: 2 }));
    for (const v of ['v2', 'v3', 'v4', 'v5']) {
      await readyAll();
      await setVersion(v);
    }
    await readyAll();
    expect(replicaSets().map((rs) => [versionOf(rs.spec.template), revision(rs)])).toEqual([
      ['v3', 3],
      ['v4', 4],
      ['v5', 5],
    ]);
  });

  it('going back to an earlier template re-uses its ReplicaSet, which moves to the newest revision', async () => {
    await h.create(deploymentWith({ replicas: 2 }));
    await readyAll();
    const v1 = replicaSets()[0];
    await setVersion('v2');
    await readyAll();
    const plan = planRollback(deployment(), h.list('ReplicaSet'));
    expect(plan).toMatchObject({ skipped: false, revision: 1 });
    await h.update('Deployment', 'default', 'web', (d) => plan.skipped || (d.spec.template = plan.template));
    await readyAll();
    const back = h.get('ReplicaSet', 'default', v1.metadata.name)!;
    expect(back.metadata.uid).toBe(v1.metadata.uid);
    expect(back.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect(replicaSets()).toHaveLength(2);
    expect(live().map(versionOf)).toEqual(['v1', 'v1']);
    expect(history(deployment(), h.list('ReplicaSet')).map((r) => r.revision)).toEqual([2, 3]);
  });

  it.each<[string, { toRevision?: number; paused?: boolean }, RegExp]>([
    ['an unknown revision', { toRevision: 7 }, /unable to find specified revision 7 in history of deployment "web"/],
    ['a paused Deployment', { paused: true }, /you cannot rollback a paused deployment/],
  ])('rollback refuses %s', async (_what, o, error) => {
    await h.create(deploymentWith({ replicas: 1 }));
    await setVersion('v2');
    const d = o.paused ? { ...deployment(), spec: { ...deployment().spec, paused: true } } : deployment();
    expect(() => planRollback(d, h.list('ReplicaSet'), o.toRevision)).toThrow(error);
  });

  it('rollback to the current template is skipped', async () => {
    await h.create(deploymentWith({ replicas: 1 }));
    await setVersion('v2');
    expect(planRollback(deployment(), h.list('ReplicaSet'), 2)).toEqual({ skipped: true, revision: 2, message: 'skipped rollback (current template already matches revision 2)' });
  });
});

describe('Deployment: progress deadline (fake clock)', () => {
  it('reports ProgressDeadlineExceeded progressDeadlineSeconds after the last progress, and clears it on completion', async () => {
    await h.create(deploymentWith({ replicas: 2, maxSurge: 1, maxUnavailable: 0, progressDeadlineSeconds: 60 }));
    await readyAll();
    await setVersion('v2'); // the new pod never turns ready
    await h.advance(59_000);
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated' });
    await h.advance(3_000);
    expect(condition('Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(rolloutStatus(deployment())).toMatchObject({ failed: true, message: 'deployment "web" exceeded its progress deadline' });
    // The stall cost nothing: both old pods still there.
    expect(sizes()).toEqual({ v1: 2, v2: 1 });
    await readyAll();
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  it('progress restarts the deadline', async () => {
    await h.create(deploymentWith({ replicas: 2, maxSurge: 1, maxUnavailable: 0, progressDeadlineSeconds: 60 }));
    await readyAll();
    await setVersion('v2');
    await h.advance(50_000);
    await h.setReady(live().filter((p) => versionOf(p) === 'v2')); // progress at 50 s
    await h.advance(50_000);
    expect(condition('Progressing')).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated' });
    await h.advance(20_000);
    expect(condition('Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
  });
});

describe('Deployment: adoption', () => {
  it('adopts a matching ReplicaSet without a controller (left by delete --cascade=orphan) and keeps its pods', async () => {
    await h.create(deploymentWith({ replicas: 2 }));
    await readyAll();
    const [rs] = replicaSets();
    const pods = live().map((p) => p.metadata.uid);
    // What --cascade=orphan leaves behind: the ReplicaSet without its owner reference, the Deployment gone.
    await h.update('ReplicaSet', 'default', rs.metadata.name, (o) => delete o.metadata.ownerReferences);
    await h.delete('Deployment', 'default', 'web');
    await h.create(deploymentWith({ replicas: 2 }));
    expect(replicaSets().map((x) => x.metadata.uid)).toEqual([rs.metadata.uid]);
    expect(live().map((p) => p.metadata.uid).sort()).toEqual(pods.sort());
    expect(h.list('Pod')).toHaveLength(2);
  });
});
