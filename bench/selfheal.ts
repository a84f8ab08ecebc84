/**
 * Self-healing figures (issue 5): n, p50, max over trials (p99 too where there are ≥ 100 samples),
 * printed as a table and one JSON line:
 *   (a) node death → replacements Running: a board loses power (agent frozen with SIGSTOP so its socket
 *       stays silently open, its pod processes SIGKILLed), short settings (2 s / 2 s) and the defaults
 *       (10 s / 30 s, fewer trials);
 *   (b) first-restart latency of a crashed process, as the process sees it (last line → next first line);
 *   (c) N simulated agents reconnecting after a master (broker) restart: time until all are back, and the
 *       master's API latency meanwhile.
 * Run: `npm run bench:selfheal` (builds first). Env: SELFHEAL_TRIALS (10), SELFHEAL_DEFAULT_TRIALS (3),
 * SELFHEAL_AGENTS (500), SELFHEAL_STORM_TRIALS (10), SELFHEAL_ONLY=storm (the storm alone). Real processes on loopback only.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { Api } from '../cli/types.js';
import {
  adminOf, apiTo, idleDeployment, kill9, listNodes, listPods, readyOf, recordedPids, runningReady, startAgentProc, startMasterProc, stopAgentProc, stopProc, waitFor,
} from './cluster-selfheal.js';
import { startSimAgents } from './storm-selfheal.js';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const TRIALS = env('SELFHEAL_TRIALS', 10);
const DEFAULT_TRIALS = env('SELFHEAL_DEFAULT_TRIALS', 3);
const AGENTS = env('SELFHEAL_AGENTS', 500);
const STORM_TRIALS = env('SELFHEAL_STORM_TRIALS', 10);
/** SELFHEAL_ONLY=storm runs the reconnect storm alone (the part that the master and back-off changes move). */
const ONLY = process.env.SELFHEAL_ONLY;
const root = mkdtempSync(join(tmpdir(), 'skiff-bench-selfheal-'));

/**
 * A p99 says something only when at least 1 % of the samples lie above it: with fewer than 100
 * trials the nearest-rank p99 is simply the max, so the tables print "—" and the max with n.
 */
const MIN_P99_SAMPLES = 100;

/** p-th percentile (nearest rank). */
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

interface Cluster {
  dir: string;
  port: number;
  master: ChildProcess;
  api: Api;
  token: string;
  joinToken: string;
}

async function bootMaster(dir: string, port: number, grace?: string, eviction?: string): Promise<Cluster> {
  mkdirSync(dir, { recursive: true });
  // The storm joins hundreds of simulated boards from one address: lift the per-source join rate.
  const master = startMasterProc({ dataDir: join(dir, 'master'), mqttPort: port, grace, eviction, joinRate: 100_000 }, join(dir, 'master.log'));
  let token = '';
  let joinToken = '';
  const api = await waitFor(async () => {
    ({ token, joinToken } = await adminOf(join(dir, 'master')));
    return apiTo(`mqtt://127.0.0.1:${port}`, token, 5000);
  }, 'the master API', 30_000, 50);
  return { dir, port, master, api, token, joinToken };
}

function agentOf(c: Cluster, name: string): ChildProcess {
  return startAgentProc({ master: `mqtt://127.0.0.1:${c.port}`, token: c.joinToken, name, dataDir: join(c.dir, name), address: '127.0.0.1', lease: '1s' }, join(c.dir, `${name}.log`));
}

const readyCount = async (api: Api, names: string[]) => (await listNodes(api)).filter((n) => names.includes(n.metadata.name) && readyOf(n) === 'True').length;

