/**
 * Services end to end in one process over real sockets: a master, two agents (node addresses 127.0.0.2
 * and 127.0.0.3, both on lo), process pods that greet with their name. Agent a's proxy serves the
 * clusterIPs (two proxies in one network namespace would collide on them); both serve NodePorts on
 * their own address. Checks: allocation, endpoints of ready pods on both nodes, round robin and ClientIP
 * spread, NodePort, service env vars, a deleted (terminating) pod gets no new connections while an open
 * one to it keeps flowing, a NotReady node's pods leave the endpoints.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import type { Endpoints, Pod, Service } from '../../protocol/index.js';
import { eventually, isRunningReady, quietLogger, startCluster, testEngine, type TestCluster } from '../helpers/cluster.js';
import { connect, spread, whoServes } from '../edge-agent/proxy-helpers.js';
import { freePort } from '../helpers/procs.js';

const server = `const net=require('net'),fs=require('fs'),path=require('path');const dir=process.argv[1];const me=process.env.HOSTNAME;
fs.writeFileSync(path.join(dir,me+'.env'),JSON.stringify(process.env));fs.writeFileSync(path.join(dir,me+'.pid'),String(process.pid));
process.on('SIGTERM',()=>{});
net.createServer(s=>{s.on('error',()=>{});s.write(me+'\\n');s.pipe(s)}).listen(Number(process.env.PORT));`;

const pod = (name: string, node: string, dir: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, labels: {app: echo}}
spec:
  nodeSelector: {kubernetes.io/hostname: ${node}}
  terminationGracePeriodSeconds: 30
  restartPolicy: Never
  containers:
  - name: echo
    command: [node, -e, ${JSON.stringify(server)}, ${JSON.stringify(dir)}]
    ports: [{name: tcp, containerPort: 0}]
`;

/** The two services; their ports are free ones (a fixed 8080 would meet a quickstart master's HTTP on 0.0.0.0). */
const services = (echoPort: number, stickyPort: number) => `
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  type: NodePort
  selector: {app: echo}
  ports: [{port: ${echoPort}, targetPort: tcp}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  sessionAffinity: ClientIP
  selector: {app: echo}
  ports: [{name: main, port: ${stickyPort}, targetPort: tcp}]
`;

