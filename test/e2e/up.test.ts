/**
 * `skiff up` and Ctrl-C (docs/lifecycle.md): the quickstart runs in a network namespace of its own (it takes
 * the default ports and announces itself by mDNS), and Ctrl-C is sent as a terminal sends it — SIGINT to the
 * whole foreground process group. Afterwards nothing it started may be left: no master, no agent, no pod
 * process (checked by pid), no pod port answering (checked inside the namespace). A second and third Ctrl-C
 * while pods are still in their grace period must not cut the stop short.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { alive, waitFor } from '../../bench/cluster-selfheal.js';
import { v8PoolFlag } from '../../protocol/index.js';
import { makeLonelyHost, requireNetns } from '../helpers/netns.js';
import { requireBuild, skiffBin } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

/** A pod that takes its time to stop: it ignores SIGTERM for a second and a half after it. */
const slow = `apiVersion: apps/v1
kind: Deployment
metadata: {name: slow}
spec:
  replicas: 1
  selector: {matchLabels: {app: slow}}
  template:
    metadata: {labels: {app: slow}}
    spec:
      runtimeClassName: process
      terminationGracePeriodSeconds: 10
      containers:
      - name: slow
        command: [node, -e, "require('net').createServer(s=>s.on('error',()=>{})).listen(Number(process.env.PORT)); process.on('SIGTERM', () => setTimeout(() => process.exit(0), 1500))"]
        ports: [{name: tcp, containerPort: 0}]
`;

/** Every pid whose command line mentions `needle`. */
function pidsMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid)
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle) && alive(Number(d));
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** The children of a process. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

describe('e2e: skiff up, then Ctrl-C', () => {
  let host: ReturnType<typeof makeLonelyHost>;
  let up: ChildProcess | undefined;
  let dir: string;
  beforeAll(() => {
    requireBuild();
    requireNetns();
    host = makeLonelyHost();
  });
  afterEach(async () => {
    if (up && up.exitCode === null && up.signalCode === null) process.kill(-up.pid!, 'SIGKILL');
    for (const pid of dir ? pidsMentioning(dir) : []) process.kill(pid, 'SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterAll(() => host?.destroy());

  const inside = (args: string[]) => execFileSync(host.exec[0], [...host.exec.slice(1), ...args], { encoding: 'utf8', timeout: 30_000 });
  /** Whether something answers on a TCP port inside the namespace. */
  const listening = (port: number) =>
    inside([process.execPath, '-e', `require('net').connect(${port},'127.0.0.1').on('connect',()=>{console.log('open');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(0)})`]).trim();

  /** Starts `skiff up` in its own process group (a terminal's foreground job); resolves once it is up. */
  async function startUp(): Promise<{ out: () => string; err: () => string; exit: Promise<number | null> }> {
    dir = await tempDir('skiff-up-');
    let out = '';
    let err = '';
    up = spawn(host.exec[0], [...host.exec.slice(1), process.execPath, skiffBin, 'up', '--data-dir', join(dir, 'up')], { detached: true, env: { ...process.env, HOME: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout!.on('data', (d) => (out += d));
    up.stderr!.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((r) => up!.once('exit', (code) => r(code)));
    await waitFor(() => out.includes('Skiff is up') || up!.exitCode !== null, 'skiff up to be up', 90_000, 100);
    expect(out).toContain('Skiff is up');
    return { out: () => out, err: () => err, exit };
  }

  /** The pods' processes (each recorded process and its children) and ports, from the agent's own records. */
  function podsOnDisk(): { pids: number[]; ports: number[] } {
    const podsDir = join(dir, 'up', 'agent', 'pods');
    const pids: number[] = [];
    const ports: number[] = [];
    for (const uid of existsSync(podsDir) ? readdirSync(podsDir) : []) {
      for (const f of readdirSync(join(podsDir, uid))) {
        if (f.endsWith('.pid')) {
          const recorded = (JSON.parse(readFileSync(join(podsDir, uid, f), 'utf8')) as { pid: number }).pid;
          pids.push(recorded, ...childrenOf(recorded));
        }
        if (f === 'state.json') ports.push(...(JSON.parse(readFileSync(join(podsDir, uid, f), 'utf8')) as { ports: { port: number }[] }).ports.map((p) => p.port));
      }
    }
    return { pids, ports };
  }

  /** Nothing `up` started is left: by pid, by command line, by port. */
  function expectNothingLeft(before: { pids: number[]; ports: number[] }): void {
    // On a failure, the logs of what up started (the stopper's lines are in agent.log) say which step failed.
    const logs = () => ['master.log', 'agent.log'].map((f) => `--- ${f}\n${existsSync(join(dir, 'up', f)) ? readFileSync(join(dir, 'up', f), 'utf8').slice(-4000) : ''}`).join('\n');
    expect(before.pids.filter(alive), logs()).toEqual([]);
    expect(pidsMentioning(dir), logs()).toEqual([]);
    for (const port of before.ports) expect(listening(port)).toBe('ECONNREFUSED');
  }

  /** Adds a pod that takes 1.5 s to stop (through the CLI, inside the namespace); returns every pod's pids and ports. */
  async function withSlowPod(): Promise<{ pids: number[]; ports: number[] }> {
    const cfg = join(dir, 'up', 'master', 'config.json');
    writeFileSync(join(dir, 'slow.yaml'), slow);
    inside([process.execPath, skiffBin, '--config', cfg, 'apply', '-f', join(dir, 'slow.yaml')]);
    await waitFor(() => inside([process.execPath, skiffBin, '--config', cfg, 'get', 'pods', '-l', 'app=slow']).includes('Running'), 'the slow pod Running', 30_000, 200);
    const before = await waitFor(() => {
      const p = podsOnDisk();
      return p.ports.length === 3 && p.pids.length >= 3 && p;
    }, 'three pods on disk', 10_000, 100);
    expect(before.pids.every(alive)).toBe(true);
    await waitFor(() => before.ports.every((port) => listening(port) === 'open'), 'every pod port open', 10_000, 100);
    return before;
  }

  it('one Ctrl-C stops the master, the agent and every pod, waits for them, and exits 0', async () => {
    const run = await startUp();
    const before = await withSlowPod();
    // The master was started with V8's helper threads fitted to this machine's CPUs (protocol/v8-pool.ts).
    const [masterPid] = pidsMentioning(join(dir, 'up', 'master')).filter((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('master'));
    const argv = readFileSync(`/proc/${masterPid}/cmdline`, 'utf8').split('\0');
    const pool = v8PoolFlag(availableParallelism());
    expect(argv.filter((a) => a.startsWith('--v8-pool-size'))).toEqual(pool ? [pool] : []);
    // A terminal's Ctrl-C: SIGINT to the whole foreground process group.
    process.kill(-up!.pid!, 'SIGINT');
    expect(await run.exit).toBe(0);
    expect(run.out()).toContain('stopping…');
    expectNothingLeft(before);
  }, 120_000);

  it('more Ctrl-Cs while a pod is in its grace period do not cut the stop short', async () => {
    const run = await startUp();
    const before = await withSlowPod();
    process.kill(-up!.pid!, 'SIGINT');
    await waitFor(() => run.out().includes('stopping…'), 'skiff up stopping', 10_000, 20);
    process.kill(-up!.pid!, 'SIGINT');
    process.kill(-up!.pid!, 'SIGINT');
    expect(await run.exit).toBe(0);
    expect(run.err()).toContain('still stopping');
    expectNothingLeft(before);
  }, 120_000);
});
