/**
 * A container's output into the attempt's log file (`spec.logFile`), where `skiff logs`, `--previous`, rotation,
 * the timeline and the logs of finished pods find it — the same files as a process pod's. The engine writes
 * the output first (its own log: k8s-file under Podman, json-file under Docker), whether or not an agent runs,
 * so nothing is lost while the agent is down; while the agent watches an attempt it follows the engine's log and
 * appends each line to the file. Lines carry the engine's timestamps: they date the lines in the attempt's
 * timeline (`<n>.idx`, so `--since`/`--timestamps` are the engine's to the millisecond, even for lines copied
 * late), and `<n>.log.pos` remembers the last one written (and how many lines had it), so a copy that resumes —
 * after an agent restart, or the final pass when the attempt ends — skips what is already in the file and writes
 * every line once. The log keeper (logs/keeper.ts) rotates the file as a process pod's: the copy appends by path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { attemptFiles } from '../../logs/files.js';
import { appendSamples, type Sample } from '../../logs/timeline.js';
import { Demuxer } from './logs.js';
import type { Engine } from './engine.js';

type LogStream = NodeJS.ReadableStream & { destroy(): void };

/** The last line copied: its engine time (ns since epoch, as a decimal string) and how many lines had that time. */
interface Position {
  ns: string;
  n: number;
}

/** Appends are gathered this long; 100 ms. */
const FLUSH_MS = 100;

/** A line longer than this without its newline is written as it is (a program that never ends its line). */
const MAX_LINE = 64 << 10;

/** `2026-12-01T19:05:39.123456789Z` → ns since epoch; undefined when it is not a timestamp. */
export function timestampNs(ts: string): bigint | undefined {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return undefined;
  const s = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(s)) return undefined;
  return BigInt(s) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Copies one container's engine log into a file; resumes where an earlier copy stopped. */
export class LogCopier {
  private readonly posFile: string;
  private readonly idxFile: string;
  private pos: Position;
  /** Lines at `pos.ns` met so far in this pass (the first `pos.n` of them are in the file already). */
  private atPos = 0;
  private pending = '';
  /** The time of the engine entry the frames now arriving belong to (a frame without one continues it). */
  private entryNs?: bigint;
  /** Lines gathered for the next write, each with its engine time (ms) when it had one. */
  private out: { text: string; ms?: number }[] = [];
  private timer?: NodeJS.Timeout;
  private stream?: LogStream;
  /** `finish` or `close` was called: a follow that opens late lets go at once. */
  private ending = false;

