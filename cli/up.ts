/**
 * `skiff up`: the README quickstart. Starts a master and one local agent as child processes (it never
 * imports master/ or edge-agent/: they are separate programs), applies examples/hello.yaml, waits for
 * its pods and prints what to try next; then keeps running, the children's output going to
 * DIR/master.log and DIR/agent.log, until Ctrl-C stops everything it started.
 *
 * Pipeline: master → API answers → agent → node Ready → apply → pods Running → wait for Ctrl-C → stop.
 *
 * Stopping (docs/lifecycle.md): an agent leaves its pods running when it stops, so `up` stops the agent,
 * then its pods (`skiff-agent stop --pods`, each pod with its grace period), then the master, and waits for
 * each. The children run in process groups of their own: a terminal's Ctrl-C reaches `up` alone, which
 * does this once, in this order (bin/skiff.js keeps further Ctrl-Cs from cutting it short).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, homedir, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { SkiffError, configChain, mergeContextInto, v8PoolFlag, type ApplyResult, type KObject, type Node, type Pod } from '../protocol/index.js';
import { intFlag, parseVerbArgs, str } from './args.js';
import { connectApi } from './client.js';
import { readConfig, type ClientConfig } from './config.js';
import { nodeStatus } from './format/columns.js';
import { resourceType } from './format/output.js';
import { podStatus } from './format/pod-status.js';
import { packageRoot } from './version.js';
import type { Api, CliIO } from './types.js';

const usage = `Usage:
  skiff up [--data-dir DIR] [--mqtts-port 8883] [--mqtt-port 1883] [--http-port 8080]

Starts a master and one local agent, applies examples/hello.yaml and waits for its pods.
Logs go to DIR/master.log and DIR/agent.log; Ctrl-C stops everything it started
(the agent, its pods, the master) and waits for them.

Flags:
  --data-dir DIR           where the master and the agent keep their state (default ~/.skiff/up)
  --mqtts-port PORT        the master's MQTT-over-TLS port, which the agent joins (default 8883)
  --mqtt-port PORT         the master's plain MQTT port, on loopback (default 1883)
  --http-port PORT         the master's HTTPS port (default 8080)
`;

/** Deadlines of the quickstart's waits, ms. */
const deadlines = { files: 30_000, api: 30_000, node: 60_000, pods: 120_000, stop: 10_000 };
const pollMs = 300;