describe('services: endpoints in the master, a proxy on every agent', () => {
  let c: TestCluster;
  let a: Agent;
  let svc: Service;
  let sticky: Service;
  const names = ['echo-a1', 'echo-a2', 'echo-b1', 'echo-b2'];
  const addAgent = async (name: string, address: string, clusterIPs: boolean) => {
    const agent = await startAgent({
      master: c.master.url, token: c.master.joinToken, name, dataDir: join(c.dir, name), address, leaseIntervalMs: 500, logger: quietLogger,
      proxy: { clusterIPs, nodePortAddresses: [address], balancerImpl: testEngine },
    });
    c.agents.push(agent);
    return agent;
  };
  const pid = async (name: string) => Number(await readFile(join(c.dir, `${name}.pid`), 'utf8'));
  const stats = (key: string) => a.proxy!.stats()[key];

  let echoPort = 0;
  let stickyPort = 0;

  beforeAll(async () => {
    [echoPort, stickyPort] = [await freePort(), await freePort()];
    c = await startCluster([], { nodeMonitorGraceMs: 2000 });
    a = await addAgent('a', '127.0.0.2', true);
    await addAgent('b', '127.0.0.3', false);
    await eventually(async () => (await c.nodes()).filter((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True')).length === 2, 'two Ready nodes');
    await c.apply(services(echoPort, stickyPort));
    // Pods after the services: service env vars are set when a container starts, as in Kubernetes.
    await c.apply([pod('echo-a1', 'a', c.dir), pod('echo-a2', 'a', c.dir), pod('echo-b1', 'b', c.dir), pod('echo-b2', 'b', c.dir)].join('---\n'));
    const pods = await eventually(async () => {
      const ps = await c.pods('app=echo');
      return ps.length === 4 && ps.every(isRunningReady) && ps;
    }, 'four running echo pods');
    // Running is not listening yet: wait until every pod answers directly, so counts below are exact.
    for (const p of pods) await eventually(() => whoServes(p.status!.hostIP ?? '127.0.0.1', p.status!.ports![0].port).then((n) => n === p.metadata.name), `${p.metadata.name} listening`);
    svc = await c.api.request<Service>('get', { kind: 'Service', name: 'echo' });
    sticky = await c.api.request<Service>('get', { kind: 'Service', name: 'sticky' });
    await eventually(() => stats('default/echo')?.ports['']?.endpoints.length === 4 && stats('default/sticky')?.ports.main?.endpoints.length === 4, 'the proxy knows 4 endpoints per service');
  }, 60_000);
  afterAll(async () => {
    for (const n of names) await pid(n).then((p) => process.kill(p, 'SIGKILL')).catch(() => undefined);
    await c?.stop();
  });

  it('allocates clusterIPs in 127.77.0.0/16 and a nodePort in 30000-32767, and stores Endpoints', async () => {
    expect(svc.spec.clusterIP).toMatch(/^127\.77\.\d+\.\d+$/);
    expect(sticky.spec.clusterIP).toMatch(/^127\.77\.\d+\.\d+$/);
    expect(sticky.spec.clusterIP).not.toBe(svc.spec.clusterIP);
    expect(svc.spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(svc.spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    // Re-applying the manifest (no clusterIP in it) keeps the allocation.
    const again = (await c.apply(services(echoPort, stickyPort))) as { results: { action: string }[] };
    expect(again.results.map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
    const ep = await c.api.request<Endpoints>('get', { kind: 'Endpoints', name: 'echo' });
    const ips = ep.subsets!.flatMap((s) => s.addresses ?? []).map((x) => `${x.ip}/${x.targetRef?.name}`).sort();
    expect(ips).toEqual(['127.0.0.2/echo-a1', '127.0.0.2/echo-a2', '127.0.0.3/echo-b1', '127.0.0.3/echo-b2']);
  });

  it('round robin from the host through clusterIP:port reaches every pod on both nodes equally', async () => {
    expect(await spread(svc.spec.clusterIP!, echoPort, 40)).toEqual({ 'echo-a1': 10, 'echo-a2': 10, 'echo-b1': 10, 'echo-b2': 10 });
  });

  it('ClientIP affinity keeps each client on one pod', async () => {
    const seen = new Set<string>();
    for (let i = 1; i <= 8; i++) {
      const counts = await spread(sticky.spec.clusterIP!, stickyPort, 4, `127.0.8.${i}`);
      expect(Object.keys(counts)).toHaveLength(1);
      seen.add(Object.keys(counts)[0]);
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('NodePort is served on both nodes', async () => {
    const port = svc.spec.ports[0].nodePort!;
    for (const host of ['127.0.0.2', '127.0.0.3']) expect(names).toContain(await whoServes(host, port));
  });

  it('pods get {NAME}_SERVICE_HOST/PORT for the services of their namespace', async () => {
    const env = JSON.parse(await readFile(join(c.dir, 'echo-b1.env'), 'utf8'));
    expect(env.ECHO_SERVICE_HOST).toBe(svc.spec.clusterIP);
    expect(env.ECHO_SERVICE_PORT).toBe(String(echoPort));
    expect(env.STICKY_SERVICE_HOST).toBe(sticky.spec.clusterIP);
    expect(env.STICKY_SERVICE_PORT_MAIN).toBe(String(stickyPort));
  });

  it('a terminating pod gets no new connections; an open connection to it keeps flowing until closed', async () => {
    const open = [];
    for (let i = 0; i < 4; i++) open.push(await connect(svc.spec.clusterIP!, echoPort));
    const toVictim = open.find((x) => x.backend === 'echo-a1')!;
    expect(toVictim).toBeDefined();
    // Deletion is graceful: the pod ignores SIGTERM and keeps serving for its 30 s grace period.
    await c.api.request('delete', { kind: 'Pod', name: 'echo-a1' });
    await eventually(() => stats('default/echo').ports[''].endpoints.length === 3, 'echo-a1 removed from the proxy');
    const counts = await spread(svc.spec.clusterIP!, echoPort, 30);
    expect(counts['echo-a1']).toBeUndefined();
    expect(counts).toEqual({ 'echo-a2': 10, 'echo-b1': 10, 'echo-b2': 10 });
    expect(await toVictim.echo('draining')).toBe('draining');
    for (const x of open) x.socket.destroy();
    process.kill(await pid('echo-a1'), 'SIGKILL');
  });

  it("a node that goes NotReady takes its pods out of the endpoints", async () => {
    const b = c.agents.find((x) => x.name === 'b')!;
    await b.stop({ stopPods: false }); // its pods keep running and listening, but the node is gone
    await eventually(() => stats('default/echo').ports[''].endpoints.length === 1, 'only echo-a2 left');
    expect(await spread(svc.spec.clusterIP!, echoPort, 10)).toEqual({ 'echo-a2': 10 });
    const ep = await c.api.request<Endpoints>('get', { kind: 'Endpoints', name: 'echo' });
    expect(ep.subsets!.flatMap((s) => s.notReadyAddresses ?? []).map((x) => x.targetRef?.name).sort()).toEqual(['echo-b1', 'echo-b2']);
  });

  it('deleting the service clears its retained message and closes its listener', async () => {
    await c.api.request('delete', { kind: 'Service', name: 'sticky' });
    await eventually(() => stats('default/sticky') === undefined, 'sticky gone from the proxy');
    await expect(connect(sticky.spec.clusterIP!, stickyPort)).rejects.toThrow(/ECONNREFUSED/);
    await eventually(async () => (await c.api.request<{ items: Pod[] }>('list', { kind: 'Endpoints' })).items.every((e) => e.metadata.name !== 'sticky'), 'sticky Endpoints deleted');
  });
});
