/**
 * Dashboard and metrics figures (issue 15), on a `skiff master` process with 100 simulated nodes (the
 * agent's own MQTT session, join and status: storm-selfheal.ts) that report their pods Running and send
 * cpu/memory samples, and 1,000 pods (10 Deployments × 100):
 *   (a) the dashboard's first load in headless Chromium: bytes on the wire (through a counting TCP proxy:
 *       HTTP after gzip, the WebSocket after permessage-deflate) and the time to the first pods table and
 *       to all 1,000 rows' worth of pods;
 *   (b) master CPU with 5 dashboards open on the pods page vs none, under the same churn (a Deployment
 *       scaled every 2 s);
 *   (c) `/metrics` scrape time and size with 1,000 pods;
 *   (d) an event storm (agents reporting thousands of pod events): store writes during it.
 * Run: `npm run bench:dashboard` (builds first). Env: DASH_NODES (100), DASH_PODS (1000), DASH_WINDOW_S (30).
 * Loopback only; stops by itself.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { get as httpsGet } from 'node:https';
import { connectApi } from '../cli/client.js';
import type { Api } from '../cli/types.js';
import { decodeObject, encode } from '../protocol/codec.js';
import type { DesiredMessage, MetricsMessage, PodEventReport, PodsMessage } from '../protocol/messages.js';
import { topics } from '../protocol/topics.js';
import { spawnNode, stopProc, waitFor } from './cluster-selfheal.js';
import { startSimAgents, type SimAgent } from './storm-selfheal.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const NODES = env('DASH_NODES', 100);
const PODS = env('DASH_PODS', 1000);
const WINDOW_S = env('DASH_WINDOW_S', 30);
const DEPLOYMENTS = 10;
const root = mkdtempSync(join(tmpdir(), 'skiff-bench-dash-'));
const chromium = process.env.SKIFF_CHROMIUM ?? '/usr/bin/chromium-headless-shell';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A TCP proxy that counts the bytes the master sends to the browser (what crosses the wire). */
async function countingProxy(target: number): Promise<{ port: number; bytes: () => number; server: Server }> {
  let n = 0;
  const server = createServer((c) => {
    const up = connect(target, '127.0.0.1');
    up.on('data', (d) => (n += d.length));
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, bytes: () => n, server };
}

/** GET over HTTPS trusting the cluster CA (the master's server certificate). */
function fetchText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    httpsGet(url, { ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** Seconds of cpu the process has used (utime + stime, /proc/PID/stat). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** What a simulated agent does for its pods: reports every desired pod Running and ready, and samples cpu/memory every 10 s. */
function simulatePods(a: SimAgent): () => void {
  let pods: DesiredMessage['pods'] = [];
  a.session.on('message', (topic: string, payload: Buffer) => {
    if (topic !== topics.nodeDesired(a.name) || payload.length === 0) return;
    const d = decodeObject<DesiredMessage>(payload).value;
    pods = d.pods;
    const now = new Date().toISOString();
    const m: PodsMessage = {
      full: true,
      generation: d.generation,
      pods: pods.map((p) => ({
        namespace: p.metadata.namespace!, name: p.metadata.name, uid: p.metadata.uid!,
        status: {
          phase: 'Running', hostIP: '127.0.0.1', podIP: '127.0.0.1', startTime: now,
          conditions: ['Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True' as const, lastTransitionTime: now })),
          containerStatuses: p.spec.containers.map((c) => ({ name: c.name, ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })),
        },
      })),
    };
    a.session.publish(topics.nodePods(a.name), encode(m), 1);
  });
  const timer = setInterval(() => {
    const m: MetricsMessage = {
      ts: Date.now(),
      node: { cpuMilli: 200 + Math.round(Math.random() * 300), memoryBytes: 600e6 + Math.round(Math.random() * 1e8), cpuSeconds: Date.now() / 1e4 },
      pods: pods.map((p) => ({ namespace: p.metadata.namespace!, name: p.metadata.name, uid: p.metadata.uid!, cpuMilli: 5, memoryBytes: 8e6, cpuSeconds: 1, containers: [{ name: 'main', cpuSeconds: 1, memoryBytes: 8e6 }] })),
      balancer: 'wasm',
    };
    a.session.publish(topics.nodeMetrics(a.name), encode(m), 0);
  }, 10_000);
  return () => clearInterval(timer);
}

function deployment(i: number, replicas: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: d${i}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: d${i}}}
  template:
    metadata: {labels: {app: d${i}}}
    spec: {containers: [{name: main, command: [sleep, "3600"], resources: {requests: {cpu: 10m, memory: 8Mi}}}]}
