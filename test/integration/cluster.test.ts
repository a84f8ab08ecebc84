/**
 * The walking skeleton end to end, in one process over real TCP with real child processes: a master,
 * two agents, a Deployment of process pods spread over both, restart on exit, scale, delete.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { balancerEngineOf, type Pod, type ReplicaSet } from '../../protocol/index.js';
import { alive, eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

const app = (replicas: number, dir: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ticker}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ticker}}
  template:
    metadata: {labels: {app: ticker}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: ticker
        command: [node, -e, "require('fs').writeFileSync(require('path').join(process.argv[1], process.env.HOSTNAME + '.pid'), String(process.pid)); console.log('started', process.env.HOSTNAME); setInterval(() => {}, 1000)", "${dir}"]
        ports: [{name: http, containerPort: 0}]
`;

describe('walking skeleton: master + two agents in one process', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['node-a', 'node-b']);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('registers both nodes with Kubernetes-shaped status', async () => {
    const nodes = await c.nodes();
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual(['node-a', 'node-b']);
    for (const n of nodes) {
      expect(n.metadata.labels?.['kubernetes.io/hostname']).toBe(n.metadata.name);
      expect(n.metadata.labels?.['kubernetes.io/arch']).toBe(process.arch === 'x64' ? 'amd64' : process.arch);
      expect(n.metadata.labels?.['kubernetes.io/os']).toBe('linux');
      expect(Number(n.status?.capacity?.cpu)).toBeGreaterThan(0);
      expect(n.status?.allocatable?.memory).toMatch(/^\d+(Ki|Mi|Gi)?$/);
      expect(n.status?.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });
      // The agents' proxies run the wasm balancers (the default), and the node says so.
      expect(balancerEngineOf(n)).toBe('wasm');
    }
  });

  it('runs 4 replicas spread over both nodes, restarts an exited one, scales and deletes', async () => {
    const res = (await c.apply(app(4, c.dir))) as { results: { action: string }[] };
    expect(res.results.map((r) => r.action)).toEqual(['created']);
    const pods = await eventually(async () => {
      const ps = await c.pods('app=ticker');
      return ps.length === 4 && ps.every(isRunningReady) && ps;
    }, '4 running ticker pods');
    const perNode = new Map<string, number>();
    for (const p of pods) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
    expect([...perNode.keys()].sort()).toEqual(['node-a', 'node-b']);
    // Each pod got a port from its agent and reports it.
    for (const p of pods) expect(p.status?.ports?.[0]?.port).toBeGreaterThan(0);

    // Owner chain: Deployment → ReplicaSet → Pods.
    const rs = (await c.api.request<{ items: ReplicaSet[] }>('list', { kind: 'ReplicaSet' })).items;
    expect(rs).toHaveLength(1);
    expect(pods.every((p) => p.metadata.ownerReferences?.[0]?.uid === rs[0].metadata.uid)).toBe(true);

    // Kill one replica's process: the agent restarts it and restartCount rises.
    const victim = pods[0];
    // Running is reported once the process started: its shell may not have written its pid yet.
    const pid = Number(await eventually(() => readFile(join(c.dir, `${victim.metadata.name}.pid`), 'utf8').catch(() => ''), `${victim.metadata.name}.pid`));
    process.kill(pid, 'SIGKILL');
    const restarted = await eventually(async () => {
      const p = (await c.api.request<Pod>('get', { kind: 'Pod', name: victim.metadata.name })) as Pod;
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 && isRunningReady(p) && p;
    }, 'the killed replica restarted');
    expect(restarted.metadata.uid).toBe(victim.metadata.uid);
    // The restarted process writes its own pid file shortly after it starts.
    const newPid = await eventually(async () => {
      const n = Number(await readFile(join(c.dir, `${victim.metadata.name}.pid`), 'utf8'));
      return n !== pid && n;
    }, 'a new pid for the restarted replica');
    expect(alive(newPid)).toBe(true);

    // Scale to 1: three processes stop, one stays.
    const pidsBefore = await Promise.all(pods.map(async (p) => Number(await readFile(join(c.dir, `${p.metadata.name}.pid`), 'utf8'))));
    await c.api.request('scale', { kind: 'Deployment', name: 'ticker', replicas: 1 });
    const left = await eventually(async () => {
      const ps = await c.pods('app=ticker');
      return ps.length === 1 && ps;
    }, 'one ticker pod left');
    const keptPid = Number(await readFile(join(c.dir, `${left[0].metadata.name}.pid`), 'utf8'));
    await eventually(() => pidsBefore.filter((p) => p !== keptPid && p !== pid).every((p) => !alive(p)), 'scaled-down processes gone');
    expect(alive(pid)).toBe(false);
    expect(alive(keptPid)).toBe(true);

    // Delete the Deployment: everything goes, processes included.
    await c.api.request('delete', { kind: 'Deployment', name: 'ticker' });
    await eventually(async () => (await c.pods('app=ticker')).length === 0, 'all ticker pods deleted');
    await eventually(async () => (await c.api.request<{ items: unknown[] }>('list', { kind: 'ReplicaSet' })).items.length === 0, 'replica set deleted');
    await eventually(() => !alive(keptPid), 'last process stopped');
  }, 60_000);

  it('explains why a pod cannot be placed', async () => {
    await c.apply(`
apiVersion: v1
kind: Pod
metadata: {name: huge}
spec:
  containers:
  - name: huge
    command: [sleep, "1000"]
    resources: {requests: {memory: 100Ti}}
`);
    const p = await eventually(async () => {
      const pod = (await c.api.request<Pod>('get', { kind: 'Pod', name: 'huge' })) as Pod;
      return pod.status?.conditions?.find((x) => x.type === 'PodScheduled' && x.status === 'False') && pod;
    }, 'huge pod marked unschedulable');
    const cond = p.status!.conditions!.find((x) => x.type === 'PodScheduled')!;
    expect(cond.reason).toBe('Unschedulable');
    expect(cond.message).toBe('0/2 nodes are available: 2 Insufficient memory.');
    await c.api.request('delete', { kind: 'Pod', name: 'huge' });
    await eventually(async () => (await c.pods()).every((x) => x.metadata.name !== 'huge'), 'huge pod deleted');
  });
  it('a pod bound and deleted before its agent ever got it is removed, not left terminating on a Ready node', async () => {
    // Bound and deleted within the desired set's debounce (as a CronJob's Replace or the GC can): node-a's agent never
    // has it to stop, so only the set's `terminating` list lets it confirm the deletion.
    const spec = { nodeName: 'node-a', containers: [{ name: 'main', command: ['sleep', '30'] }] };
    await c.master.objects.create<Pod>({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'blink', namespace: 'default' }, spec });
    await c.master.objects.delete('Pod', 'default', 'blink');
    await eventually(async () => !(await c.master.objects.get('Pod', 'default', 'blink')), 'the pod removed', 10_000);
  });
});
