/**
 * The rest of the Deployment rollout surface on a real in-process cluster: pause/resume and restart
 * through the CLI, and delete --cascade=orphan followed by adoption. Recreate, proportional scaling
 * and the other rollout rules are checked in memory in test/controllers/deployment.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, Pod, ReplicaSet } from '../../protocol/index.js';
import { main } from '../../cli/main.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';

function app(o: { name: string; version: string; replicas?: number }): string {
  const command = `[node, -e, "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)"]`;
  return `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${o.name}}
spec:
  replicas: ${o.replicas ?? 2}
  selector: {matchLabels: {app: ${o.name}}}
  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}
  template:
    metadata: {labels: {app: ${o.name}}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: app
        command: ${command}
        env: [{name: VERSION, value: "${o.version}"}]
`;
}

const versionOf = (p: Pod) => p.spec.containers[0].env?.find((e) => e.name === 'VERSION')?.value;
const live = (ps: Pod[]) => ps.filter((p) => !p.metadata.deletionTimestamp);

async function cli(c: TestCluster, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s), readStdin: async () => '', env: {} };
  const code = await main(['--server', c.master.url, '--token', c.master.adminToken, ...args], io);
  return { code, stdout, stderr };
}

const replicaSets = async (c: TestCluster, name: string) => (await c.api.request<{ items: ReplicaSet[] }>('list', { kind: 'ReplicaSet', labelSelector: `app=${name}` })).items;
const deployment = (c: TestCluster, name: string) => c.api.request<Deployment>('get', { kind: 'Deployment', name });

describe('Deployment rollout commands', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['node-a', 'node-b']);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('pause holds template changes back, resume rolls them, restart replaces every pod', async () => {
    await c.apply(app({ name: 'pz', version: 'v1' }));
    expect((await cli(c, 'rollout', 'status', 'deployment/pz', '--timeout', '30s')).code).toBe(0);
    expect(await cli(c, 'rollout', 'pause', 'deployment/pz')).toEqual({ code: 0, stdout: 'deployment.apps/pz paused\n', stderr: '' });
    expect(await cli(c, 'rollout', 'pause', 'deployment/pz')).toEqual({ code: 1, stdout: '', stderr: 'error: deployments.apps "pz" is already paused\n' });
    expect((await cli(c, 'rollout', 'restart', 'deployment/pz')).stderr).toMatch(/^error: can't restart paused deployment/);

    // Change the template of the paused object (apply replaces the whole spec: a manifest without
    // `paused: true` would resume it).
    const cur = await deployment(c, 'pz');
    cur.spec.template.spec.containers[0].env = [{ name: 'VERSION', value: 'v2' }];
    await c.api.request('apply', { objects: [cur] });
    await c.master.idle();
    expect((await replicaSets(c, 'pz')).length).toBe(1);
    expect(live(await c.pods('app=pz')).map(versionOf)).toEqual(['v1', 'v1']);
    expect((await deployment(c, 'pz')).status?.conditions?.find((x) => x.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });

    expect((await cli(c, 'rollout', 'resume', 'deployment/pz')).stdout).toBe('deployment.apps/pz resumed\n');
    expect((await cli(c, 'rollout', 'status', 'deployment/pz', '--timeout', '30s')).code).toBe(0);
    const v2 = live(await c.pods('app=pz'));
    expect(v2.map(versionOf)).toEqual(['v2', 'v2']);

    expect((await cli(c, 'rollout', 'restart', 'deployment/pz')).stdout).toBe('deployment.apps/pz restarted\n');
    expect((await cli(c, 'rollout', 'status', 'deployment/pz', '--timeout', '30s')).code).toBe(0);
    const restarted = await eventually(async () => {
      const ps = live(await c.pods('app=pz'));
      return ps.length === 2 && ps.every((p) => !v2.some((o) => o.metadata.uid === p.metadata.uid)) && ps;
    }, 'two new pods after restart');
    expect(restarted.every((p) => p.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'])).toBe(true);
    expect((await cli(c, 'rollout', 'history', 'deployment/pz')).stdout).toBe('deployment.apps/pz\nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n3         <none>\n');
  }, 90_000);

  it('delete --cascade=orphan keeps the ReplicaSet and pods; the re-created Deployment adopts them', async () => {
    await c.apply(app({ name: 'orph', version: 'v1' }));
    expect((await cli(c, 'rollout', 'status', 'deployment/orph', '--timeout', '30s')).code).toBe(0);
    const podsBefore = live(await c.pods('app=orph'));
    const [rs] = await replicaSets(c, 'orph');
    expect((await cli(c, 'delete', 'deployment', 'orph', '--cascade=orphan')).code).toBe(0);
    await eventually(async () => (await c.api.request<{ items: Deployment[] }>('list', { kind: 'Deployment' })).items.every((d) => d.metadata.name !== 'orph'), 'deployment gone');
    await c.master.idle();
    const [kept] = await replicaSets(c, 'orph');
    expect(kept.metadata.uid).toBe(rs.metadata.uid);
    expect(kept.metadata.ownerReferences ?? []).toEqual([]);
    expect(live(await c.pods('app=orph')).map((p) => p.metadata.uid).sort()).toEqual(podsBefore.map((p) => p.metadata.uid).sort());

    await c.apply(app({ name: 'orph', version: 'v1' }));
    const d = await deployment(c, 'orph');
    const adopted = await eventually(async () => {
      const [x] = await replicaSets(c, 'orph');
      return x?.metadata.ownerReferences?.[0]?.uid === d.metadata.uid && x;
    }, 'the ReplicaSet adopted');
    expect(adopted.metadata.uid).toBe(rs.metadata.uid);
    expect((await cli(c, 'rollout', 'status', 'deployment/orph', '--timeout', '30s')).code).toBe(0);
    expect(live(await c.pods('app=orph')).map((p) => p.metadata.uid).sort()).toEqual(podsBefore.map((p) => p.metadata.uid).sort());
    expect(await replicaSets(c, 'orph')).toHaveLength(1);
  }, 60_000);
});