`;
}

async function running(api: Api): Promise<number> {
  const { items } = await api.request<{ items: { status?: { phase?: string } }[] }>('list', { kind: 'Pod', allNamespaces: true });
  return items.filter((p) => p.status?.phase === 'Running').length;
}

/** The pods table shows a row. */
const firstRow = "document.querySelectorAll('#pods tbody tr .pod-status').length > 0";

/** One dashboard load: ms to the first pods row and to all pods listed, bytes from the master. */
async function firstLoad(browser: Browser, proxyPort: number, bytes: () => number, token: string): Promise<{ firstRowMs: number; allPodsMs: number; bytes: number }> {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  const before = bytes();
  const t0 = performance.now();
  await page.goto(`https://127.0.0.1:${proxyPort}/#user=admin&token=${encodeURIComponent(token)}`);
  await page.waitForSelector('#tab-pods', { timeout: 30_000 });
  await page.click('#tab-pods');
  // Page-side conditions as strings: the bench is compiled without the DOM's types.
  await page.waitForFunction(firstRow, { timeout: 60_000, polling: 20 });
  const firstRowMs = performance.now() - t0;
  await page.waitForFunction(`document.querySelector('#pods .count')?.textContent === '${PODS}'`, { timeout: 60_000, polling: 20 });
  const allPodsMs = performance.now() - t0;
  await page.close();
  await ctx.close();
  return { firstRowMs, allPodsMs, bytes: bytes() - before };
}

/** Scale one Deployment back and forth every 2 s (pods created and deleted: watch events to every dashboard). */
function churn(api: Api): () => void {
  let i = 0;
  const timer = setInterval(() => {
    const d = i % DEPLOYMENTS;
    const replicas = Math.floor(i / DEPLOYMENTS) % 2 === 0 ? PODS / DEPLOYMENTS - 5 : PODS / DEPLOYMENTS;
    i++;
    void api.request('scale', { kind: 'Deployment', name: `d${d}`, replicas }).catch(() => undefined);
  }, 2000);
  return () => clearInterval(timer);
}

async function cpuOver(pid: number, seconds: number): Promise<number> {
  const a = cpuSeconds(pid);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  return ((cpuSeconds(pid) - a) / seconds) * 100;
}

