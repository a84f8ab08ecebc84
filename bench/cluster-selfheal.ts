/**
 * A real Skiff cluster of processes for the self-healing e2e tests and bench: `skiff master` and
 * `skiff-agent join` started from bin/, an API client over MQTT, and "board death" (the agent and every
 * pod process it started, SIGKILLed at once, as a power cut would end them).
 *
 * Why board death kills the pods too: process pods run in their own process groups and outlive a killed
 * agent on purpose (a crashed agent must not take the workload with it), so killing only the agent is an
 * agent crash, not a dead board. The pids come from the agent's own pid files, DATA/pods/<uid>/<c>.pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectApi } from '../cli/client.js';
import type { Api } from '../cli/types.js';
import type { Node, Pod } from '../protocol/index.js';

/** The repository root, found from this file whether it runs as TS (bench/) or compiled (dist/bench/). */
export const repoRoot = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'bin', 'skiff.js')) && dirname(d) !== d) d = dirname(d);
  return d;
})();
const skiffBin = join(repoRoot, 'bin', 'skiff.js');
const agentBin = join(repoRoot, 'bin', 'skiff-agent.js');

/** `prefix` runs a command inside a network namespace: ['ip', 'netns', 'exec', NS]. */
export type Prefix = string[];

/** Spawns node with `args` (optionally inside a namespace), output appended to `logFile`. */
export function spawnNode(args: string[], logFile: string, prefix: Prefix = []): ChildProcess {
  const out = createWriteStream(logFile, { flags: 'a' });
  const [cmd, ...rest] = prefix.length ? [...prefix, process.execPath, ...args] : [process.execPath, ...args];
  const child = spawn(cmd, rest, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return child;
}

/** Options of a master process. */
export interface MasterProcOptions {
  dataDir: string;
  mqttPort: number;
  /** MQTT over TLS; default 0 (a free port: these runs use the plain loopback port unless they say so). */
  mqttsPort?: number;
  bind?: string;
  grace?: string;
  eviction?: string;
  engine?: 'wasm' | 'reference';
  prefix?: Prefix;
  /** `--join-rate`: the storm bench joins hundreds of simulated boards from one address. */
  joinRate?: number;
  /** More flags. */
  extra?: string[];
}

/** Starts `skiff master`; resolves once its config.json exists (written after the listeners are up on first start). */
export function startMasterProc(o: MasterProcOptions, logFile: string): ChildProcess {
  const args = [skiffBin, 'master', '--data-dir', o.dataDir, '--mqtt-port', String(o.mqttPort), '--mqtts-port', String(o.mqttsPort ?? 0), '--http-port=-1', '--bind', o.bind ?? '127.0.0.1', '--engine', o.engine ?? 'wasm', '--pod-security-default', 'privileged'];
  if (o.grace) args.push('--node-monitor-grace', o.grace);
  if (o.eviction) args.push('--pod-eviction-timeout', o.eviction);
  if (o.joinRate) args.push('--join-rate', String(o.joinRate));
  if (o.extra) args.push(...o.extra);
  return spawnNode(args, logFile, o.prefix);
}

/** Starts `skiff-agent join`. */
export function startAgentProc(o: { master: string; token: string; name: string; dataDir: string; address: string; lease?: string; prefix?: Prefix }, logFile: string): ChildProcess {
  const args = [agentBin, 'join', '--master', o.master, '--token', o.token, '--name', o.name, '--data-dir', o.dataDir, '--address', o.address, '--lease-interval', o.lease ?? '500ms'];
  return spawnNode(args, logFile, o.prefix);
}

/** SIGKILLs a process and waits for it to be reaped. */
export async function kill9(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGKILL');
  await exited;
}

/** SIGTERM, SIGKILL after `graceMs`. */
export async function stopProc(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/**
 * Stops an agent process and every pod it runs, as `skiff-agent stop --pods` does (SIGTERM alone leaves the
 * pods running for the next agent to adopt), and waits for all of it.
 */
export async function stopAgentProc(child: ChildProcess | undefined, dataDir: string): Promise<void> {
  const stopper = spawn(process.execPath, [agentBin, 'stop', '--pods', '--data-dir', dataDir], { stdio: 'ignore' });
  await new Promise<void>((r) => stopper.once('exit', () => r()));
  await stopProc(child); // already gone unless it never got to write its pid file
}

/** The pod processes an agent recorded: pod uid → process group leaders (the wrappers' pids, from DATA/pods/<uid>/<container>.pid). */
export function recordedPids(agentDataDir: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const pods = join(agentDataDir, 'pods');
  for (const uid of existsSync(pods) ? readdirSync(pods) : []) {
    for (const f of readdirSync(join(pods, uid)).filter((x) => x.endsWith('.pid'))) {
      try {
        const { pid } = JSON.parse(readFileSync(join(pods, uid, f), 'utf8')) as { pid: number };
        out.set(uid, [...(out.get(uid) ?? []), pid]);
      } catch {
        // being rewritten; the caller polls
      }
    }
  }
  return out;
}

/** A board dies: the agent and each recorded pod process group get SIGKILL at the same moment. */
export async function killBoard(agent: ChildProcess, agentDataDir: string): Promise<void> {
  const groups = [...recordedPids(agentDataDir).values()].flat();
  const dead = kill9(agent);
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await dead;
}

/** Is the process alive? A zombie (killed, not yet reaped by its new parent) counts as dead. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Processes whose command line contains `marker` (how a test counts copies of a pod it labelled). The
 * process driver's wrapper shell (`sh -c ... skiff-pod EXITFILE CMD...`) carries the pod's command line too:
 * it is not a copy of the pod, so it is left out.
 */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8');
      if (cmd.includes(marker) && alive(Number(d)) && !cmd.includes('skiff-agent') && !cmd.includes('vitest') && !cmd.includes('\0skiff-pod\0')) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Reads a master's admin credentials from its data dir (written on first start). */
export async function adminOf(masterDataDir: string): Promise<{ token: string; joinToken: string; config: { server: string; user: string; token: string } }> {
  const config = JSON.parse(await readFile(join(masterDataDir, 'config.json'), 'utf8'));
  const joinToken = (await readFile(join(masterDataDir, 'join.token'), 'utf8')).trim();
  return { token: config.token, joinToken, config };
}

/** An API client to a master at `server` as admin. */
export function apiTo(server: string, token: string, timeoutMs = 5000): Promise<Api> {
  return connectApi({ server, user: 'admin', token, timeoutMs });
}

/** The list helpers a test needs. */
export async function listPods(api: Api, selector?: string): Promise<Pod[]> {
  return (await api.request<{ items: Pod[] }>('list', { kind: 'Pod', namespace: 'default', ...(selector ? { labelSelector: selector } : {}) })).items;
}

/** Every node. */
export async function listNodes(api: Api): Promise<Node[]> {
  return (await api.request<{ items: Node[] }>('list', { kind: 'Node' })).items;
}

/** The Ready condition's status of a node (protocol's one definition, under the name the benches and e2e tests use). */
export { readyStatus as readyOf } from '../protocol/index.js';

/** Running with every container ready. */
export function runningReady(p: Pod): boolean {
  return p.status?.phase === 'Running' && (p.status.containerStatuses?.length ?? 0) > 0 && p.status.containerStatuses!.every((c) => c.ready) && !p.metadata.deletionTimestamp;
}

/** Polls `fn` until truthy or the deadline (throws naming `what`). */
export async function waitFor<T>(fn: () => T | Promise<T>, what: string, timeoutMs: number, intervalMs = 50): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Exclude<T, false | null | undefined | 0 | ''>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A Deployment of `replicas` idle node processes whose command line carries `marker`. */
export function idleDeployment(name: string, replicas: number, marker: string): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        command: [node, -e, "setInterval(() => {}, 1000)", "${marker}"]
`;
}