  constructor(
    private readonly e: Engine,
    private readonly id: string,
    private readonly file: string,
  ) {
    const f = attemptFiles(path.dirname(file), Number(path.basename(file, '.log')));
    this.posFile = f.pos;
    this.idxFile = f.idx;
    this.pos = readPosition(this.posFile);
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  /** Follows the engine's log until `close` or `finish` (errors end the follow quietly: `finish` catches up). */
  async follow(): Promise<void> {
    const s = await this.open(true).catch(() => undefined);
    if (!s) return;
    if (this.ending) return s.destroy();
    this.stream = s;
  }

  /** The attempt ended: one last pass over the engine's log (what the follow had not written yet), then flushed. */
  async finish(): Promise<void> {
    this.ending = true;
    this.stream?.destroy();
    this.stream = undefined;
    this.flush();
    this.atPos = 0;
    this.pending = '';
    this.entryNs = undefined;
    const s = await this.open(false).catch(() => undefined);
    if (s) await new Promise<void>((resolve) => (s.once('end', resolve), s.once('close', resolve), s.once('error', () => resolve())));
    if (this.pending) this.line(this.entryNs, this.pending); // a last line without its newline, dated by its entry
    this.pending = '';
    this.close();
  }

  /** Stops copying (the agent lets the attempt go); what was read is written, the position kept. */
  close(): void {
    this.ending = true;
    this.stream?.destroy();
    this.stream = undefined;
    this.flush();
  }

  /**
   * Opens the engine's log with timestamps and feeds it in: from a second before the last line copied (the
   * engine's `since` is in seconds and exclusive), so a resumed copy reads only what it may not have.
   */
  private async open(follow: boolean): Promise<LogStream> {
    const c = this.e.docker.getContainer(this.id);
    const tty = (await c.inspect()).Config?.Tty === true;
    const sinceS = Number(BigInt(this.pos.ns) / 1_000_000_000n) - 1;
    const opts = { stdout: true, stderr: true, timestamps: true, ...(sinceS > 0 ? { since: sinceS } : {}) };
    let s: LogStream;
    if (follow) s = (await c.logs({ ...opts, follow: true })) as unknown as LogStream;
    else {
      const p = new PassThrough();
      p.end((await c.logs({ ...opts, follow: false })) as unknown as Buffer);
      s = p;
    }
    const decoder = new TextDecoder();
    let raw = '';
    const demux = new Demuxer((_stream, payload) => this.frame(decoder.decode(payload, { stream: true })));
    s.on('data', (b: Buffer) => {
      if (!tty) return demux.push(b);
      // A TTY's output is one raw stream; each line starts with its timestamp.
      raw += decoder.decode(b, { stream: true });
      let i;
      while ((i = raw.indexOf('\n')) >= 0) {
        this.frame(raw.slice(0, i + 1));
        raw = raw.slice(i + 1);
      }
      if (raw.length > MAX_LINE) (this.frame(raw), (raw = ''));
    });
    s.on('error', () => undefined);
    return s;
  }

  /**
   * One engine entry, `TIMESTAMP content` (content may be part of a line), or the rest of one: a frame that does not
   * start with a time continues the entry before it and is dated by it. Dating it by nothing left the line without a
   * time (no timeline sample: `logs --timestamps` gave it the next line's time) and without moving the position, so
   * the final pass copied it again (`--previous` showed the line twice; seen under a busy test suite).
   */
  private frame(text: string): void {
    const sp = text.indexOf(' ');
    const own = sp > 0 ? timestampNs(text.slice(0, sp)) : undefined;
    if (own !== undefined) this.entryNs = own;
    const ns = this.entryNs;
    this.pending += own === undefined ? text : text.slice(sp + 1);
    let i;
    while ((i = this.pending.indexOf('\n')) >= 0) {
      this.line(ns, this.pending.slice(0, i + 1));
      this.pending = this.pending.slice(i + 1);
    }
    if (this.pending.length > MAX_LINE) (this.line(ns, this.pending), (this.pending = ''));
  }

  /** One whole line with its time: written unless an earlier copy wrote it. */
  private line(ns: bigint | undefined, text: string): void {
    if (ns !== undefined) {
      const at = BigInt(this.pos.ns);
      if (ns < at) return;
      if (ns === at) {
        if (this.atPos++ < this.pos.n) return;
        this.pos.n++;
      } else {
        this.pos = { ns: ns.toString(), n: 1 };
        this.atPos = 1;
      }
    }
    this.out.push({ text, ...(ns !== undefined ? { ms: Number(ns / 1_000_000n) } : {}) });
    this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /**
   * Writes what is gathered, then the timeline (a sample where the engine's time moves on) and the position (a
   * crash between the writes writes a line twice, never loses one).
   */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.out.length) return;
    const out = this.out;
    this.out = [];
    try {
      let size = fs.existsSync(this.file) ? fs.statSync(this.file).size : 0;
      const samples: Sample[] = [];
      out.forEach((l, i) => {
        size += Buffer.byteLength(l.text);
        if (l.ms !== undefined && l.ms !== out[i + 1]?.ms) samples.push({ size, ms: l.ms });
      });
      fs.appendFileSync(this.file, out.map((l) => l.text).join(''));
      appendSamples(this.idxFile, samples);
      fs.writeFileSync(this.posFile, JSON.stringify(this.pos));
    } catch {
      // the pod's log dir is gone (the pod was deleted): nothing to keep
    }
  }
}

function readPosition(file: string): Position {
  try {
    const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Position>;
    if (typeof p.ns === 'string' && /^\d{1,30}$/.test(p.ns) && Number.isInteger(p.n) && (p.n as number) >= 0) return { ns: p.ns, n: p.n as number };
  } catch {
    // no copy yet
  }
  return { ns: '0', n: 0 };
}
