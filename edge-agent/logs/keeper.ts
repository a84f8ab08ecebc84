/**
 * Keeps the running containers' logs dated and bounded. Every `sampleMs` it looks at each running
 * attempt's `n.log`: a size that grew is recorded in the timeline (timeline.ts); a size past `maxBytes`
 * rotates the file the way logrotate's copytruncate does — the process holds the file open with
 * O_APPEND, so the agent copies it to `n.1.log` (replacing the previous rotation) and truncates it, and
 * the process's next write lands at the new start. Bytes written between the copy and the truncate
 * would be lost; the copy catches up on them first, so the window is a few microseconds. Older attempts
 * than the previous one are removed (the kubelet keeps the current and the previous container's logs).
 * A container's logs thus take at most 2 × maxBytes per attempt, two attempts.
 */
import fs from 'node:fs';
import type { Logger } from '../log.js';
import { attemptFiles, attemptsIn } from './files.js';
import { appendSample } from './timeline.js';

/** The bounds and the sampling period. */
export interface LogKeeperOptions {
  /** Rotate a log past this size; default 10 MiB (the kubelet's containerLogMaxSize). */
  maxBytes: number;
  /** Sampling period; default 1000 ms. */
  sampleMs: number;
}

/** The log keeper's defaults. */
export const logKeeperDefaults: LogKeeperOptions = Object.freeze({ maxBytes: 10 << 20, sampleMs: 1000 });

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

  /** copytruncate: see the file comment. */
  private rotate(f: ReturnType<typeof attemptFiles>, size: number): void {
    fs.copyFileSync(f.log, f.rotated);
    const fd = fs.openSync(f.log, 'r+');
    try {
      const now = fs.fstatSync(fd).size;
      if (now > size) {
        const rest = Buffer.alloc(now - size);
        fs.readSync(fd, rest, 0, rest.length, size);
        fs.appendFileSync(f.rotated, rest);
      }
      fs.ftruncateSync(fd, 0);
    } finally {
      fs.closeSync(fd);
    }
    fs.rmSync(f.rotatedIdx, { force: true });
    if (fs.existsSync(f.idx)) fs.renameSync(f.idx, f.rotatedIdx);
    this.sizes.set(f.log, 0);
  }

  /** Removes attempts older than the previous one. */
  private prune(r: RunningLog): void {
    for (const n of attemptsIn(r.dir))
      if (n < r.attempt - 1) for (const p of Object.values(attemptFiles(r.dir, n))) fs.rmSync(p, { force: true });
    this.pruned.set(r.dir, r.attempt);
  }
}
