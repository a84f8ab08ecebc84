/**
 * The `exec` RPC: runs a command beside a running container the way the container's own process runs — the
 * same resolved env (service and downward-API vars, HOSTNAME, PORT), the same workingDir, in its own process
 * group — and streams its output as `{chunk, stream: 'stdout' | 'stderr'}`, ending with
 * `{done: true, result: {exitCode}}`. Non-interactive, like `kubectl exec` without `-i`/`-t`: stdin is
 * /dev/null and there is no TTY. A deadline (`timeoutSeconds`, default 5 min) or a `cancel` kills the group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import { Checker } from '../../protocol/check.js';
import { SkiffError, toWireError } from '../../protocol/errors.js';
import type { RpcResponse } from '../../protocol/messages.js';
import { runtimeClassOf } from '../drivers/registry.js';
import type { PodManager } from '../pods/manager.js';
import type { PodRunner } from '../pods/pod.js';
import type { ContainerRunner } from '../pods/container.js';
import { serveDriverExec } from './exec-driver.js';
import type { Follower } from './logs.js';
import { killGroup } from '../procfs.js';

/** The deadline of a command without `timeoutSeconds`: 5 min. */
export const DEFAULT_EXEC_TIMEOUT_S = 300;
/** Output is held this long so a burst of small writes travels as one message; 20 ms. */
const FLUSH_MS = 20;
/** A message carries at most this much text; 64 KiB. */
const CHUNK_CHARS = 64 << 10;
/** After the command exits, how long its pipes may stay open (a child that left the group holds them); 1 s. */
const DRAIN_MS = 1000;

type Send = (r: Omit<RpcResponse, 'id'>) => void;
type Stream = 'stdout' | 'stderr';

/** Parameters of `exec`, checked. */
export interface ExecParams {
  namespace: string;
  name: string;
  container?: string;
  command: string[];
  /** The deadline; 0: none (an interactive session without timeoutSeconds). */
  timeoutSeconds: number;
  /** Interactive (`exec -i`): the client's input is written to the command's stdin (exec-driver.ts). */
  stdin: boolean;
  /** `exec -t`: the command gets a terminal of `rows` × `cols`. */
  tty: boolean;
  rows?: number;
  cols?: number;
}

export function checkParams(p: Record<string, unknown>): ExecParams {
  const c = new Checker('exec');
  c.string(p.name, 'params.name', true);
  c.string(p.namespace, 'params.namespace');
  c.string(p.container, 'params.container');
  if (c.stringList(p.command, 'params.command') && (p.command as string[]).length === 0) c.fail('params.command', 'must name a command');
  if (p.command === undefined || p.command === null) c.fail('params.command', 'is required');
  c.int(p.timeoutSeconds, 'params.timeoutSeconds', 1);
  c.bool(p.stdin, 'params.stdin');
  c.bool(p.tty, 'params.tty');
  c.int(p.rows, 'params.rows', 1, 10_000);
  c.int(p.cols, 'params.cols', 1, 10_000);
  if (c.errors.length) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', c.errors.map((e) => `${e.field}: ${e.rule}`).join('; '), c.errors);
  const interactive = p.stdin === true || p.tty === true;
  return {
    namespace: (p.namespace as string) || 'default',
    name: p.name as string,
    container: (p.container as string | undefined) || undefined,
    command: p.command as string[],
    // A person at a terminal is not cut off after 5 minutes: an interactive session has a deadline only when asked.
    timeoutSeconds: (p.timeoutSeconds as number | undefined) ?? (interactive ? 0 : DEFAULT_EXEC_TIMEOUT_S),
    stdin: p.stdin === true,
    tty: p.tty === true,
    ...(typeof p.rows === 'number' ? { rows: p.rows } : {}),
    ...(typeof p.cols === 'number' ? { cols: p.cols } : {}),
  };
}

/** What `exec` runs: argv with the container's env and workingDir. */
interface ExecLaunch {
  argv: string[];
  env: Record<string, string>;
  workingDir?: string;
  /** The container's user (runAsUser): exec runs as it, never as the agent when the container does not. */
  user?: { uid: number; gid: number };
  /** `namespace/name`, container name: for messages. */
  podRef: string;
  container: string;
}

