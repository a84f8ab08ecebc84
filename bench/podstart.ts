/**
 * Pod start: apply → Running, p50/p99 per kind of pod, on one node. A master and an agent run in this
 * process and talk over MQTT on loopback, as a master and a local agent do; each trial applies one pod
 * through the API (what `skiff apply` does), and the clock stops when the master's cache sees the pod's phase
 * Running (the agent's report stored). The pod is deleted and gone before the next trial; a few warm-up
 * trials per kind are not counted.
 *
 * Rows: `process` (sleep), `wasi` (the test module from a file on the node: cached by definition),
 * `wasi-url` (the module from a URL with its digest: fetched once by the warm-up, cached afterwards). For
 * WASI the table also gives Running → the module's first output (node starting, compiling, instantiating:
 * what the cache cannot save). `container` (busybox `sleep` through the container driver, over a private Podman
 * API service: test/helpers/podman.ts; root, podman, runc, busybox-static) comes with a `podman run -d` row of the
 * same image as its anchor, timed in the same run after the trials.
 *
 * Run: `npm run bench:podstart`. Env: PODSTART_TRIALS (40), PODSTART_WARMUP (3), PODSTART_ONLY=wasi,process
 * (the container rows only when asked for: PODSTART_ONLY=container or PODSTART_CONTAINERS=1).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { connectApi } from '../cli/client.js';
import { startAgent, type Agent } from '../edge-agent/index.js';
import { startMaster } from '../master/index.js';
import type { Pod } from '../protocol/index.js';
import { startPodman, type Podman } from '../test/helpers/podman.js';
import { helloWasm, sha256Of } from '../test/helpers/wasi.js';

const TRIALS = Number(process.env.PODSTART_TRIALS ?? 40);
const WARMUP = Number(process.env.PODSTART_WARMUP ?? 3);
const ONLY = process.env.PODSTART_ONLY?.split(',');
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** One kind of pod: how its manifest looks, and where its first output lands (for the WASI rows). */
interface Kind {
  label: string;
  manifest(name: string): string;
  /** Whether to time Running → first output in the pod's log. */
  firstOutput?: boolean;
}

/** Nearest-rank percentile. */
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skiff-bench-podstart-'));
  const wasm = await helloWasm();
  const server = http.createServer((_req, res) => res.end(fs.readFileSync(wasm)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hello.wasm#sha256=${sha256Of(wasm)}`;
  const wasiPod = (image: string) => (name: string) =>
    `{apiVersion: v1, kind: Pod, metadata: {name: ${name}}, spec: {runtimeClassName: wasi, terminationGracePeriodSeconds: 1, containers: [{name: m, image: '${image}', args: [ticks]}]}}`;
  const withContainers = ONLY?.includes('container') || process.env.PODSTART_CONTAINERS === '1';
  const pm: Podman | undefined = withContainers ? await startPodman() : undefined;
  const kinds: Kind[] = ([
    ...(pm ? [{ label: 'container', manifest: (name: string) => `{apiVersion: v1, kind: Pod, metadata: {name: ${name}}, spec: {terminationGracePeriodSeconds: 0, containers: [{name: m, image: '${pm.images.busybox}', command: [sleep, '1000']}]}}` }] : []),
    { label: 'process', manifest: (name: string) => `{apiVersion: v1, kind: Pod, metadata: {name: ${name}}, spec: {terminationGracePeriodSeconds: 1, containers: [{name: m, command: [sleep, '1000']}]}}` },
    { label: 'wasi', manifest: wasiPod(`file://${wasm}`), firstOutput: true },
    { label: 'wasi-url', manifest: wasiPod(url), firstOutput: true },
  ] as Kind[]).filter((k) => !ONLY || ONLY.includes(k.label));

  const master = await startMaster({ dataDir: path.join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, mdns: false, podSecurityDefault: 'privileged' }); // process pods run as the agent here, as in the tests
  const engine = pm ? { containerEndpoint: pm.endpoint, podNetwork: 'bridge' as const, podServices: false } : { containerEndpoint: false as const };
  const agent = await startAgent({ master: master.url, token: master.joinToken, name: 'bench', dataDir: path.join(dir, 'agent'), address: '127.0.0.1', logger: quiet, mdns: false, proxy: false, ...engine });
  const api = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 30_000 });
  const rows: string[][] = [];
  const summary: Record<string, unknown> = {};
  try {
    await waitUntil(() => master.informers.get('Node', undefined, 'bench') !== undefined);
    let n = 0;
    for (const k of kinds) {
      const starts: number[] = [];
      const outputs: number[] = [];
      const desired: number[] = [];
      const atAgent: number[] = [];
      for (let i = 0; i < WARMUP + TRIALS; i++) {
        const name = `${k.label}-${++n}`;
        const t = await trial(master, api, name, k, agent);
        if (i < WARMUP) continue;
        starts.push(t.running);
        desired.push(t.stages.desired);
        atAgent.push(t.stages.agentRunning);
        if (t.firstOutput !== undefined) outputs.push(t.firstOutput);
      }
      rows.push([k.label, String(starts.length), ms(pct(starts, 50)), ms(pct(starts, 99)), ms(Math.max(...starts)), ms(pct(desired, 50)), ms(pct(atAgent, 50)), outputs.length ? `${ms(pct(outputs, 50))} / ${ms(pct(outputs, 99))}` : '—']);
      summary[k.label] = { n: starts.length, p50: pct(starts, 50), p99: pct(starts, 99), ...(outputs.length ? { firstOutputP50: pct(outputs, 50), firstOutputP99: pct(outputs, 99) } : {}) };
    }
    if (pm) {
      const anchor = await podmanRuns(pm, TRIALS);
      rows.push(['podman run -d (anchor)', String(anchor.length), ms(pct(anchor, 50)), ms(pct(anchor, 99)), ms(Math.max(...anchor)), '—', '—', '—']);
      summary.podmanRun = { n: anchor.length, p50: pct(anchor, 50), p99: pct(anchor, 99) };
    }
  } finally {
    await api.close();
    await agent.stop();
    await master.stop();
    await pm?.stop();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const head = ['pod', 'n', 'apply→Running p50', 'p99', 'max', 'desired at agent p50', 'Running at agent p50', 'Running→first output p50 / p99'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log(`(${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}; p99 with fewer than 100 trials is close to the max)`);
  console.log(JSON.stringify({ bench: 'podstart', ...summary }));
}

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** `podman run -d` of the busybox image until it returns (the container runs), `n` times after one warm-up; ms each. */
async function podmanRuns(pm: Podman, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i <= n; i++) {
    const t0 = performance.now();
    const id = (await pm.cli('run', '-d', pm.images.busybox, 'sleep', '1000')).trim();
    if (i > 0) out.push(performance.now() - t0);
    await pm.cli('rm', '-f', '-t', '0', id);
  }
  return out;
}