function storeWrites(metrics: string): number {
  return [...metrics.matchAll(/^skiff_store_writes_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

async function main(): Promise<void> {
  const mqttPort = await freePort();
  const httpPort = await freePort();
  const dataDir = join(root, 'master');
  const master: ChildProcess = spawnNode(['bin/skiff.js', 'master', '--data-dir', dataDir, '--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--mqtts-port=-1', '--bind', '127.0.0.1', '--no-mdns', '--log-level', 'warn', '--join-rate', String(NODES * 2), '--pod-security-default', 'privileged'], join(root, 'master.log'));
  const agents: SimAgent[] = [];
  const stops: (() => void)[] = [];
  let browser: Browser | undefined;
  let api: Api | undefined;
  try {
    await waitFor(() => { try { return JSON.parse(readFileSync(join(dataDir, 'config.json'), 'utf8')); } catch { return undefined; } }, 'the master', 20_000);
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const ca = readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8');
    const joinToken = readFileSync(join(dataDir, 'join.token'), 'utf8').trim();
    const url = `mqtt://127.0.0.1:${mqttPort}`;
    api = await connectApi({ server: url, user: 'admin', token: admin, timeoutMs: 30_000 });
    const base = `https://127.0.0.1:${httpPort}`;
    const t0 = performance.now();
    agents.push(...(await startSimAgents({ url, joinToken, count: NODES, dir: join(root, 'agents'), prefix: 'node' })));
    for (const a of agents) stops.push(simulatePods(a));
    for (let i = 0; i < DEPLOYMENTS; i++) await api.request('apply', { manifest: deployment(i, PODS / DEPLOYMENTS) });
    await waitFor(async () => (await running(api!)) === PODS, `${PODS} pods Running`, 180_000, 500);
    console.log(`${NODES} nodes and ${PODS} pods Running after ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    // (c) /metrics with 1,000 pods.
    const scrapes: number[] = [];
    let size = 0;
    for (let i = 0; i < 20; i++) {
      const s = performance.now();
      size = (await fetchText(`${base}/metrics`, ca)).length;
      scrapes.push(performance.now() - s);
    }
    scrapes.sort((a, b) => a - b);

    // (a) first loads through the counting proxy.
    browser = await puppeteer.launch({ executablePath: chromium, headless: 'shell', acceptInsecureCerts: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'] });
    const proxy = await countingProxy(httpPort);
    const loads = [];
    for (let i = 0; i < 3; i++) loads.push(await firstLoad(browser, proxy.port, proxy.bytes, admin));
    proxy.server.close();
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

    // (b) master CPU: churn alone, then churn with 5 dashboards open on the pods page.
    stops.push(churn(api));
    await new Promise((r) => setTimeout(r, 4000));
    const idle = await cpuOver(master.pid!, WINDOW_S);
    const pages = [];
    for (let i = 0; i < 5; i++) {
      const ctx = await browser.createBrowserContext();
      const page = await ctx.newPage();
      await page.goto(`${base}/#user=admin&token=${encodeURIComponent(admin)}`);
      await page.waitForSelector('#tab-pods', { timeout: 30_000 });
      await page.click('#tab-pods');
      await page.waitForFunction(firstRow, { timeout: 60_000 });
      pages.push(page);
    }
    const withDashboards = await cpuOver(master.pid!, WINDOW_S);
    for (const p of pages) await p.close();
    stops.pop()!();

    // (d) an event storm: every agent reports 50 events about its pods, 10 rounds.
    await new Promise((r) => setTimeout(r, 3000));
    const writesBefore = storeWrites(await fetchText(`${base}/metrics`, ca));
    const { items: podList } = await api.request<{ items: { metadata: { namespace: string; name: string; uid: string }; spec: { nodeName?: string } }[] }>('list', { kind: 'Pod', allNamespaces: true });
    let occurrences = 0;
    for (let round = 0; round < 10; round++) {
      for (const a of agents) {
        const mine = podList.filter((p) => p.spec.nodeName === a.name).slice(0, 5);
        const events: PodEventReport[] = mine.flatMap((p) => Array.from({ length: 10 }, (_, k) => ({ namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid, container: 'main', reason: 'Unhealthy', message: `Liveness probe failed: attempt ${round * 10 + k}`, count: 1, firstTs: Date.now(), lastTs: Date.now() })));
        occurrences += events.length;
        a.session.publish(topics.nodePods(a.name), encode({ pods: [], events } satisfies PodsMessage), 1);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    await new Promise((r) => setTimeout(r, 2000));
    const writesAfter = storeWrites(await fetchText(`${base}/metrics`, ca));
    const kept = (await api.request<{ items: unknown[] }>('list', { kind: 'Event', allNamespaces: true })).items.length;

    const result = {
      nodes: NODES,
      pods: PODS,
      firstLoad: { bytes: med(loads.map((l) => l.bytes)), firstPodsRowMs: Math.round(med(loads.map((l) => l.firstRowMs))), allPodsMs: Math.round(med(loads.map((l) => l.allPodsMs))), runs: loads.length },
      masterCpuPercent: { churnOnly: Number(idle.toFixed(1)), churnWith5Dashboards: Number(withDashboards.toFixed(1)), added: Number((withDashboards - idle).toFixed(1)), windowS: WINDOW_S },
      metricsScrape: { medianMs: Number(med(scrapes).toFixed(1)), maxMs: Number(scrapes.at(-1)!.toFixed(1)), bytes: size, n: scrapes.length },
      eventStorm: { occurrences, eventsKept: kept, storeWrites: writesAfter - writesBefore },
    };
    console.log(`
  dashboard first load (${NODES} nodes, ${PODS} pods; median of ${loads.length}): ${(result.firstLoad.bytes / 1024).toFixed(0)} KiB from the master, first pods row ${result.firstLoad.firstPodsRowMs} ms, all ${PODS} pods ${result.firstLoad.allPodsMs} ms
  master cpu (% of one core, ${WINDOW_S} s windows): churn alone ${result.masterCpuPercent.churnOnly} %, with 5 dashboards ${result.masterCpuPercent.churnWith5Dashboards} % (+${result.masterCpuPercent.added})
  /metrics with ${PODS} pods: median ${result.metricsScrape.medianMs} ms, max ${result.metricsScrape.maxMs} ms over ${scrapes.length} scrapes, ${(size / 1024).toFixed(0)} KiB
  event storm: ${occurrences} occurrences → ${kept} events kept, ${result.eventStorm.storeWrites} store writes meanwhile
`);
    console.log(JSON.stringify(result));
  } finally {
    for (const s of stops) s();
    await browser?.close().catch(() => undefined);
    await api?.close().catch(() => undefined);
    await Promise.all(agents.map((a) => a.stop().catch(() => undefined)));
    await stopProc(master);
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