/** Runs the quickstart; resolves with the exit code once Ctrl-C (io.signal) stopped it. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const children: { name: string; child: ChildProcess }[] = [];
  let api: Api | undefined;
  let agentDir: string | undefined;
  try {
    const { values, positionals } = parseVerbArgs('up', argv, { 'data-dir': { type: 'string' }, 'mqtts-port': { type: 'string' }, 'mqtt-port': { type: 'string' }, 'http-port': { type: 'string' } });
    if (values.help) {
      io.stdout(usage);
      return 0;
    }
    if (positionals.length) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff up: unexpected argument "${positionals[0]}"`);
    const dir = resolve(str(values, 'data-dir') ?? join(io.env.HOME || homedir(), '.skiff', 'up'));
    const mqttPort = intFlag(values, 'mqtt-port') ?? 1883;
    const mqttsPort = intFlag(values, 'mqtts-port') ?? 8883;
    const httpPort = intFlag(values, 'http-port') ?? 8080;
    const root = packageRoot();
    const say = (s: string) => io.stdout(s + '\n');
    mkdirSync(dir, { recursive: true });

    say('starting master…');
    const masterDir = join(dir, 'master');
    // The master writes config.json once it listens: a stale one from an earlier run must not count.
    rmSync(join(masterDir, 'config.json'), { force: true });
    // V8's helper threads fitted to the CPUs (protocol/v8-pool.ts): the pool is made before any JavaScript runs.
    const pool = v8PoolFlag(availableParallelism(), process.execArgv, process.env.NODE_OPTIONS);
    // A quickstart on one's own machine: its process pods run as you (docs/security.md, "Pod Security").
    const master = start(children, 'master', join(root, 'bin', 'skiff.js'), ['master', '--data-dir', masterDir, '--mqtts-port', String(mqttsPort), '--mqtt-port', String(mqttPort), '--http-port', String(httpPort), '--pod-security-default', 'privileged'], join(dir, 'master.log'), pool ? [pool] : []);
    const [, config] = await until(io, master, deadlines.files, 'the master to write its tokens', () => {
      const files = [join(masterDir, 'join.token'), join(masterDir, 'config.json')];
      return files.every(existsSync) ? [readFileSync(files[0], 'utf8').trim(), readConfig(files[1], true)] : undefined;
    });

    say('waiting for the API…');
    // Over TLS, as any client: the master's certificate checked against the CA in the config it wrote.
    const server = `mqtts://127.0.0.1:${mqttsPort}`;
    const ca = config['certificate-authority-data'] ? Buffer.from(config['certificate-authority-data'], 'base64').toString('utf8') : undefined;
    api = await until(io, master, deadlines.api, `the API at ${server}`, async () => {
      try {
        const a = await connectApi({ server, user: config.user ?? 'admin', token: config.token, ...(ca ? { ca } : {}), timeoutMs: 2000 });
        await a.request('list', { kind: 'Node' });
        return a;
      } catch (err) {
        if (err instanceof SkiffError && (err.code === 'SKIFF_ERR_UNAVAILABLE' || err.code === 'SKIFF_ERR_TIMEOUT')) return undefined;
        throw err;
      }
    });

    const node = nodeName();
    say(`starting agent (node ${node})…`);
    agentDir = join(dir, 'agent');
    const agent = start(children, 'agent', join(root, 'bin', 'skiff-agent.js'), ['join', '--master', server, '--token-file', join(masterDir, 'join.token'), '--name', node, '--data-dir', agentDir, '--address', '127.0.0.1'], join(dir, 'agent.log'));
    say(`waiting for node ${node} to be Ready…`);
    await until(io, [master, agent], deadlines.node, `node ${node} to be Ready`, async () => {
      const nodes = await api!.request<{ items?: Node[] }>('list', { kind: 'Node' });
      return (nodes?.items ?? []).some((n) => n.metadata.name === node && nodeStatus(n).startsWith('Ready')) || undefined;
    });

    say('applying examples/hello.yaml…');
    const manifest = readFileSync(join(root, 'examples', 'hello.yaml'), 'utf8');
    const applied = await api.request<ApplyResult[] | { results?: ApplyResult[] }>('apply', { manifest, namespace: 'default' });
    for (const r of Array.isArray(applied) ? applied : (applied?.results ?? [])) {
      if (r.error) throw new SkiffError(r.error.code, r.error.message);
      say(`  ${resourceType(r.kind)}/${r.name} ${r.action}`);
    }

    say('waiting for the hello pods to be Running…');
    const pods = await until(io, [master, agent], deadlines.pods, 'the hello pods to be Running', async () => {
      const list = await api!.request<{ items?: Pod[] }>('list', { kind: 'Pod', namespace: 'default', labelSelector: 'app=hello' });
      const items = list?.items ?? [];
      return items.length >= 2 && items.every((p) => podStatus(p) === 'Running') ? items : undefined;
    });
    await api.close();
    api = undefined;

    io.stdout(nextSteps({ dir, masterDir, mqttPort, mqttsPort, node, pods, root, token: config.token ?? '', wroteConfig: installConfig(io, config, server) }));
    const ended = await Promise.race([aborted(io.signal), ...children.map((c) => exited(c.child).then(() => c))]);
    if (ended !== 'aborted') {
      io.stderr(`error: the ${ended.name} exited; see ${join(dir, `${ended.name}.log`)}\n`);
      return 1;
    }
    say('stopping…');
    return 0;
  } catch (err) {
    if (!(err instanceof SkiffError)) throw err;
    io.stderr(`error: ${err.message}\n`);
    return 1;
  } finally {
    await api?.close().catch(() => {});
    await stopAll(children, agentDir);
  }
}

/**
 * Stops what `up` started, each step waited for: the agent (it leaves its pods running), then every pod it
 * recorded (`skiff-agent stop --pods`, which also covers pods of an agent that died), then the master.
 */
async function stopAll(children: { name: string; child: ChildProcess }[], agentDir: string | undefined): Promise<void> {
  const agent = children.find((c) => c.name === 'agent');
  if (agent) await stop(agent.child);
  if (agentDir) {
    const log = (agent?.child as (ChildProcess & { skiffLog?: string }) | undefined)?.skiffLog;
    const fd = log ? openSync(log, 'a') : 'ignore';
    // detached like the others, so a later Ctrl-C does not reach it. A Ctrl-C that lands between the fork and
    // the child's setsid still does (the signal is pending in the child and kills it before exec; seen under
    // load): a stopper ended by a signal is run again.
    for (let tries = 0; tries < 5; tries++) {
      const stopper = spawn(process.execPath, [join(packageRoot(), 'bin', 'skiff-agent.js'), 'stop', '--pods', '--data-dir', agentDir], { stdio: ['ignore', fd, fd], detached: true });
      stopper.on('error', () => {});
      await exited(stopper);
      if (stopper.signalCode === null) break;
    }
  }
  for (const c of children) if (c !== agent) await stop(c.child);
}