/** Polls until `fn` holds (set-up only; the trials are timed by events). */
async function waitUntil(fn: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('podstart: timed out setting up');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Where the time goes, per trial: the desired set reaches the agent, the agent sees the pod Running. */
interface Stages {
  desired: number;
  agentRunning: number;
}

/** One trial: apply, wait for Running (and the first output), delete, wait until gone. */
async function trial(master: Awaited<ReturnType<typeof startMaster>>, api: Awaited<ReturnType<typeof connectApi>>, name: string, k: Kind, agent: Agent): Promise<{ running: number; firstOutput?: number; stages: Stages }> {
  let runningAt = 0;
  const stages: Stages = { desired: NaN, agentRunning: NaN };
  const onDesired = () => (stages.desired = Number.isNaN(stages.desired) ? performance.now() - t0 : stages.desired);
  const onStatus = (r: { name: string; status: { phase?: string } }) => {
    if (r.name === name && r.status.phase === 'Running' && Number.isNaN(stages.agentRunning)) stages.agentRunning = performance.now() - t0;
  };
  agent.on('desired', onDesired);
  agent.on('podStatus', onStatus);
  const running = new Promise<Pod>((resolve) => {
    const h = (p: unknown) => {
      const pod = p as Pod | undefined;
      if (pod?.metadata.name !== name || pod.status?.phase !== 'Running') return;
      runningAt = performance.now();
      master.informers.off('Pod', h);
      resolve(pod);
    };
    master.informers.on('Pod', h);
  });
  const t0 = performance.now();
  await api.request('apply', { manifest: k.manifest(name) });
  const pod = await withTimeout(running, 60_000, `${name} Running`);
  agent.off('desired', onDesired);
  agent.off('podStatus', onStatus);
  const result: { running: number; firstOutput?: number; stages: Stages } = { running: runningAt - t0, stages };
  if (k.firstOutput) {
    const log = path.join(agent.dataDir, 'logs', `default_${name}_${pod.metadata.uid}`, 'm', '0.log');
    while (!(fs.existsSync(log) && fs.statSync(log).size > 0)) await new Promise((r) => setTimeout(r, 2));
    result.firstOutput = performance.now() - runningAt;
  }
  await api.request('delete', { kind: 'Pod', name, namespace: 'default' });
  await waitUntil(() => master.informers.get('Pod', 'default', name) === undefined, 60_000);
  return result;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`podstart: timed out waiting for ${what}`)), ms).unref())]);
}

await main();
