/**
 * The `exec` RPC: runs a command in a running container through its driver (a process container: beside its
 * process with the same resolved env, workingDir and cgroup, in its own process group). Without `stdin` and
 * `tty` (`kubectl exec` without -i/-t) its output streams as `{chunk, stream: 'stdout' | 'stderr'}` text,
 * ending with `{done: true, result: {exitCode}}`; a deadline (`timeoutSeconds`, default 5 min) or a `cancel`
 * kills it. With `stdin` or `tty` it is a two-way stream of bytes (exec-interactive.ts).
 */
import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { Checker } from '../../protocol/check.js';
import { SkiffError, toWireError } from '../../protocol/errors.js';
import type { RpcResponse } from '../../protocol/messages.js';
import { runtimeClassOf, type DriverSet } from '../drivers/registry.js';
import type { Driver, ExecSession, ExecTarget } from '../drivers/types.js';
import type { PodManager } from '../pods/manager.js';
import { serveInteractiveExec } from './exec-interactive.js';
import type { Follower } from './logs.js';

/** The deadline of a non-interactive command without `timeoutSeconds`: 5 min. */
export const DEFAULT_EXEC_TIMEOUT_S = 300;
/** Output is held this long so a burst of small writes travels as one message; 20 ms. */
const FLUSH_MS = 20;
/** A message carries at most this much text; 64 KiB. */
const CHUNK_CHARS = 64 << 10;

/** How the RPC server answers. */
export type Send = (r: Omit<RpcResponse, 'id'>) => void;
type Stream = 'stdout' | 'stderr';

/** Parameters of `exec`, checked. */
export interface ExecParams {
  namespace: string;
  name: string;
  container?: string;
  command: string[];
  /** Undefined for an interactive exec without a deadline (kubectl exec -it has none). */
  timeoutSeconds?: number;
  stdin: boolean;
  tty: boolean;
  rows?: number;
  cols?: number;
}

function checkParams(p: Record<string, unknown>): ExecParams {
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
    timeoutSeconds: (p.timeoutSeconds as number | undefined) ?? (interactive ? undefined : DEFAULT_EXEC_TIMEOUT_S),
    stdin: p.stdin === true,
    tty: p.tty === true,
    ...(typeof p.rows === 'number' ? { rows: p.rows } : {}),
    ...(typeof p.cols === 'number' ? { cols: p.cols } : {}),
  };
}

/** Where the exec runs, found from the params; `podRef` and `container` for messages. */
export interface Resolved {
  target: ExecTarget;
  driver: Driver & Required<Pick<Driver, 'exec'>>;
  podRef: string;
  container: string;
}

/** Finds the running container, its driver and its launch; throws what is wrong. */
export function resolveTarget(pods: PodManager, drivers: DriverSet, p: { namespace: string; name: string; container?: string }): Resolved {
  const runner = pods.find(p.namespace, p.name);
  if (!runner) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `pod "${p.name}" not found in namespace "${p.namespace}" on this node`);
  const podRef = `${p.namespace}/${p.name}`;
  const names = [...(runner.pod.spec.initContainers ?? []), ...runner.pod.spec.containers].map((c) => c.name);
  const cname = p.container ?? runner.pod.spec.containers[0].name;
  if (!names.includes(cname)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container "${cname}" is not valid for pod ${podRef} (it has: ${names.join(', ')})`);
  const rc = runtimeClassOf(runner.pod);
  const driver = drivers.get(rc);
  if (driver && !driver.exec) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `exec is not supported for runtime "${rc}" (pod ${podRef}): ${rc === 'wasi' ? 'a WASI module has no shell or processes to run a command in' : 'its driver runs no commands'}`);
  const target = runner.container(cname)?.execTarget();
  // Kubernetes answers exec into a container that is not running with "container not found" / not running.
  if (!driver?.exec || !target) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `container "${cname}" is not running (pod ${podRef})`);
  const wd = target.launch.workingDir;
  if (wd && !isDir(wd)) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `workingDir "${wd}" of container "${cname}" is not a directory`);
  return { target, driver: driver as Resolved['driver'], podRef, container: cname };
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Coalesces output into messages in the order it came: consecutive writes to the same stream merge, a
 * switch of stream starts a new message, and everything held goes out within FLUSH_MS.
 */
class OutputBatcher {
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

/**
 * Starts one exec and answers through `send`; returns the Follower a `cancel` stops (and, interactive, that
 * takes the client's pieces). Bad params, an unknown pod or container, a container that is not running, or a
 * driver that cannot exec throw (answered as one error by the RPC server).
 */
export function serveExec(pods: PodManager, drivers: DriverSet, params: Record<string, unknown>, send: Send): Follower {
  const p = checkParams(params);
  const r = resolveTarget(pods, drivers, p);
  if (p.stdin || p.tty) return serveInteractiveExec(r, p, send);
  const out = new OutputBatcher(send);
  const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
  let session: ExecSession | undefined;
  let ended: 'timeout' | 'cancel' | undefined;
  const deadline = setTimeout(() => {
    ended = 'timeout';
    session?.kill();
  }, (p.timeoutSeconds ?? DEFAULT_EXEC_TIMEOUT_S) * 1000);
  const finish = (m: Omit<RpcResponse, 'id'>) => {
    clearTimeout(deadline);
    out.add('stdout', decoders.stdout.end());
    out.add('stderr', decoders.stderr.end());
    out.flush();
    send({ ...m, done: true });
  };
  r.driver.exec(r.target, { command: p.command, tty: false, stdin: false, onOutput: (stream, data) => out.add(stream, decoders[stream].write(data)) }).then(
    async (s) => {
      session = s;
      if (ended) s.kill();
      const result = await s.exited;
      if (ended === 'timeout') finish({ ok: false, error: toWireError(new SkiffError('SKIFF_ERR_TIMEOUT', `command ${JSON.stringify(p.command.join(' '))} in container "${r.container}" of pod ${r.podRef} did not finish within ${p.timeoutSeconds}s; killed`)) });
      else finish({ ok: true, result });
    },
    (err: Error) => finish({ ok: false, error: toWireError(err instanceof SkiffError ? err : new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot run ${JSON.stringify(p.command[0])} in container "${r.container}" of pod ${r.podRef}: ${err.message}`)) }),
  );
  return {
    stop: () => {
      ended ??= 'cancel';
      session?.kill();
    },
  };
}
