/**
 * `skiff cp [NAMESPACE/]POD:PATH LOCAL` and `skiff cp LOCAL [NAMESPACE/]POD:PATH`, as kubectl cp: files
 * and directories, through the master, in pieces under flow control. For a process pod a path is the
 * pod's as the agent defines it (edge-agent/rpc/pod-paths.ts: relative to the container's workingDir;
 * absolute inside the workingDir or a volume's mountPath; nothing else). As `cp -r`: a destination that
 * is an existing directory receives the source under its own name. A copy is bounded (protocol/copy.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Acker, Credit, SkiffError, checkCopyEntry, chunkBytes, maxCopyBytes, maxCopyEntries, windowBytes, type ApiResponse, type CopyEntry } from '../../protocol/index.js';
import { namespaceOption, str, type Command } from '../args.js';
import { defaultNamespace } from '../target.js';
import type { Api, CommandContext } from '../types.js';

/** `[ns/]pod:path`, or a local path (a local path with ":" is written ./a:b, as kubectl asks). */
export function parseCpArg(a: string): { pod?: string; namespace?: string; path: string } {
  const m = /^(?:([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/)?([a-z0-9]([-a-z0-9.]*[a-z0-9])?):(.*)$/.exec(a);
  if (!m || a.startsWith('.') || a.startsWith('/')) return { path: a };
  if (m[5] === '') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `"${a}": the path in the pod is empty`);
  return { namespace: m[1], pod: m[3], path: m[5] };
}

/** The cp verb. */
export const cp: Command = {
  summary: 'copy files and directories to and from a pod',
  usage: `Usage:
  skiff cp [NAMESPACE/]POD:PATH LOCAL_PATH [-c CONTAINER]
  skiff cp LOCAL_PATH [NAMESPACE/]POD:PATH [-c CONTAINER]

A process pod's files are its container's workingDir and its volumes at their mountPaths: a relative
PATH is relative to the workingDir; anything outside them is refused. At most 64 MiB and 10,000 files.

Flags:
  -c, --container NAME     the container (default: the pod's first)
  -n, --namespace NS       the namespace (default: the context's, else "default")
`,
  options: { ...namespaceOption, container: { type: 'string', short: 'c' } },
  async run(ctx, values, positionals) {
    if (positionals.length !== 2) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff cp: source and destination are required, e.g. "skiff cp web-1:logs/app.log ./app.log"');
    const [src, dst] = positionals.map(parseCpArg);
    if ((src.pod === undefined) === (dst.pod === undefined)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff cp: one side must be POD:PATH and the other a local path');
    const remote = (src.pod ? src : dst) as Required<ReturnType<typeof parseCpArg>>;
    const params = {
      name: remote.pod,
      namespace: remote.namespace ?? str(values, 'namespace') ?? defaultNamespace,
      path: remote.path,
      direction: src.pod ? 'from' : 'to',
      ...(str(values, 'container') ? { container: str(values, 'container') } : {}),
    };
    const api = await ctx.api();
    if (src.pod) await receive(ctx, api, params, dst.path);
    else await send(ctx, api, params, src.path);
    return 0;
  },
};

/** From the pod: entries and data arrive; written under `local` (see the file comment), acknowledged once on disk. */
async function receive(ctx: CommandContext, api: Api, params: Record<string, unknown>, local: string): Promise<void> {
  const intoDir = fs.statSync(local, { throwIfNoEntry: false })?.isDirectory() === true;
  const root = path.resolve(local);
  let ref = '';
  const acker = new Acker((n) => api.notify('input', { ref, ack: n }));
  let fd: number | undefined;
  let left = 0;
  let entries = 0;
  const onPiece = (res: ApiResponse) => {
    if (res.entry) {
      const e = checkCopyEntry(res.entry);
      if (++entries > maxCopyEntries || left > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'cp: the pod sent more than was announced');
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
      const parts = e.path.split('/');
      const target = path.resolve(intoDir ? path.join(root, ...parts) : path.join(root, ...parts.slice(1)));
      if (target !== root && !target.startsWith(root + path.sep)) throw new SkiffError('SKIFF_ERR_FORBIDDEN', `cp: ${e.path} would land outside ${local}`);
      if (e.type === 'dir') fs.mkdirSync(target, { recursive: true });
      else {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fd = fs.openSync(target, 'w', e.mode || 0o644);
        left = e.size ?? 0;
      }
    }
    if (res.data) {
      if (fd === undefined || res.data.length > left) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'cp: the pod sent more than was announced');
      fs.writeSync(fd, res.data);
      left -= res.data.length;
      acker.add(res.data.length);
    }
  };
  // A piece that cannot be written ends the stream (the agent stops sending) and is the error reported.
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.io.signal?.addEventListener('abort', onAbort, { once: true });
  let failure: unknown;
  const guarded = (res: ApiResponse) => {
    if (failure !== undefined) return;
    try {
      onPiece(res);
    } catch (err) {
      failure = err;
      stop.abort();
    }
  };
  try {
    await api.stream('cp', params, guarded, stop.signal, (id) => (ref = id));
    if (failure !== undefined) throw failure;
    if (entries === 0 && !ctx.io.signal?.aborted) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `${params.path}: nothing copied`);
  } finally {
    ctx.io.signal?.removeEventListener('abort', onAbort);
    acker.close();
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** To the pod: waits for the agent's go-ahead, then sends entries and data under credit, then `fin`. */
async function send(ctx: CommandContext, api: Api, params: Record<string, unknown>, local: string): Promise<void> {
  const items = walk(local);
  let ref = '';
  let wake: (() => void) | undefined;
  let ready!: () => void;
  const opened = new Promise<void>((r) => (ready = r));
  const credit = new Credit(
    () => undefined,
    () => (wake?.(), (wake = undefined)),
  );
  const done = api.stream(
    'cp',
    params,
    (res) => {
      if (res.ack === 0) ready();
      else if (res.ack !== undefined) credit.refund(res.ack);
    },
    ctx.io.signal,
    (id) => (ref = id),
  );
  const pump = async () => {
    await Promise.race([opened, done]);
    const buf = Buffer.alloc(chunkBytes);
    for (const it of items) {
      api.notify('input', { ref, entry: it.entry });
      if (it.entry.type !== 'file') continue;
      const fd = fs.openSync(it.local, 'r');
      try {
        for (let left = it.entry.size ?? 0; left > 0; ) {
          if (credit.pending >= windowBytes) await new Promise<void>((r) => (wake = r));
          const n = fs.readSync(fd, buf, 0, Math.min(chunkBytes, left), null);
          if (n === 0) throw new SkiffError('SKIFF_ERR_CONFLICT', `${it.local}: the file shrank while it was copied`);
          api.notify('input', { ref, data: Buffer.from(buf.subarray(0, n)) });
          credit.spend(n);
          left -= n;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    api.notify('input', { ref, fin: true });
  };
  await Promise.all([done, pump()]);
}

/** The local files to send, the source's own name first (bounded as a copy is). */
function walk(local: string): { entry: CopyEntry; local: string }[] {
  const st = fs.statSync(local, { throwIfNoEntry: false });
  if (!st) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `${local}: no such file or directory`);
  const out: { entry: CopyEntry; local: string }[] = [];
  let bytes = 0;
  const visit = (p: string, rel: string, s: fs.Stats) => {
    if (out.length >= maxCopyEntries) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `more than ${maxCopyEntries} files and directories: copy less at a time`);
    if (s.isDirectory()) {
      out.push({ entry: { path: rel, type: 'dir', mode: s.mode & 0o777 }, local: p });
      for (const child of fs.readdirSync(p).sort()) {
        const cs = fs.statSync(path.join(p, child), { throwIfNoEntry: false });
        if (cs && (cs.isDirectory() || cs.isFile())) visit(path.join(p, child), `${rel}/${child}`, cs);
      }
    } else if (s.isFile()) {
      bytes += s.size;
      if (bytes > maxCopyBytes) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `more than ${maxCopyBytes >> 20} MiB: copy less at a time`);
      out.push({ entry: { path: rel, type: 'file', mode: s.mode & 0o777, size: s.size }, local: p });
    }
  };
  visit(local, path.basename(path.resolve(local)), st);
  return out;
}