/** The pod's runner and the running container named in `p`; throws what is wrong. */
export function findContainer(pods: PodManager, p: Pick<ExecParams, 'namespace' | 'name' | 'container'>): { runner: PodRunner; c: ContainerRunner; cname: string; podRef: string } {
  const runner = pods.find(p.namespace, p.name);
  if (!runner) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `pod "${p.name}" not found in namespace "${p.namespace}" on this node`);
  const podRef = `${p.namespace}/${p.name}`;
  const names = runner.pod.spec.containers.map((c) => c.name);
  const cname = p.container ?? names[0];
  const idx = names.indexOf(cname);
  if (idx < 0) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container "${cname}" is not valid for pod ${podRef} (it has: ${names.join(', ')})`);
  const c = runner.containers[idx];
  // Kubernetes answers exec into a container that is not running with "container not found" / not running.
  if (!c || !c.state.running) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `container "${cname}" is not running (pod ${podRef})`);
  return { runner, c, cname, podRef };
}

/** Finds the running container and its launch (env and workingDir as its process got them); throws what is wrong. */
function resolveLaunch(pods: PodManager, p: ExecParams): ExecLaunch {
  const { runner, c, cname, podRef } = findContainer(pods, p);
  // A driver with an exec of its own (containers: the engine's) is served by exec-driver.ts; here: host processes.
  const rc = runtimeClassOf(runner.pod);
  if (rc !== 'process') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `exec is not supported for runtime "${rc}" (pod ${podRef})`);
  const launch = c.currentLaunch();
  if (launch.workingDir && !isDir(launch.workingDir)) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `workingDir "${launch.workingDir}" of container "${cname}" is not a directory`);
  return { argv: p.command, env: launch.env, workingDir: launch.workingDir, user: launch.user, podRef, container: cname };
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Kubernetes reports a signal death as 128 + the signal number. */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  const n = signal ? (osConstants.signals as Record<string, number>)[signal] : undefined;
  return n !== undefined ? 128 + n : 1;
}

/**
 * Coalesces output into messages in the order it came: consecutive writes to the same stream merge, a
 * switch of stream starts a new message, and everything held goes out within FLUSH_MS.
 */
export class OutputBatcher {
  private segments: { stream: Stream; text: string }[] = [];
  private size = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly send: Send) {}

  add(stream: Stream, text: string): void {
    if (!text) return;
    const last = this.segments[this.segments.length - 1];
    if (last?.stream === stream) last.text += text;
    else this.segments.push({ stream, text });
    this.size += text.length;
    if (this.size >= CHUNK_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const s of this.segments) for (let i = 0; i < s.text.length; i += CHUNK_CHARS) this.send({ ok: true, chunk: s.text.slice(i, i + CHUNK_CHARS), stream: s.stream });
    this.segments = [];
    this.size = 0;
  }
}

/** Reads a pipe as UTF-8 text (a character split across reads is kept whole) into the batcher. */
function pipe(child: ChildProcess, stream: Stream, out: OutputBatcher): void {
  const decoder = new StringDecoder('utf8');
  const src = child[stream]!;
  src.on('data', (b: Buffer) => out.add(stream, decoder.write(b)));
  src.on('end', () => out.add(stream, decoder.end()));
  src.on('error', () => undefined); // destroyed after DRAIN_MS: what was read has been sent
}

/**
 * Starts one exec and answers through `send`; returns the Follower a `cancel` stops. Bad params, an unknown
 * pod or container, or a container that is not running throw (answered as one error by the RPC server).
 */
export function serveExec(pods: PodManager, params: Record<string, unknown>, send: Send): Follower {
  const p = checkParams(params);
  const driver = pods.find(p.namespace, p.name)?.driver;
  if (driver?.exec) return serveDriverExec(pods, p, send);
  if (p.stdin || p.tty) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `interactive exec (-i/-t) is not supported for pod ${p.namespace}/${p.name} by this agent: only container pods have it here`);
  const l = resolveLaunch(pods, p);
  const child = spawn(l.argv[0], l.argv.slice(1), { cwd: l.workingDir, env: l.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...(l.user ?? {}) });
  const out = new OutputBatcher(send);
  let ended: 'timeout' | 'cancel' | undefined;
  let finished = false;
  const finish = (r: Omit<RpcResponse, 'id'>) => {
    if (finished) return;
    finished = true;
    clearTimeout(deadline);
    out.flush();
    send({ ...r, done: true });
  };
  const deadline = setTimeout(() => {
    ended = 'timeout';
    killGroup(child.pid, 'SIGKILL');
  }, p.timeoutSeconds * 1000);
  child.once('error', (err: NodeJS.ErrnoException) => {
    if (child.pid !== undefined) return; // a running child's errors (a pipe) end in 'exit' anyway
    const why = err.code === 'ENOENT' ? 'executable file not found in $PATH' : err.code === 'EACCES' ? 'permission denied' : err.message;
    finish({ ok: false, error: toWireError(new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot run ${JSON.stringify(l.argv[0])} in container "${l.container}" of pod ${l.podRef}: ${why}`)) });
  });
  if (child.pid === undefined) return { stop: () => undefined };
  pipe(child, 'stdout', out);
  pipe(child, 'stderr', out);
  child.once('exit', (code, signal) => {
    // Like a container's main process: when the command ends, whatever it left running in its group ends too.
    killGroup(child.pid, 'SIGKILL');
    const exitCode = exitCodeOf(code, signal);
    const drain = setTimeout(() => (child.stdout?.destroy(), child.stderr?.destroy(), done()), DRAIN_MS);
    const done = () => {
      clearTimeout(drain);
      if (ended === 'timeout') finish({ ok: false, error: toWireError(new SkiffError('SKIFF_ERR_TIMEOUT', `command ${JSON.stringify(l.argv.join(' '))} in container "${l.container}" of pod ${l.podRef} did not finish within ${p.timeoutSeconds}s; killed`)) });
      else finish({ ok: true, result: { exitCode, ...(signal ? { signal } : {}) } });
    };
    child.once('close', done);
  });
  return {
    stop: () => {
      ended ??= 'cancel';
      killGroup(child.pid, 'SIGKILL');
    },
  };
}
