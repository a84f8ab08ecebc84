/**
 * LAN discovery and the service proxy with real hosts (issue 6): a master, two agents and a LAN client, each
 * in its own network namespace on one bridge (test/helpers/lan.ts), real `skiff master` / `skiff-agent`
 * processes, and a real mDNS browser (avahi) on the client. Agent b joins without --master (it finds the
 * master by mDNS). A client on agent a reaches a service whose pods run on both agents through a's local
 * proxy, round-robin; a killed backend costs no failed request; avahi on the client sees the service
 * (`_skiff._tcp` and `_http._tcp`, resolved to the announcing node and the NodePort) and loses it once the
 * service is deleted (goodbye); with no master on the LAN, join without --master exits 1 saying so. Needs root, iproute2, avahi-daemon, avahi-utils, dbus: fails naming them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Api } from '../../cli/types.js';
import { adminOf, apiTo, listNodes, listPods, readyOf, runningReady, spawnNode, stopAgentProc, stopProc, waitFor } from '../../bench/cluster-selfheal.js';
import { testEngine } from '../helpers/cluster.js';
import { makeLan, requireLanTools, startAvahi, type Avahi, type Lan } from '../helpers/lan.js';
import { relayInto } from '../helpers/netns.js';
import { agentBin, requireBuild, skiffBin } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

const server = `require('http').createServer((q,s)=>s.end(process.env.POD_NAME+' '+process.env.NODE_NAME+' '+process.pid+'\\n')).listen(Number(process.env.PORT));process.on('SIGTERM',()=>process.exit(0))`;
const manifest = (replicas: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'echo', namespace: 'default' },
  spec: {
    replicas,
    selector: { matchLabels: { app: 'echo' } },
    template: {
      metadata: { labels: { app: 'echo' } },
      spec: {
        runtimeClassName: 'process',
        containers: [
          {
            name: 'echo',
            command: ['node', '-e', server],
            env: [
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
            ],
            ports: [{ name: 'http', containerPort: 0 }],
            readinessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1 },
          },
        ],
      },
    },
  },
});
const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'default' }, spec: { type: 'NodePort', selector: { app: 'echo' }, ports: [{ name: 'http', port: 80, targetPort: 'http', nodePort: 30080 }] } };

/** `n` sequential HTTP GETs from inside `ns`; one line per request: the answer, or `ERR <message>`. */
function requestsFrom(lan: Lan, ns: string, url: string, n: number): string[] {
  const script = `(async()=>{for(let i=0;i<${n};i++){try{const r=await fetch(${JSON.stringify(url)},{headers:{connection:'close'}});console.log((await r.text()).trim())}catch(e){console.log('ERR '+(e.cause?.code??e.message))}}})()`;
  return execFileSync(lan.exec(ns)[0], [...lan.exec(ns).slice(1), process.execPath, '-e', script], { encoding: 'utf8', timeout: 30_000 }).trim().split('\n');
}