/** (a) One node-death trial per iteration: a fresh victim board, a fresh Deployment spread over keeper + victim. */
async function nodeDeath(grace: string, eviction: string, trials: number): Promise<number[]> {
  const dir = join(root, `death-${grace}-${eviction}`);
  const c = await bootMaster(dir, await freePort(), grace, eviction);
  const keeper = agentOf(c, 'keeper');
  const out: number[] = [];
  try {
    await waitFor(() => readyCount(c.api, ['keeper']).then((n) => n === 1), 'keeper Ready', 20_000);
    for (let t = 0; t < trials; t++) {
      const name = `victim-${t}`;
      const victim = agentOf(c, name);
      await waitFor(() => readyCount(c.api, [name]).then((n) => n === 1), `${name} Ready`, 20_000);
      const app = `death-${t}`;
      await c.api.request('apply', { manifest: idleDeployment(app, 4, `${root}-${app}`) });
      const pods = await waitFor(async () => {
        const ps = await listPods(c.api, `app=${app}`);
        return ps.length === 4 && ps.every(runningReady) && ps;
      }, `${app} running`, 30_000);
      if (!pods.some((p) => p.spec.nodeName === name)) throw new Error(`trial ${t}: the scheduler put no pod on ${name}`);
      await waitFor(() => recordedPids(join(dir, name)).size === pods.filter((p) => p.spec.nodeName === name).length, 'pid files', 5000);
      // Power cut: the agent freezes mid-sentence (its TCP connection stays open, nothing more is said) and its pods die.
      const t0 = Date.now();
      victim.kill('SIGSTOP');
      for (const pid of [...recordedPids(join(dir, name)).values()].flat()) process.kill(-pid, 'SIGKILL');
      await waitFor(async () => {
        const ps = await listPods(c.api, `app=${app}`);
        return ps.length === 4 && ps.every((p) => p.spec.nodeName === 'keeper' && runningReady(p));
      }, `${app} replaced on keeper`, 120_000, 50);
      out.push(Date.now() - t0);
      victim.kill('SIGKILL');
      await c.api.request('delete', { kind: 'Deployment', namespace: 'default', name: app });
      await c.api.request('delete', { kind: 'Node', name }).catch(() => undefined);
      process.stderr.write(`  node death (${grace}/${eviction}) trial ${t + 1}/${trials}: ${out[out.length - 1]} ms\n`);
    }
  } finally {
    await c.api.close().catch(() => undefined);
    await stopAgentProc(keeper, join(c.dir, 'keeper'));
    await stopProc(c.master);
  }
  return out;
}

