/**
 * The `logs` RPC: a container's log file as text (`tailLines`, `previous`), or with `follow` a stream of
 * chunks that ends (`done: true`) when the container's attempt ends or a `cancel` names the request.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError } from '../../protocol/errors.js';
import type { RpcResponse } from '../../protocol/messages.js';
import type { PodManager } from '../pods/manager.js';
import { podLogDir } from '../pods/pod.js';

/** The most a single answer carries (the tail of a bigger file); 1 MiB. */
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

/** A live `follow` stream; `stop` ends it with `done: true`. */
export interface Follower {
  stop(): void;
}

/** Parameters of `logs`, checked. */
interface LogsParams {
  namespace: string;
  name: string;
  container?: string;
  previous: boolean;
  tailLines?: number;
  follow: boolean;
}

function checkParams(p: Record<string, unknown>): LogsParams {
  const bad = (field: string, rule: string) => new SkiffError('SKIFF_ERR_BAD_REQUEST', `params.${field}: ${rule}`, [{ field: `params.${field}`, rule }]);
  if (typeof p.name !== 'string' || !p.name) throw bad('name', 'required');
  if (p.namespace !== undefined && typeof p.namespace !== 'string') throw bad('namespace', 'must be a string');
  if (p.container !== undefined && p.container !== null && typeof p.container !== 'string') throw bad('container', 'must be a string');
  if (p.tailLines !== undefined && p.tailLines !== null && (!Number.isInteger(p.tailLines) || (p.tailLines as number) < 0)) throw bad('tailLines', 'must be an integer ≥ 0');
  return {
    namespace: (p.namespace as string) || 'default',
    name: p.name,
    container: (p.container as string | undefined) ?? undefined,
    previous: p.previous === true,
    tailLines: (p.tailLines as number | undefined) ?? undefined,
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

/** Reads [from, end) of a file, at most MAX_BYTES from the end; returns the text and the new offset. */
function readFrom(file: string, from: number): { text: string; offset: number } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return { text: '', offset: from };
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size < from) from = 0; // truncated
    const start = Math.max(from, size - MAX_BYTES);
    const buf = Buffer.alloc(size - start);
    const n = buf.length ? fs.readSync(fd, buf, 0, buf.length, start) : 0;
    return { text: buf.subarray(0, n).toString('utf8'), offset: start + n };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Answers one logs request through `send`. Returns a Follower when it streams.
 * Unknown pod or container → SKIFF_ERR_NOT_FOUND.
 */
export function serveLogs(ctx: LogsContext, params: Record<string, unknown>, send: (r: Omit<RpcResponse, 'id'>) => void): Follower | undefined {
  const p = checkParams(params);
  const runner = ctx.pods.find(p.namespace, p.name);
  if (!runner) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `pod "${p.name}" not found in namespace "${p.namespace}" on this node`);
  const names = runner.pod.spec.containers.map((c) => c.name);
  const cname = p.container ?? names[0];
  const idx = names.indexOf(cname);
  if (idx < 0) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container "${cname}" is not valid for pod ${p.namespace}/${p.name} (it has: ${names.join(', ')})`);
  const c = runner.containers[idx];
  if (!c) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `container "${cname}" in pod ${p.namespace}/${p.name} is waiting to start: ${runner.status().reason ?? 'ContainerCreating'}`);
  const attempt = p.previous ? c.restartCount - 1 : c.restartCount;
  if (attempt < 0) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `previous terminated container "${cname}" in pod ${p.namespace}/${p.name} not found`);
  const file = path.join(podLogDir(ctx.logsDir, runner.pod), cname, `${attempt}.log`);
  const first = readFrom(file, 0);
  const text = tail(first.text, p.tailLines);
  if (!p.follow || p.previous) {
    send({ ok: true, result: text });
    return undefined;
  }
  return follow(file, first.offset, text, c.attemptEnded(), send);
}

function sendChunks(text: string, send: (r: Omit<RpcResponse, 'id'>) => void): void {
  for (let i = 0; i < text.length; i += CHUNK_BYTES) send({ ok: true, chunk: text.slice(i, i + CHUNK_BYTES) });
}

function follow(file: string, offset: number, initial: string, ended: Promise<unknown>, send: (r: Omit<RpcResponse, 'id'>) => void): Follower {
  if (initial) sendChunks(initial, send);
  let finished = false;
  const poll = () => {
    const r = readFrom(file, offset);
    offset = r.offset;
    if (r.text) sendChunks(r.text, send);
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
