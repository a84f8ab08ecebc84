/**
 * Container pods end to end, with real processes: a `skiff-agent` process and a private Podman in one network
 * namespace of the test's (the agent makes skiff0 and serves the cluster DNS there, containers get their own
 * namespaces on Podman's bridge), a master in-process on loopback reached through a relay. What a user of the
 * Kubernetes tutorials expects: an image Deployment serving a configMap file through a NodePort, a pod that
 * fetches a Service by its cluster DNS names, two containers of a pod over localhost, ImagePullBackOff in
 * `skiff get pods`, and an agent killed with kill -9 whose containers keep running and are adopted, none twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { startMaster, type Master } from '../../master/index.js';
import type { Pod } from '../../protocol/index.js';
import { kill9, spawnNode, stopAgentProc } from '../../bench/cluster-selfheal.js';
import { testEngine } from '../helpers/cluster.js';
import { relayInto } from '../helpers/netns.js';
import { startPodman, type Podman } from '../helpers/podman.js';
import { agentBin, requireBuild, skiff } from '../helpers/procs.js';
import { relayOut, type RelayOut } from '../helpers/relay-out.js';
import { eventually, tempDir } from '../helpers/wait.js';

const web = `
apiVersion: v1
kind: ConfigMap
metadata: {name: site}
data: {index.html: "hello from a configmap\\n"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: httpd
        image: localhost/httpd:test
        ports: [{name: http, containerPort: 80}]
        volumeMounts: [{name: site, mountPath: /www}]
        readinessProbe: {httpGet: {path: /index.html, port: http}, periodSeconds: 1}
      volumes: [{name: site, configMap: {name: site}}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
`;

/** GET http://127.0.0.1:port/ from the test process. */
function get(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('e2e: container pods on a real agent', () => {
  let dir: string;
  let pm: Podman;
  let master: Master;
  let relay: RelayOut;
  let agent: ChildProcess | undefined;
  const agentLog = () => join(dir, 'box.log');
  const boot = () =>
    (agent = spawnNode(
      [agentBin, 'join', '--master', `mqtt://127.0.0.1:${relay.port}`, '--token', master.joinToken, '--name', 'box', '--data-dir', join(dir, 'box'), '--address', '127.0.0.1', '--lease-interval', '500ms', '--container-endpoint', pm.endpoint],
      agentLog(),
      pm.nsenter,
    ));
  const pods = (app?: string) => master.informers.list('Pod', 'default').filter((p) => !app || p.metadata.labels?.app === app);
  const pod = (name: string) => master.informers.get('Pod', 'default', name);
  const readyRunning = (p: Pod) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  const cli = (...args: string[]) => skiff(['--server', master.url, '--token', master.adminToken, ...args]);
  const apply = async (manifest: string) => {
    const file = join(dir, `manifest-${Date.now()}.yaml`);
    writeFileSync(file, manifest);
    const r = await cli('apply', '-f', file);
    if (r.code !== 0) throw new Error(`apply: ${r.stderr}`);
  };
  /** Running containers of this node in the engine: id and pod name. */
  const running = async () => (await pm.cli('ps', '--filter', 'label=io.skiff.node=box', '--format', '{{.ID}} {{.Labels}}')).trim().split('\n').filter(Boolean);

  beforeAll(async () => {
    requireBuild();
    dir = await tempDir('skiff-ctr-e2e-');
    pm = await startPodman();
    master = await startMaster({ dataDir: join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false });
    relay = await relayOut(pm.ns, master.mqttPort, dir);
    boot();
    await eventually(() => master.informers.get('Node', undefined, 'box')?.status?.nodeInfo?.runtimes?.includes('container'), 'node box with the container runtime', 30_000);
  }, 90_000);

  afterAll(async () => {
    await stopAgentProc(agent, join(dir, 'box'));
    await relay?.close();
    await master?.stop();
    await pm?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }, 90_000);

  it('get nodes -o wide shows the container runtime', async () => {
    const r = await cli('get', 'nodes', '-o', 'wide');
    expect(r.stdout).toMatch(/CONTAINER-RUNTIME/);
    expect(r.stdout).toMatch(/box .* podman:\/\/4\.\d+\.\d+ /);
    expect(readFileSync(agentLog(), 'utf8')).toMatch(/made skiff0 .* with 10\.43\.0\.10/);
  });

  it('an image Deployment of 2 replicas serves a configMap file through a NodePort', async () => {
    await apply(web);
    await eventually(() => pods('web').length === 2 && pods('web').every(readyRunning), 'two web pods Running and ready', 30_000);
    const ports = pods('web').map((p) => p.status!.ports![0]);
    expect(ports.every((p) => p.containerPort === 80 && p.port !== 80)).toBe(true);
    expect(new Set(ports.map((p) => p.port)).size).toBe(2); // two pods, both on containerPort 80, each its own node port
    const nodePort = master.informers.get('Service', 'default', 'web')!.spec.ports[0].nodePort!;
    const into = await relayInto(pm.ns, nodePort, dir);
    try {
      await eventually(async () => (await get(into.port).catch(() => '')) === 'hello from a configmap\n', 'the page through the NodePort', 20_000);
    } finally {
      await into.close();
    }
  });

  it('a container pod reaches the Service by its cluster DNS names and by clusterIP:port', async () => {
    // (busybox 1.35's `wget -T` crashes: `timeout` bounds each fetch instead.) On success it stays up, so its log can be read.
    const script = 'for n in web web.default web.default.svc.cluster.local $WEB_SERVICE_HOST:$WEB_SERVICE_PORT; do printf "%s: " $n; timeout 5 wget -q -O- http://$n/ || exit 1; done; echo done; exec sleep 300';
    await master.objects.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: 'default' }, spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'localhost/busybox:test', command: ['sh', '-c', script] }] } } as never);
    const logs = await eventually(async () => {
      if (pod('client')?.status?.phase === 'Failed') throw new Error('the client pod failed to fetch the service');
      const r = await cli('logs', 'client');
      return r.stdout.endsWith('done\n') && r.stdout;
    }, 'the client fetched the service four ways', 30_000);
    const mirror = master.informers.get('Service', 'default', 'web')!.spec.clusterIP!.replace(/^127\.77\./, '10.43.');
    expect(logs).toBe(['web', 'web.default', 'web.default.svc.cluster.local', `${mirror}:80`].map((n) => `${n}: hello from a configmap\n`).join('') + 'done\n');
  });

  it('two containers of one pod talk over localhost', async () => {
    const client = 'until wget -q -O- http://127.0.0.1:80/ 2>/dev/null; do sleep 0.2; done; exec sleep 300';
    await master.objects.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'duo', namespace: 'default' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'localhost/httpd:test' }, { name: 'client', image: 'localhost/busybox:test', command: ['sh', '-c', client] }] } } as never);
    await eventually(async () => (await cli('logs', 'duo', '-c', 'client')).stdout === 'hello from busybox\n', 'the client container read the page over localhost', 20_000);
  });

  it('ImagePullBackOff shows in skiff get pods', async () => {
    await master.objects.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nopull', namespace: 'default' }, spec: { containers: [{ name: 'main', image: '127.0.0.1:9/skiff/absent:1.0' }] } } as never);
    await eventually(async () => /^nopull\s+0\/1\s+ImagePullBackOff\s+0\s/m.test((await cli('get', 'pods')).stdout), 'nopull ImagePullBackOff in get pods', 40_000);
    const d = await cli('describe', 'pod', 'nopull');
    expect(d.stdout).toMatch(/Reason:\s+ImagePullBackOff/);
    expect(d.stdout).toMatch(/Failed to pull image "127\.0\.0\.1:9\/skiff\/absent:1\.0"/);
    await master.objects.delete('Pod', 'default', 'nopull').catch(() => undefined);
  });

  it('kill -9 of the agent: the containers keep running; the next agent adopts them, none started twice', async () => {
    const before = (await running()).sort();
    expect(before.length).toBeGreaterThanOrEqual(4); // 2 web + duo's 2 (and their sandboxes)
    await kill9(agent);
    expect((await running()).sort()).toEqual(before);
    boot();
    await eventually(() => (readFileSync(agentLog(), 'utf8').match(/adopted its running process/g) ?? []).length >= 4, 'the new agent adopted the containers', 30_000);
    await eventually(() => pods('web').every(readyRunning), 'web Ready again', 20_000);
    expect((await running()).sort()).toEqual(before);
    expect(pods('web').every((p) => p.status!.containerStatuses![0].restartCount === 0)).toBe(true);
  });

  it('skiff-agent stop --pods empties the node: no container of it is left in the engine', async () => {
    await stopAgentProc(agent, join(dir, 'box'));
    expect(await running()).toEqual([]);
    expect((await pm.cli('ps', '-a', '--filter', 'label=io.skiff.node=box', '-q')).trim()).toBe('');
  });
});
