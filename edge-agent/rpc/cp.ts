/**
 * The `cp` RPC: files out of (`direction: 'from'`) or into (`'to'`) a process pod's container, as a stream
 * of pieces: an `entry` (a directory, or a file followed by its data) at a time, then `fin`. Paths are the
 * pod's as pod-paths.ts defines them, and nothing outside them is read or written. Like `cp -r` (and
 * kubectl cp): the source's own name is the first component of every entry; a destination that is an
 * existing directory receives it under that name, any other destination is the copy itself. A copy is
 * bounded (protocol/copy.ts) and flows under the credit of protocol/flow.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SkiffError, toWireError } from '../../protocol/errors.js';
import { Acker, Credit, chunkBytes, windowBytes } from '../../protocol/flow.js';
import { checkCopyEntry, maxCopyBytes, maxCopyEntries } from '../../protocol/copy.js';
import type { CopyEntry, RpcResponse } from '../../protocol/messages.js';
import { runtimeClassOf } from '../drivers/registry.js';
import type { PodManager } from '../pods/manager.js';
import type { Follower } from './logs.js';
import { hostPathOf, rootsOf, staysInside, type PodRoots } from './pod-paths.js';

type Send = (r: Omit<RpcResponse, 'id'>) => void;

/** Serves one copy; returns the Follower that takes the client's pieces and a cancel. */
export function serveCopy(pods: PodManager, params: Record<string, unknown>, send: Send): Follower {
  const { roots, host, podPath, direction } = resolve(pods, params);
  return direction === 'from' ? sendFiles(roots, host, podPath, send) : receiveFiles(roots, host, send);
}

