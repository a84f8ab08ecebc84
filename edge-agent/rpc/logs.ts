/**
 * The `logs` RPC: a container's log as text (`tailLines`, `sinceMs`, `timestamps`, `previous`), or with
 * `follow` a stream of chunks that ends (`done: true`) when the container's attempt ends or a `cancel`
 * names the request. A pod that ran to the end and is no longer running here is read from its log
 * directory, which the agent keeps until the pod object is deleted (logs/retention.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../protocol/errors.js';
import type { RpcResponse } from '../../protocol/messages.js';
import type { PodManager } from '../pods/manager.js';
import { podLogDir } from '../pods/pod.js';
import { attemptFiles, attemptsIn, findPodLogDir } from '../logs/files.js';
import { formatLine, readAttempt } from '../logs/read.js';
import { readTimeline, timeAt } from '../logs/timeline.js';

/** The most a single answer carries (the end of a bigger log); 1 MiB. */
const MAX_BYTES = 1 << 20;
/** How often a follower looks for new bytes; 200 ms. */
const FOLLOW_POLL_MS = 200;
/** Largest chunk in one message; 64 KiB. */
const CHUNK_BYTES = 64 << 10;

/** What the logs RPC reads. */
export interface LogsContext {
  pods: PodManager;
  logsDir: string;
}

/** A live stream (a logs follower, an exec, a port-forward); `stop` ends it with `done: true`. */
export interface Follower {
  stop(): void;
  /** A piece from the other end of a two-way stream (port-forward, cp). */
  input?(piece: Record<string, unknown>): void;
}

type Send = (r: Omit<RpcResponse, 'id'>) => void;

/** Parameters of `logs`, checked. */
interface LogsParams {
  namespace: string;
  name: string;
  uid?: string;
  container?: string;
  previous: boolean;
  tailLines?: number;
  sinceMs?: number;
  timestamps: boolean;
  follow: boolean;
}

function checkParams(p: Record<string, unknown>): LogsParams {
  const bad = (field: string, rule: string) => new SkiffError('SKIFF_ERR_BAD_REQUEST', `params.${field}: ${rule}`, [{ field: `params.${field}`, rule }]);
  const optional = (v: unknown) => v === undefined || v === null;
  if (typeof p.name !== 'string' || !p.name) throw bad('name', 'required');
  for (const f of ['namespace', 'container', 'uid'] as const) if (!optional(p[f]) && typeof p[f] !== 'string') throw bad(f, 'must be a string');
  for (const f of ['tailLines', 'sinceMs', 'sinceSeconds'] as const) if (!optional(p[f]) && (!Number.isSafeInteger(p[f]) || (p[f] as number) < 0)) throw bad(f, 'must be an integer ≥ 0');
  return {
    namespace: (p.namespace as string) || 'default',
    name: p.name,
    uid: (p.uid as string | undefined) ?? undefined,
    container: (p.container as string | undefined) ?? undefined,
    previous: p.previous === true,
    tailLines: (p.tailLines as number | undefined) ?? undefined,
    // sinceSeconds is relative to this node's clock, as the kubelet takes it.
    sinceMs: !optional(p.sinceSeconds) ? Date.now() - (p.sinceSeconds as number) * 1000 : ((p.sinceMs as number | undefined) ?? undefined),
    timestamps: p.timestamps === true,
    follow: p.follow === true,
  };
}

/** The last `n` lines of `text` (a trailing newline does not count as a line). */
export function tail(text: string, n: number | undefined): string {
  if (n === undefined) return text;
  if (n === 0) return '';
  const lines = text.split('\n');
  const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
  return lines.slice(-n).join('\n') + (trailing !== undefined ? '\n' : '');
}

/** Where to read: the container's log directory, the attempt, and the end of the attempt when it runs. */
interface Source {
  dir: string;
  attempt: number;
  /** Resolves when the running attempt ends; undefined when it is not running. */
  ended?: Promise<unknown>;
}

