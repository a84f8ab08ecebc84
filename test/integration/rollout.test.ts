/**
 * Deployment rollouts on a real in-process cluster (master + two agents over TCP, real process pods):
 * a rolling update with maxUnavailable 0 watched pod by pod, `rollout status`/`history`/`undo`
 * through the CLI, and a rollout stalled by a failing readiness probe. The rollout arithmetic and the
 * deadline's clearing are checked in memory in test/controllers/deployment.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResponse, Deployment, Pod, ReplicaSet } from '../../protocol/index.js';
import { main } from '../../cli/main.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';

/** A Deployment of process pods that idle; `version` lands in the template's env. */
function web(o: { name?: string; version: string; replicas?: number; strategy?: string; command?: string; deadline?: number; minReady?: number; readinessProbe?: string }): string {
  const name = o.name ?? 'web';
  const command = o.command ?? `[node, -e, "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)"]`;
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${o.replicas ?? 3}
  minReadySeconds: ${o.minReady ?? 0}
  progressDeadlineSeconds: ${o.deadline ?? 600}
  selector: {matchLabels: {app: ${name}}}
  strategy: ${o.strategy ?? '{type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}'}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: app
        command: ${command}
        env: [{name: VERSION, value: "${o.version}"}]${o.readinessProbe ? `\n        readinessProbe: ${o.readinessProbe}` : ''}
`;
}

const isReady = (p: Pod) => !p.metadata.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const versionOf = (p: Pod) => p.spec.containers[0].env?.find((e) => e.name === 'VERSION')?.value;

/** Runs the CLI in-process against the test master. */
async function cli(c: TestCluster, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s), readStdin: async () => '', env: {} };
  const code = await main(['--server', c.master.url, '--token', c.master.adminToken, ...args], io);
  return { code, stdout, stderr };
}

/**
 * Follows every pod change of `app=NAME` from a watch and records, after each event, the ready
 * (not terminating) and the active (not terminating) counts: the invariants are checked on every
 * state the cluster went through, not only at the end.
 */
function trackPods(c: TestCluster, app: string, initial: Pod[]) {
  const pods = new Map(initial.map((p) => [p.metadata.name, p]));
  const samples: { ready: number; active: number }[] = [];
  const stop = new AbortController();
  const record = () =>
    samples.push({ ready: [...pods.values()].filter(isReady).length, active: [...pods.values()].filter((p) => !p.metadata.deletionTimestamp).length });
  const done = c.api.stream(
    'watch',
    { kind: 'Pod', namespace: 'default', labelSelector: `app=${app}` },
    (res: ApiResponse) => {
      const e = res.event;
      if (!e) return;
      if (e.type === 'DELETED') pods.delete(e.object.metadata.name);
      else pods.set(e.object.metadata.name, e.object as Pod);
      record();
    },
    stop.signal,
  );
  return { samples, stop: async () => (stop.abort(), await done) };
}

describe('Deployment rollouts', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['node-a', 'node-b']);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('a rolling update with maxUnavailable 0 never drops ready replicas below the desired count', async () => {
    await c.apply(web({ version: 'v1' }));
    const first = await cli(c, 'rollout', 'status', 'deployment/web', '--timeout', '30s');
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout.trim().split('\n').at(-1)).toBe('deployment "web" successfully rolled out');
    const before = await eventually(async () => {
      const ps = (await c.pods('app=web')).filter((p) => !p.metadata.deletionTimestamp);
      return ps.length === 3 && ps.every(isReady) && ps;
    }, '3 ready v1 pods');

    const tracker = trackPods(c, 'web', before);
    await c.apply(web({ version: 'v2' }));
    const r = await cli(c, 'rollout', 'status', 'deployment/web', '--timeout', '45s');
    await tracker.stop();
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const lines = r.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('deployment "web" successfully rolled out');
    expect(lines.some((l) => /^Waiting for deployment "web" rollout to finish: \d (out of 3 new replicas have been updated|old replicas are pending termination|of 3 updated replicas are available)\.\.\.$/.test(l))).toBe(true);

    // Every state seen: at least 3 ready, and never more than replicas + maxSurge = 4 running pods.
    expect(tracker.samples.length).toBeGreaterThan(6);
    expect(Math.min(...tracker.samples.map((s) => s.ready))).toBe(3);
    expect(Math.max(...tracker.samples.map((s) => s.active))).toBe(4);
    const after = (await c.pods('app=web')).filter((p) => !p.metadata.deletionTimestamp);
    expect(after.map(versionOf)).toEqual(['v2', 'v2', 'v2']);
    const d = await c.api.request<Deployment>('get', { kind: 'Deployment', name: 'web' });
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0 });
    expect(d.status?.conditions?.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
    expect(d.status?.conditions?.find((x) => x.type === 'Available')).toMatchObject({ status: 'True', reason: 'MinimumReplicasAvailable' });
  }, 90_000);

  it('rollout undo brings back the previous template, and its ReplicaSet moves to the newest revision', async () => {
    const rsBefore = (await c.api.request<{ items: ReplicaSet[] }>('list', { kind: 'ReplicaSet', labelSelector: 'app=web' })).items;
    const v1rs = rsBefore.find((rs) => rs.spec.template.spec.containers[0].env?.[0]?.value === 'v1')!;
    expect(v1rs.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');

    const h = await cli(c, 'rollout', 'history', 'deployment/web');
    expect(h).toEqual({ code: 0, stderr: '', stdout: 'deployment.apps/web\nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n' });

    const u = await cli(c, 'rollout', 'undo', 'deployment/web');
    expect(u).toEqual({ code: 0, stderr: '', stdout: 'deployment.apps/web rolled back\n' });
    expect((await cli(c, 'rollout', 'status', 'deployment/web', '--timeout', '45s')).code).toBe(0);

    const d = await c.api.request<Deployment>('get', { kind: 'Deployment', name: 'web' });
    expect(d.spec.template.spec.containers[0].env).toEqual([{ name: 'VERSION', value: 'v1' }]);
    const pods = (await c.pods('app=web')).filter((p) => !p.metadata.deletionTimestamp);
    expect(pods.map(versionOf)).toEqual(['v1', 'v1', 'v1']);
    // The v1 ReplicaSet came back (same one, same hash) as revision 3; revision 1 is gone from history.
    expect(pods.every((p) => p.metadata.ownerReferences?.[0]?.uid === v1rs.metadata.uid)).toBe(true);
    const rs = await c.api.request<ReplicaSet>('get', { kind: 'ReplicaSet', name: v1rs.metadata.name });
    expect(rs.metadata.annotations).toMatchObject({ 'deployment.kubernetes.io/revision': '3', 'deployment.kubernetes.io/revision-history': '1' });
    expect((await cli(c, 'rollout', 'history', 'deployment/web')).stdout).toBe('deployment.apps/web\nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n');

    const missing = await cli(c, 'rollout', 'undo', 'deployment/web', '--to-revision', '1');
    expect(missing).toMatchObject({ code: 1, stderr: 'error: unable to find specified revision 1 in history of deployment "web"\n' });
    const same = await cli(c, 'rollout', 'undo', 'deployment/web', '--to-revision', '3');
    expect(same.stdout).toBe('deployment.apps/web skipped rollback (current template already matches revision 3)\n');
  }, 90_000);

  it('a failing readiness probe stalls the rollout, and rollout status reports the exceeded deadline', async () => {
    await c.apply(web({ name: 'stall', version: 'v1', replicas: 2, deadline: 3 }));
    expect((await cli(c, 'rollout', 'status', 'deployment/stall', '--timeout', '30s')).code).toBe(0);
    // v2 runs, but its readiness probe always fails: Running, never Ready.
    await c.apply(web({ name: 'stall', version: 'v2', replicas: 2, deadline: 3, readinessProbe: '{exec: {command: ["false"]}, periodSeconds: 1}' }));
    const t0 = Date.now();
    const r = await cli(c, 'rollout', 'status', 'deployment/stall', '--timeout', '30s');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: deployment "stall" exceeded its progress deadline\n');
    expect(r.stdout).toContain('Waiting for deployment "stall" rollout to finish: 1 out of 2 new replicas have been updated...\n');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2500);

    const d = await c.api.request<Deployment>('get', { kind: 'Deployment', name: 'stall' });
    expect(d.status?.conditions?.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    // The stall cost nothing: both v1 pods still ready, one v2 surge pod not ready.
    const pods = (await c.pods('app=stall')).filter((p) => !p.metadata.deletionTimestamp);
    expect(pods.filter((p) => versionOf(p) === 'v1' && isReady(p))).toHaveLength(2);
    const v2 = pods.filter((p) => versionOf(p) === 'v2');
    expect(v2.map((p) => [p.status?.phase, isReady(p)])).toEqual([['Running', false]]);
  }, 90_000);
});