/** (b) First-restart latency: `count` pods each crash once; their own timestamps give exit → next start. */
async function firstRestart(count: number): Promise<number[]> {
  const dir = join(root, 'restart');
  const c = await bootMaster(dir, await freePort());
  const agent = agentOf(c, 'crashy');
  try {
    await waitFor(() => readyCount(c.api, ['crashy']).then((n) => n === 1), 'crashy Ready', 20_000);
    const stamps = join(dir, 'stamps');
    const manifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: crash}
spec:
  replicas: ${count}
  selector: {matchLabels: {app: crash}}
  template:
    metadata: {labels: {app: crash}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: main
        command: [sh, -c, 'f=${stamps}-$$HOSTNAME; echo start $$(date +%s%N) >> $$f; if [ $$(wc -l < $$f) -eq 1 ]; then sleep 0.5; echo end $$(date +%s%N) >> $$f; exit 1; fi; exec sleep 3600']
`;
    await c.api.request('apply', { manifest });
    const pods = await waitFor(async () => {
      const ps = await listPods(c.api, 'app=crash');
      return ps.length === count && ps.every((p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && runningReady(p)) && ps;
    }, 'every crash pod restarted once', 60_000);
    return pods.map((p) => {
      const lines = readFileSync(`${stamps}-${p.metadata.name}`, 'utf8').trim().split('\n').map((l) => l.split(' '));
      return (Number(lines[2][1]) - Number(lines[1][1])) / 1e6;
    });
  } finally {
    await c.api.request('delete', { kind: 'Deployment', namespace: 'default', name: 'crash' }).catch(() => undefined);
    await c.api.close().catch(() => undefined);
    await stopAgentProc(agent, join(c.dir, 'crashy'));
    await stopProc(c.master);
  }
}

/** (c) Reconnect storm: per trial, the master is SIGKILLed and restarted; time until every simulated agent is back. */
async function storm(count: number, trials: number): Promise<{ allBackMs: number[]; sinceListenMs: number[]; apiMs: number[]; apiFailures: number }> {
  const dir = join(root, 'storm');
  const port = await freePort();
  let c = await bootMaster(dir, port);
  const sims = await startSimAgents({ url: `mqtt://127.0.0.1:${port}`, joinToken: c.joinToken, count, dir: join(dir, 'sims') });
  const allBackMs: number[] = [];
  const sinceListenMs: number[] = [];
  const apiMs: number[] = [];
  let apiFailures = 0;
  try {
    await waitFor(async () => (await listNodes(c.api)).filter((n) => readyOf(n) === 'True').length === count, `${count} Ready nodes`, 60_000, 200);
    for (let t = 0; t < trials; t++) {
      await c.api.close().catch(() => undefined);
      const t0 = Date.now();
      await kill9(c.master);
      c = await bootMaster(dir, port);
      const listening = Date.now();
      // The master's API latency while the fleet comes back (a Node list: the heaviest read in the storm).
      let storming = true;
      const prober = (async () => {
        while (storming) {
          const s = performance.now();
          try {
            await c.api.request('list', { kind: 'Node' });
            apiMs.push(performance.now() - s);
          } catch {
            apiFailures++;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await waitFor(() => sims.every((a) => a.backAt > t0 && a.session.connected), `all ${count} agents back`, 120_000, 20);
      const last = Math.max(...sims.map((a) => a.backAt));
      allBackMs.push(last - t0);
      sinceListenMs.push(Math.max(0, last - listening));
      await waitFor(async () => (await listNodes(c.api)).filter((n) => readyOf(n) === 'True').length === count, `${count} Ready nodes`, 60_000, 200);
      storming = false;
      await prober;
      process.stderr.write(`  storm trial ${t + 1}/${trials}: all ${count} back ${allBackMs[t]} ms after the kill (${sinceListenMs[t]} ms after the API answered)\n`);
    }
  } finally {
    await Promise.all(sims.map((a) => a.stop().catch(() => undefined)));
    await c.api.close().catch(() => undefined);
    await stopProc(c.master);
  }
  return { allBackMs, sinceListenMs, apiMs, apiFailures };
}

function row(label: string, xs: number[]): string {
  const p99 = xs.length >= MIN_P99_SAMPLES ? pct(xs, 99).toFixed(0) : '—';
  return `${label.padEnd(58)} ${String(xs.length).padStart(5)} ${pct(xs, 50).toFixed(0).padStart(8)} ${p99.padStart(8)} ${Math.max(...xs).toFixed(0).padStart(8)}`;
}

if (!existsSync(join(process.cwd(), 'dist', 'master', 'main.js'))) throw new Error('run "npm run build" first (npm run bench:selfheal does)');
try {
  const all = ONLY !== 'storm';
  const short = all ? await nodeDeath('2s', '2s', TRIALS) : [];
  const restart = all ? await firstRestart(Math.max(10, TRIALS)) : [];
  const s = await storm(AGENTS, STORM_TRIALS);
  const defaults = all && DEFAULT_TRIALS > 0 ? await nodeDeath('10s', '30s', DEFAULT_TRIALS) : [];
  console.log(`\n${'measure (ms)'.padEnd(58)} ${'n'.padStart(5)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'max'.padStart(8)}`);
  if (short.length) console.log(row('node death → replacements Running (grace 2 s, toleration 2 s)', short));
  if (defaults.length) console.log(row('node death → replacements Running (defaults 10 s / 30 s)', defaults));
  if (restart.length) console.log(row('first restart of a crashed process (exit → next start)', restart));
  console.log(row(`${AGENTS} agents back after a master kill -9 (from the kill)`, s.allBackMs));
  console.log(row(`${AGENTS} agents back after a master kill -9 (from API up)`, s.sinceListenMs));
  console.log(row(`API list Node latency during the reconnect storm`, s.apiMs));
  console.log(`API failures during the storms: ${s.apiFailures}`);
  console.log(`(p99 only with ≥ ${MIN_P99_SAMPLES} samples; below that the max and n are the honest figures)`);
  const stat = (xs: number[]) => ({ n: xs.length, p50: Math.round(pct(xs, 50)), ...(xs.length >= MIN_P99_SAMPLES ? { p99: Math.round(pct(xs, 99)) } : {}), max: Math.round(Math.max(...xs)) });
  console.log(
    JSON.stringify({
      bench: 'selfheal',
      ...(short.length ? { nodeDeathShortMs: stat(short) } : {}),
      ...(defaults.length ? { nodeDeathDefaultsMs: stat(defaults) } : {}),
      ...(restart.length ? { firstRestartMs: { ...stat(restart), p50: Number(pct(restart, 50).toFixed(1)), max: Number(Math.max(...restart).toFixed(1)) } } : {}),
      storm: { agents: AGENTS, allBackFromKillMs: stat(s.allBackMs), allBackFromApiUpMs: stat(s.sinceListenMs), apiLatencyMs: stat(s.apiMs), apiFailures: s.apiFailures },
    }),
  );
} finally {
  rmSync(root, { recursive: true, force: true });
}