function resolve(pods: PodManager, p: Record<string, unknown>): { roots: PodRoots; host: string; podPath: string; direction: 'from' | 'to' } {
  const namespace = typeof p.namespace === 'string' && p.namespace ? p.namespace : 'default';
  if (typeof p.name !== 'string' || !p.name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'params.name: required');
  if (typeof p.path !== 'string' || !p.path) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'params.path: required');
  if (p.direction !== 'from' && p.direction !== 'to') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'params.direction: must be from or to');
  const ref = `${namespace}/${p.name}`;
  const runner = pods.find(namespace, p.name);
  if (!runner || (typeof p.uid === 'string' && runner.uid !== p.uid)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `pod "${p.name}" not found in namespace "${namespace}" on this node`);
  const rc = runtimeClassOf(runner.pod);
  if (rc !== 'process') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `cp is not supported for runtime "${rc}" (pod ${ref}); only process pods`);
  const names = runner.pod.spec.containers.map((c) => c.name);
  const cname = typeof p.container === 'string' && p.container ? p.container : names[0];
  const idx = names.indexOf(cname);
  if (idx < 0 || !runner.containers[idx]) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container "${cname}" is not running in pod ${ref}`);
  const launch = runner.containers[idx].currentLaunch();
  const roots = rootsOf(runner.pod.spec.containers[idx], launch.env, launch.workingDir);
  return { roots, host: hostPathOf(roots, p.path), podPath: p.path, direction: p.direction };
}

/** A file or directory to send, with where it is on this node. */
interface Item {
  entry: CopyEntry;
  host: string;
}

/** Lists what a copy from `host` sends (refusing more than the bounds before anything is sent). */
function walk(roots: PodRoots, host: string, name: string): Item[] {
  const st = fs.statSync(host, { throwIfNoEntry: false });
  if (!st) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `${name}: no such file or directory`);
  const items: Item[] = [];
  let bytes = 0;
  const visit = (h: string, rel: string, s: fs.Stats) => {
    if (items.length >= maxCopyEntries) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `more than ${maxCopyEntries} files and directories: copy less at a time`);
    if (s.isDirectory()) {
      items.push({ entry: { path: rel, type: 'dir', mode: s.mode & 0o777 }, host: h });
      for (const child of fs.readdirSync(h).sort()) {
        const ch = path.join(h, child);
        const ls = fs.lstatSync(ch);
        // A symlink is followed only while it stays inside the pod's files; others are left out.
        if (ls.isSymbolicLink() && !staysInside(roots, ch)) continue;
        const cs = ls.isSymbolicLink() ? fs.statSync(ch) : ls;
        if (cs.isDirectory() || cs.isFile()) visit(ch, `${rel}/${child}`, cs);
      }
    } else if (s.isFile()) {
      bytes += s.size;
      if (bytes > maxCopyBytes) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `more than ${maxCopyBytes >> 20} MiB: copy less at a time`);
      items.push({ entry: { path: rel, type: 'file', mode: s.mode & 0o777, size: s.size }, host: h });
    }
  };
  visit(host, path.basename(host) || 'root', st);
  return items;
}

function sendFiles(roots: PodRoots, host: string, podPath: string, send: Send): Follower {
  const items = walk(roots, host, podPath);
  let stopped = false;
  let wake: (() => void) | undefined;
  const credit = new Credit(
    () => undefined,
    () => (wake?.(), (wake = undefined)),
  );
  const run = async () => {
    const buf = Buffer.alloc(chunkBytes);
    for (const it of items) {
      send({ ok: true, entry: it.entry });
      if (it.entry.type !== 'file') continue;
      const fd = fs.openSync(it.host, 'r');
      try {
        for (let left = it.entry.size ?? 0; left > 0 && !stopped; ) {
          if (credit.pending >= windowBytes) await new Promise<void>((r) => (wake = r));
          if (stopped) break;
          const n = fs.readSync(fd, buf, 0, Math.min(chunkBytes, left), null);
          if (n === 0) throw new SkiffError('SKIFF_ERR_CONFLICT', `${it.entry.path}: the file shrank while it was copied`);
          send({ ok: true, data: Buffer.from(buf.subarray(0, n)) });
          credit.spend(n);
          left -= n;
        }
      } finally {
        fs.closeSync(fd);
      }
      if (stopped) return;
    }
    send({ ok: true, fin: true });
    send({ ok: true, done: true });
  };
  run().catch((err) => !stopped && send({ ok: false, error: toWireError(err), done: true }));
  return {
    stop: () => {
      stopped = true;
      wake?.();
    },
    input: (piece) => typeof piece.ack === 'number' && credit.refund(piece.ack),
  };
}

function receiveFiles(roots: PodRoots, host: string, send: Send): Follower {
  const intoDir = fs.statSync(host, { throwIfNoEntry: false })?.isDirectory() === true;
  const acker = new Acker((n) => send({ ok: true, ack: n }));
  let fd: number | undefined;
  let left = 0;
  let entries = 0;
  let bytes = 0;
  let over = false;
  const close = () => {
    if (fd !== undefined) fs.closeSync(fd);
    fd = undefined;
  };
  const end = (r: Omit<RpcResponse, 'id'>) => {
    if (over) return;
    over = true;
    close();
    acker.flush();
    acker.close();
    send({ ...r, done: true });
  };
  const onEntry = (e: unknown) => {
    const entry = checkCopyEntry(e);
    if (++entries > maxCopyEntries) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `more than ${maxCopyEntries} files and directories: copy less at a time`);
    if (left > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'an entry came before the previous file was complete');
    close();
    const parts = entry.path.split('/');
    const target = intoDir ? path.join(host, ...parts) : path.join(host, ...parts.slice(1));
    // Checked before anything is made: a symlink on the way must not lead out of the pod's files.
    if (!staysInside(roots, target)) throw new SkiffError('SKIFF_ERR_FORBIDDEN', `${entry.path}: outside the pod's files`);
    fs.mkdirSync(entry.type === 'dir' ? target : path.dirname(target), { recursive: true });
    if (fs.lstatSync(target, { throwIfNoEntry: false })?.isSymbolicLink()) throw new SkiffError('SKIFF_ERR_FORBIDDEN', `${entry.path}: is a symlink; not written through`);
    if (entry.type === 'file') {
      bytes += entry.size ?? 0;
      if (bytes > maxCopyBytes) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `more than ${maxCopyBytes >> 20} MiB: copy less at a time`);
      fd = fs.openSync(target, 'w', entry.mode & 0o777);
      left = entry.size ?? 0;
    }
  };
  const onData = (d: Uint8Array) => {
    if (fd === undefined || d.length > left) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'data beyond the size of its file');
    fs.writeSync(fd, d);
    left -= d.length;
    acker.add(d.length);
  };
  // Ready: the destination resolved inside the pod's files (the client starts sending on this first piece).
  send({ ok: true, ack: 0 });
  return {
    stop: () => end({ ok: true }),
    input: (piece) => {
      if (over) return;
      try {
        if (piece.entry !== undefined) onEntry(piece.entry);
        if (piece.data instanceof Uint8Array) onData(piece.data);
        if (piece.fin === true) {
          if (left > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'the copy ended inside a file');
          end({ ok: true, result: { entries, bytes } });
        }
      } catch (err) {
        end({ ok: false, error: toWireError(err) });
      }
    },
  };
}
