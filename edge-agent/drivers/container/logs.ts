/**
 * A container's output. While an attempt runs, the engine keeps it (k8s-file under Podman, json-file under Docker,
 * both rotated at 10 MiB): written by the engine's monitor whether or not an agent runs, so nothing is lost while
 * the agent is down or restarting, and nothing goes through the agent on its way to disk; `skiff logs [-f]` reads
 * it back through the API. When the attempt ends, the agent archives it into the attempt's file in the pod's log
 * directory (`<restartCount>.log`, with its timeline from the engine's own timestamps: logs/timeline.ts), where
 * `--previous` and the logs of finished pods are read, exactly as for process pods. Without a TTY the engine
 * multiplexes stdout and stderr in frames (an 8-byte header: stream, 0, 0, 0, big-endian length); `Demuxer`
 * splits them back as they arrive.
 */
import fs from 'node:fs';
import path from 'node:path';
import { attemptFiles } from '../../logs/files.js';
import type { LogsRequest } from '../types.js';
import type { Engine } from './engine.js';

/** The most one non-follow answer carries: the last 1 MiB (as the agent's file logs). */
const MAX_BYTES = 1 << 20;

/** Splits the engine's multiplexed stream into payloads, across chunk boundaries. */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: 'stdout' | 'stderr', payload: Buffer) => void) {}

  /** Feeds bytes; complete frames are passed on at once, a partial one waits for the rest. */
  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const size = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + size) break;
      const kind = this.pending[0];
      this.onFrame(kind === 2 ? 'stderr' : 'stdout', this.pending.subarray(8, 8 + size));
      this.pending = this.pending.subarray(8 + size);
    }
  }
}

/** True when the container was created with a TTY (its output is raw, not multiplexed). */
async function hasTty(e: Engine, id: string): Promise<boolean> {
  return (await e.docker.getContainer(id).inspect()).Config?.Tty === true;
}

/** Streams or returns one container's output as text. */
export async function containerLogs(e: Engine, id: string, req: LogsRequest): Promise<{ stop(): void; done: Promise<void> }> {
  const tty = await hasTty(e, id);
  const c = e.docker.getContainer(id);
  const base = {
    stdout: true,
    stderr: true,
    tail: req.tailLines ?? ('all' as unknown as number),
    ...(req.sinceMs !== undefined ? { since: Math.floor(req.sinceMs / 1000) } : {}),
    ...(req.timestamps ? { timestamps: true } : {}),
  };
  const decoder = new TextDecoder('utf-8');
  if (!req.follow) {
    const buf = (await c.logs({ ...base, follow: false })) as unknown as Buffer;
    const parts: Buffer[] = [];
    if (tty) parts.push(buf);
    else new Demuxer((_s, p) => parts.push(Buffer.from(p))).push(buf);
    const all = Buffer.concat(parts);
    req.onData(decoder.decode(all.length > MAX_BYTES ? all.subarray(all.length - MAX_BYTES) : all));
    return { stop: () => {}, done: Promise.resolve() };
  }
  const stream = (await c.logs({ ...base, follow: true })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  const demux = new Demuxer((_s, p) => req.onData(decoder.decode(p, { stream: true })));
  stream.on('data', (b: Buffer) => (tty ? req.onData(decoder.decode(b, { stream: true })) : demux.push(b)));
  const done = new Promise<void>((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  });
  return { stop: () => stream.destroy(), done };
}

/** At most this many timeline samples per archived attempt (every k-th line's when there are more). */
const MAX_SAMPLES = 12_000;

/**
 * Writes an ended attempt's output into `file` (its `.idx` timeline beside it: one `<size> <ms>` sample per
 * line, from the engine's timestamps). Replaces what is there: the engine's copy is the whole attempt.
 */
export async function archiveLogs(e: Engine, id: string, file: string): Promise<void> {
  const c = e.docker.getContainer(id);
  const tty = await hasTty(e, id);
  const buf = (await c.logs({ stdout: true, stderr: true, timestamps: true, follow: false })) as unknown as Buffer;
  const parts: Buffer[] = [];
  if (tty) parts.push(buf);
  else new Demuxer((_s, p) => parts.push(Buffer.from(p))).push(buf);
  const text = Buffer.concat(parts).toString('utf8');
  const out: string[] = [];
  const samples: string[] = [];
  let size = 0;
  for (const line of text.split(/(?<=\n)/)) {
    const m = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) ?/.exec(line);
    const body = m ? line.slice(m[0].length) : line;
    if (!body) continue;
    out.push(body);
    size += Buffer.byteLength(body);
    const ms = m ? Date.parse(m[1]) : NaN;
    if (!Number.isNaN(ms)) samples.push(`${size} ${ms}\n`);
  }
  const step = Math.ceil(samples.length / MAX_SAMPLES) || 1;
  const kept = samples.filter((_, i) => i % step === step - 1 || i === samples.length - 1);
  const files = attemptFiles(path.dirname(file), Number(path.basename(file, '.log')));
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await fs.promises.writeFile(file, out.join(''));
  await fs.promises.writeFile(files.idx, kept.join(''));
}