/** Finds the log of a running pod's container, or of a finished pod's; throws what is missing. */
function sourceOf(ctx: LogsContext, p: LogsParams): Source {
  const ref = `${p.namespace}/${p.name}`;
  const runner = ctx.pods.find(p.namespace, p.name);
  if (runner && (p.uid === undefined || runner.uid === p.uid)) {
    const names = [...(runner.pod.spec.initContainers ?? []), ...runner.pod.spec.containers].map((c) => c.name);
    const cname = p.container ?? runner.pod.spec.containers[0].name;
    if (!names.includes(cname)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container "${cname}" is not valid for pod ${ref} (it has: ${names.join(', ')})`);
    const c = runner.container(cname);
    if (!c) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `container "${cname}" in pod ${ref} is waiting to start: ${runner.status().reason ?? 'ContainerCreating'}`);
    const attempt = p.previous ? c.restartCount - 1 : c.restartCount;
    if (attempt < 0) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `previous terminated container "${cname}" in pod ${ref} not found`);
    return { dir: path.join(podLogDir(ctx.logsDir, runner.pod), cname), attempt, ended: p.previous ? undefined : c.attemptEnded() };
  }
  const podDir = findPodLogDir(ctx.logsDir, p.namespace, p.name, p.uid);
  if (!podDir) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `pod "${p.name}" not found in namespace "${p.namespace}" on this node`);
  const containers = fs.readdirSync(podDir).sort();
  const cname = p.container ?? containers[0];
  if (!cname || !containers.includes(cname)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container "${cname}" has no logs in pod ${ref} (it has: ${containers.join(', ') || 'none'})`);
  const attempts = attemptsIn(path.join(podDir, cname));
  const attempt = attempts.at(p.previous ? -2 : -1);
  if (attempt === undefined) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `${p.previous ? 'previous terminated ' : ''}container "${cname}" in pod ${ref} has no logs`);
  return { dir: path.join(podDir, cname), attempt };
}

/**
 * Answers one logs request through `send`. Returns a Follower when it streams.
 * Unknown pod or container → SKIFF_ERR_NOT_FOUND.
 */
export function serveLogs(ctx: LogsContext, params: Record<string, unknown>, send: Send): Follower | undefined {
  const p = checkParams(params);
  const src = sourceOf(ctx, p);
  const first = readAttempt(src.dir, src.attempt, { tailLines: p.tailLines, sinceMs: p.sinceMs, timestamps: p.timestamps, maxBytes: MAX_BYTES });
  if (!p.follow || !src.ended) {
    send({ ok: true, result: first.text });
    return undefined;
  }
  return followAttempt(attemptFiles(src.dir, src.attempt), first.offset, first.text, src.ended, p.timestamps, send);
}

function sendChunks(text: string, send: Send): void {
  for (let i = 0; i < text.length; i += CHUNK_BYTES) send({ ok: true, chunk: text.slice(i, i + CHUNK_BYTES) });
}

/** Reads [from, end) of a file; at most MAX_BYTES. */
function readRange(file: string, from: number, to?: number): Buffer {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const end = Math.min(to ?? fs.fstatSync(fd).size, from + MAX_BYTES);
      if (end <= from) return Buffer.alloc(0);
      const buf = Buffer.alloc(end - from);
      return buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, from));
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return Buffer.alloc(0);
  }
}

/** Streams what is appended to the log; a rotation (the file shrank) is caught up from the rotated part. */
export function followAttempt(f: ReturnType<typeof attemptFiles>, offset: number, initial: string, ended: Promise<unknown>, timestamps: boolean, send: Send): Follower {
  if (initial) sendChunks(initial, send);
  let finished = false;
  let atLineStart = initial === '' || initial.endsWith('\n');
  // `b` is the file's bytes from `from`; `idx` the file's timeline.
  const emit = (b: Buffer, from: number, idx: string) => {
    if (b.length === 0) return;
    let text = b.toString('utf8');
    if (timestamps) {
      // Each line dated by the timeline where it has it, as `logs` without -f dates it (a container's copy dates its
      // lines by the engine, to the millisecond); else as it is read (a process pod's line the keeper has not sampled
      // yet: within one poll of when it was written).
      const samples = readTimeline(idx);
      const now = Date.now();
      const parts: string[] = [];
      let lineStart = atLineStart;
      for (let at = 0; at < b.length; ) {
        const nl = b.indexOf(10, at);
        const end = nl < 0 ? b.length : nl + 1;
        const part = b.toString('utf8', at, end);
        parts.push(lineStart ? formatLine('', timeAt(samples, from + end, now), true, false) + part : part);
        lineStart = nl >= 0;
        at = end;
      }
      text = parts.join('');
    }
    atLineStart = text.endsWith('\n');
    sendChunks(text, send);
  };
  const poll = () => {
    const size = fs.statSync(f.log, { throwIfNoEntry: false })?.size ?? 0;
    if (size < offset) {
      emit(readRange(f.rotated, offset), offset, f.rotatedIdx);
      offset = 0;
    }
    const b = readRange(f.log, offset);
    emit(b, offset, f.idx);
    offset += b.length;
  };
  const timer = setInterval(poll, FOLLOW_POLL_MS);
  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(timer);
    poll();
    send({ ok: true, done: true });
  };
  void ended.then(finish);
  return { stop: finish };
}
