/**
 * Keeps the running containers' logs dated and bounded, as the kubelet's containerLogMaxSize (10 MiB) and
 * containerLogMaxFiles (5) do. Every `sampleMs` it looks at each running attempt's `n.log`: a size that grew
 * is recorded in the timeline (timeline.ts); a size past `maxBytes` rotates the file the way logrotate's
 * copytruncate does — the process holds the file open with O_APPEND (a process pod writes it itself, not
 * through the agent), so the older parts move down (`n.1.log` → `n.2.log` …, the oldest beyond
 * `maxFiles − 1` dropped), the agent copies `n.log` to `n.1.log` and truncates it, and the process's next
 * write lands at the new start. Bytes written between the copy and the truncate would be lost; the copy
 * catches up on them first, so the window is a few microseconds. Older attempts than the previous one are
 * removed (the kubelet keeps the current and the previous container's logs). A container's logs thus take
 * about maxFiles × maxBytes per attempt, two attempts.
 *
 * While no agent runs, nothing rotates: a process keeps appending to `n.log` (as containerd keeps writing
 * while the kubelet is down). The first pass after a start rotates such a log, copying only its last
 * `maxBytes` into `n.1.log` behind a line that says how much was dropped, so catching up never needs more
 * than the bound in new disk space.
 */
import fs from 'node:fs';
import type { Logger } from '../log.js';
import { attemptFiles, attemptsIn, filesOfAttempt } from './files.js';
import { appendSample } from './timeline.js';

/** The bounds and the sampling period. */
export interface LogKeeperOptions {
  /** Rotate a log past this size; default 10 MiB (the kubelet's containerLogMaxSize). */
  maxBytes: number;
  /** Files kept per attempt, the current one included (≥ 2); default 5 (the kubelet's containerLogMaxFiles). */
  maxFiles: number;
  /** Sampling period; default 1000 ms. */
  sampleMs: number;
}

/** The log keeper's defaults. */
export const logKeeperDefaults: LogKeeperOptions = Object.freeze({ maxBytes: 10 << 20, maxFiles: 5, sampleMs: 1000 });

/** A running container's log directory and current attempt. */
export interface RunningLog {
  dir: string;
  attempt: number;
}

/** Samples and bounds the logs of the containers `running()` lists. */
export class LogKeeper {
  private timer?: NodeJS.Timeout;
  private readonly sizes = new Map<string, number>();
  private readonly pruned = new Map<string, number>();

  constructor(
    private readonly running: () => RunningLog[],
    private readonly opts: LogKeeperOptions,
    private readonly log: Logger,
  ) {}

  /** Starts the periodic pass. */
  start(): void {
    this.timer = setInterval(() => this.tick(), this.opts.sampleMs);
    this.timer.unref();
  }

  /** Stops it. */
  stop(): void {
    clearInterval(this.timer);
  }

  /** One pass over every running container (tests call it directly). */
  tick(now = Date.now()): void {
    const seen = new Set<string>();
    for (const r of this.running()) {
      const f = attemptFiles(r.dir, r.attempt);
      seen.add(f.log);
      try {
        this.sample(f, now);
        if (this.pruned.get(r.dir) !== r.attempt) this.prune(r);
      } catch (err) {
        this.log.warn(`logs ${f.log}: ${(err as Error).message}`);
      }
    }
    for (const k of this.sizes.keys()) if (!seen.has(k)) this.sizes.delete(k);
    for (const k of this.pruned.keys()) if (![...seen].some((s) => s.startsWith(k))) this.pruned.delete(k);
  }

  private sample(f: ReturnType<typeof attemptFiles>, now: number): void {
    let size: number;
    try {
      size = fs.statSync(f.log).size;
    } catch {
      return; // not started yet
    }
    if (size !== this.sizes.get(f.log) && size > 0) appendSample(f.idx, { size, ms: now });
    this.sizes.set(f.log, size);
    if (size > this.opts.maxBytes) this.rotate(f, size);
  }

  /** copytruncate after shifting the older parts down: see the file comment. */
  private rotate(f: ReturnType<typeof attemptFiles>, size: number): void {
    const keep = Math.max(1, this.opts.maxFiles - 1);
    for (let k = keep; k >= 1; k--) {
      const from = f.part(k);
      if (k === keep) for (const p of [from.log, from.idx]) fs.rmSync(p, { force: true });
      else for (const [a, b] of [[from.log, f.part(k + 1).log], [from.idx, f.part(k + 1).idx]]) if (fs.existsSync(a)) fs.renameSync(a, b);
    }
    // A log that grew far past the bound while no agent watched: only its last maxBytes are kept.
    const skip = size > 2 * this.opts.maxBytes ? size - this.opts.maxBytes : 0;
    const fd = fs.openSync(f.log, 'r+');
    try {
      const out = fs.openSync(f.rotated, 'w');
      try {
        if (skip) fs.writeSync(out, `skiff-agent: ${skip} bytes of this log were dropped: it grew past ${this.opts.maxBytes} bytes while no agent rotated it\n`);
        copyRange(fd, out, skip);
      } finally {
        fs.closeSync(out);
      }
      fs.ftruncateSync(fd, 0);
    } finally {
      fs.closeSync(fd);
    }
    if (fs.existsSync(f.idx)) fs.renameSync(f.idx, f.rotatedIdx);
    if (skip) fs.rmSync(f.rotatedIdx, { force: true }); // its sizes no longer match the rotated bytes
    this.sizes.set(f.log, 0);
  }

  /** Removes attempts older than the previous one. */
  private prune(r: RunningLog): void {
    for (const n of attemptsIn(r.dir)) if (n < r.attempt - 1) for (const p of filesOfAttempt(r.dir, n)) fs.rmSync(p, { force: true });
    this.pruned.set(r.dir, r.attempt);
  }
}

/** Copies `from` (an fd) from `start` to its end, whatever it grows to meanwhile, to `to` (an fd); 64 KiB at a time. */
function copyRange(from: number, to: number, start: number): void {
  const buf = Buffer.alloc(64 << 10);
  for (let at = start; ; ) {
    const n = fs.readSync(from, buf, 0, buf.length, at);
    if (n === 0) return;
    fs.writeSync(to, buf, 0, n);
    at += n;
  }
}