/** Spawns `node SCRIPT ARGS` with stdout and stderr appended to a log file. */
function start(children: { name: string; child: ChildProcess }[], name: string, script: string, args: string[], log: string, nodeFlags: string[] = []): ChildProcess {
  mkdirSync(dirname(log), { recursive: true });
  const fd = openSync(log, 'a');
  // detached: a process group of its own, so a terminal's Ctrl-C reaches `up` only, which stops it in order.
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ['ignore', fd, fd], detached: true });
  children.push({ name, child });
  child.on('error', () => {}); // reported through `exited`
  Object.assign(child, { skiffName: name, skiffLog: log });
  return child;
}

/** Polls `check` until it returns a value; fails when a child exits, on Ctrl-C, or at the deadline. */
async function until<T>(io: CliIO, watch: ChildProcess | ChildProcess[], timeoutMs: number, what: string, check: () => T | undefined | Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const c of [watch].flat()) {
      const { skiffName, skiffLog } = c as ChildProcess & { skiffName: string; skiffLog: string };
      if (c.exitCode !== null || c.signalCode !== null) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `the ${skiffName} exited (${c.exitCode ?? c.signalCode}) while waiting for ${what}; see ${skiffLog}:\n${tail(skiffLog)}`);
    }
    if (io.signal?.aborted) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', 'interrupted');
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new SkiffError('SKIFF_ERR_TIMEOUT', `gave up waiting for ${what} after ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

function tail(log: string, lines = 10): string {
  try {
    return readFileSync(log, 'utf8').split('\n').filter((l) => l.trim()).slice(-lines).map((l) => '  | ' + l).join('\n');
  } catch {
    return '  (no log)';
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

function aborted(signal: AbortSignal | undefined): Promise<'aborted'> {
  return new Promise((r) => (signal?.aborted ? r('aborted') : signal?.addEventListener('abort', () => r('aborted'), { once: true })));
}

/** SIGTERM, then SIGKILL after the grace period. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlines.stop);
  await exited(child);
  clearTimeout(timer);
}

/** The node name: this host's name as a DNS label, or `local`. */
export function nodeName(h = hostname()): string {
  const n = h.toLowerCase().split('.')[0].replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return n || 'local';
}

/** The context `skiff up` adds to the user's client config. */
export const upContext = 'skiff-up';

/**
 * Adds (or refreshes) the context `skiff-up` in the user's client config (SKIFF_CONFIG's files or
 * ~/.skiff/config.json) and makes it current, so plain `skiff` talks to this cluster; every other
 * context stays (protocol/client-config-file.ts). Returns the file written.
 */
function installConfig(io: CliIO, config: ClientConfig, server: string): string | undefined {
  const caData = config['certificate-authority-data'];
  return mergeContextInto(configChain(undefined, io.env), { name: upContext, server, username: config.user ?? 'admin', token: config.token ?? '', ...(caData ? { caData } : {}) });
}

function nextSteps(o: { dir: string; masterDir: string; mqttPort: number; mqttsPort: number; node: string; pods: KObject[]; root: string; token: string; wroteConfig?: string }): string {
  const cfg = o.wroteConfig
    ? `Its context "${upContext}" is now the current one in ${o.wroteConfig} (skiff config get-contexts).`
    : `To use this cluster: export SKIFF_CONFIG=${join(o.masterDir, 'config.json')}`;
  const pod = o.pods[0]?.metadata.name ?? 'POD';
  return `
Skiff is up: a master on mqtts://127.0.0.1:${o.mqttsPort} (plain MQTT on 127.0.0.1:${o.mqttPort}) and node ${o.node}, running examples/hello.yaml.
${cfg}

Try:
  skiff get pods -o wide
  skiff describe service hello
  skiff logs ${pod}
  skiff scale deployment/hello --replicas 3
  mosquitto_pub -h 127.0.0.1 -p ${o.mqttPort} -u admin -P ${o.token} -t skiff/v1/apply -f ${join(o.root, 'examples', 'hello.yaml')}

Logs: ${join(o.dir, 'master.log')}, ${join(o.dir, 'agent.log')}. Ctrl-C stops the master, the agent and its pods.
`;
}