describe('e2e: LAN discovery and the service proxy (network namespaces, avahi)', () => {
  let dir: string;
  let lan: Lan | undefined;
  let avahi: Avahi | undefined;
  let relay: Awaited<ReturnType<typeof relayInto>> | undefined;
  let api: Api | undefined;
  const procs: ChildProcess[] = [];
  const agents = new Map<string, ChildProcess>();
  let lonely: { status: number | null; stderr: string } | undefined;

  beforeAll(async () => {
    requireBuild();
    requireLanTools();
    dir = await tempDir('skiff-lan-');
    lan = makeLan(['master', 'a', 'b', 'client']);
    const h = lan.hosts;
    avahi = await startAvahi(h.client.ns, dir);
    // Before any master exists: joining without --master must give up with a clear message.
    lonely = spawnSync(lan.exec(h.client.ns)[0], [...lan.exec(h.client.ns).slice(1), process.execPath, agentBin, 'join', '--token', 'x', '--name', 'lonely', '--data-dir', join(dir, 'lonely'), '--address', h.client.address, '--discovery-timeout', '1s'], { encoding: 'utf8', timeout: 20_000 });
    procs.push(spawnNode([skiffBin, 'master', '--data-dir', join(dir, 'master'), '--mqtt-port', '1883', '--http-port=-1', '--bind', '0.0.0.0', '--engine', testEngine, '--pod-security-default', 'privileged'], join(dir, 'master.log'), lan.exec(h.master.ns)));
    const { token, joinToken } = await waitFor(() => adminOf(join(dir, 'master')), 'the master config', 20_000, 100);
    relay = await relayInto(h.master.ns, 1883, dir);
    api = await waitFor(() => apiTo(`mqtt://127.0.0.1:${relay!.port}`, token, 3000), 'the master API through the relay', 10_000, 100);
    const agent = (name: string, extra: string[]) =>
      spawnNode([agentBin, 'join', ...extra, '--token', joinToken, '--name', name, '--data-dir', join(dir, name), '--address', h[name].address, '--lease-interval', '500ms'], join(dir, `${name}.log`), lan!.exec(h[name].ns));
    agents.set('a', agent('a', ['--master', `mqtts://${h.master.address}:8883`]));
    agents.set('b', agent('b', ['--discovery-timeout', '15s'])); // no --master: found on the LAN by mDNS
  }, 60_000);

  afterAll(async () => {
    await api?.close().catch(() => undefined);
    for (const [name, p] of agents) await stopAgentProc(p, join(dir, name));
    for (const p of procs.reverse()) await stopProc(p);
    await relay?.close();
    await avahi?.stop();
    lan?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('without a master on the LAN, join without --master exits 1 saying so', () => {
    expect(lonely?.status).toBe(1);
    expect(lonely?.stderr).toContain('no Skiff master answered on the LAN within 1 s (browsed _skiff-master._tcp by mDNS');
    expect(lonely?.stderr).toContain('--master mqtts://HOST:8883');
  });

  it('the master is seen on the LAN, and an agent joins with no --master', async () => {
    const masters = avahi!.browse('_skiff-master._tcp');
    expect(masters).toContainEqual(expect.objectContaining({ address: lan!.hosts.master.address, port: 8883, txt: expect.objectContaining({ role: 'master', mqtt: '8883', tls: 'true' }) }));
    await waitFor(async () => (await listNodes(api!)).filter((n) => readyOf(n) === 'True').length === 2, 'nodes a and b Ready (b found the master by mDNS)', 25_000, 200);
    // It says which master it picked, proved that master knows the join token, and keeps its URL for later starts.
    const log = readFileSync(join(dir, 'b.log'), 'utf8');
    expect(log).toContain(`picked the master at mqtts://${lan!.hosts.master.address}:8883, mDNS instance "`);
    expect(JSON.parse(readFileSync(join(dir, 'b', 'master.json'), 'utf8'))).toMatchObject({ url: `mqtts://${lan!.hosts.master.address}:8883` });
  }, 40_000);

  it('a client on agent a reaches pods on both agents through the local proxy, round-robin; a killed backend fails no request', async () => {
    await api!.request('apply', { objects: [manifest(4)] });
    await api!.request('apply', { objects: [service] });
    const pods = await waitFor(async () => {
      const ps = (await listPods(api!, 'app=echo')).filter(runningReady);
      return ps.length === 4 && new Set(ps.map((p) => p.spec.nodeName)).size === 2 && ps;
    }, 'four ready echo pods spread over a and b', 30_000, 200);
    const svc = await api!.request<{ spec: { clusterIP: string } }>('get', { kind: 'Service', namespace: 'default', name: 'echo' });
    const url = `http://${svc.spec.clusterIP}:80/`;
    const answers = await waitFor(() => {
      const lines = requestsFrom(lan!, lan!.hosts.a.ns, url, 40);
      return new Set(lines.map((l) => l.split(' ')[0])).size === 4 && lines;
    }, 'the proxy on a serving all four endpoints', 20_000, 500);
    expect(answers.filter((l) => l.startsWith('ERR'))).toEqual([]);
    const perPod = new Map<string, number>();
    for (const l of answers) perPod.set(l.split(' ')[0], (perPod.get(l.split(' ')[0]) ?? 0) + 1);
    // Round-robin (the default algorithm) over 4 endpoints: 40 requests are 10 each.
    expect([...perPod.values()]).toEqual([10, 10, 10, 10]);
    expect(new Set(answers.map((l) => l.split(' ')[1]))).toEqual(new Set(['a', 'b']));
    expect(new Set([...perPod.keys()])).toEqual(new Set(pods.map((p) => p.metadata.name)));

    // Kill one backend on b (its process, as a crash); requests right after go to the others.
    const victim = answers.find((l) => l.split(' ')[1] === 'b')!.split(' ');
    execFileSync('kill', ['-9', victim[2]]);
    const after = requestsFrom(lan!, lan!.hosts.a.ns, url, 20);
    expect(after.filter((l) => l.startsWith('ERR'))).toEqual([]);
    expect(after.filter((l) => l.split(' ')[2] === victim[2])).toEqual([]);
  }, 60_000);

  it('avahi on the LAN client sees the service at a node and its NodePort, then loses it when it is deleted', async () => {
    const h = lan!.hosts;
    const nodeAddresses = [h.a.address, h.b.address];
    const seen = await waitFor(() => {
      const skiff = avahi!.browse('_skiff._tcp').filter((r) => r.name === 'echo.default');
      const http = avahi!.browse('_http._tcp').filter((r) => r.name === 'echo.default');
      return skiff.length > 0 && http.length > 0 && { skiff, http };
    }, '_skiff._tcp and _http._tcp instances "echo.default" on the client', 20_000, 300);
    for (const r of [...seen.skiff, ...seen.http]) {
      expect(nodeAddresses).toContain(r.address);
      expect(r.port).toBe(30080);
      expect(r.host).toMatch(/^skiff-[ab]\.local$/);
    }
    expect(seen.skiff[0].txt).toEqual({ namespace: 'default', name: 'echo', port: '80' });
    // One announcer (the first node by name with a ready endpoint): the same host for both types.
    expect(new Set([...seen.skiff, ...seen.http].map((r) => r.host))).toEqual(new Set(['skiff-a.local']));
    // The NodePort answers from the LAN client at the announced address.
    const lines = requestsFrom(lan!, h.client.ns, `http://${seen.http[0].address}:${seen.http[0].port}/`, 4);
    expect(lines.filter((l) => l.startsWith('ERR'))).toEqual([]);

    await api!.request('delete', { kind: 'Service', namespace: 'default', name: 'echo' });
    // Well under the 120 s record lifetime: the goodbye removes it.
    await waitFor(() => avahi!.browse('_skiff._tcp', 2000).every((r) => r.name !== 'echo.default') && avahi!.browse('_http._tcp', 2000).every((r) => r.name !== 'echo.default'), 'echo.default gone from the client', 10_000, 300);
  }, 60_000);
});
