/**
 * Room to delete on a full disk. A delete is a write too (SQLite appends it to the WAL), so on a full
 * SD card a master that let creates fill the disk could not even delete to free space. Two guards:
 * creates and user updates are refused while less than `minFreeBytes` is free (deletes and status
 * writes still pass), and a reserve file of `reserveBytes` is kept in the data dir and given up the
 * first time a write fails for lack of space, so the deletes that follow succeed. Start-up needs
 * `minFreeBytes` free and fails with a clear message otherwise.
 */
import { closeSync, existsSync, openSync, statfsSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError, showBytes, type Logger } from '../protocol/index.js';
import { fileMode } from './datadir.js';

/** The reserve file's name in the data dir. */
export const reserveName = 'disk-reserve';

/** How long a free-space reading is trusted (statfs on every write would be wasted). */
const freshMs = 1000;

/** Settings of the guard. */
export interface DiskGuardOptions {
  dir: string;
  /** Creates and updates are refused below this much free space. */
  minFreeBytes: number;
  /** Size of the reserve file released on the first write that fails for lack of space. */
  reserveBytes: number;
}

/** True for the errors of a full disk: SQLite's SQLITE_FULL and the system's ENOSPC / EDQUOT. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
}

/** Watches the data dir's free space. */
export class DiskGuard {
  private reading = { at: 0, free: 0 };
  private readonly reserve: string;

  /** Checks there is room to start and lays the reserve down; throws SKIFF_ERR_UNAVAILABLE when there is not. */
  constructor(
    private readonly opts: DiskGuardOptions,
    private readonly log: Logger,
  ) {
    this.reserve = join(opts.dir, reserveName);
    const free = this.free(true);
    const have = existsSync(this.reserve) ? statSync(this.reserve).size : 0;
    // Room for the store to grow, plus whatever part of the reserve is not laid down yet.
    if (free < opts.minFreeBytes + Math.max(0, opts.reserveBytes - have))
      throw new SkiffError(
        'SKIFF_ERR_UNAVAILABLE',
        `data dir ${opts.dir}: not enough free space: ${showBytes(free)} free, the master needs ${showBytes(opts.minFreeBytes + Math.max(0, opts.reserveBytes - have))} to start (it keeps room so deletes still work)` +
          (have ? `; its reserve ${this.reserve} (${showBytes(have)}) may be removed to start once` : ''),
      );
    if (have < opts.reserveBytes) this.layReserve();
  }

  /** Free bytes on the data dir's filesystem (for an unprivileged process), read at most once a second. */
  free(fresh = false): number {
    const now = Date.now();
    if (fresh || now - this.reading.at > freshMs) {
      const s = statfsSync(this.opts.dir);
      this.reading = { at: now, free: s.bavail * s.bsize };
    }
    return this.reading.free;
  }

  /** Throws SKIFF_ERR_UNAVAILABLE, naming `what`, when too little is free for something that grows the store. */
  admitGrowth(what: string): void {
    const free = this.free();
    if (free >= this.opts.minFreeBytes) return;
    throw new SkiffError(
      'SKIFF_ERR_UNAVAILABLE',
      `${what}: refused: the disk of ${this.opts.dir} is nearly full (${showBytes(free)} free, writes need ${showBytes(this.opts.minFreeBytes)}); delete objects or free space on the disk — deletes still work`,
    );
  }

  /** Gives the reserve up after a write failed for lack of space; true when there was one to give. */
  release(): boolean {
    if (!existsSync(this.reserve)) return false;
    unlinkSync(this.reserve);
    this.reading.at = 0;
    this.log.warn('the disk is full: gave up the reserve so deletes go through; free space, then restart to lay it down again', { dir: this.opts.dir, reserve: showBytes(this.opts.reserveBytes) });
    return true;
  }

  // Written with real zeros (not a sparse file), so its blocks are truly held.
  private layReserve(): void {
    const fd = openSync(this.reserve, 'w', fileMode);
    try {
      const chunk = Buffer.alloc(Math.min(this.opts.reserveBytes, 1024 * 1024));
      for (let left = this.opts.reserveBytes; left > 0; left -= chunk.length) writeSync(fd, chunk, 0, Math.min(left, chunk.length));
    } catch (err) {
      closeSync(fd);
      unlinkSync(this.reserve);
      throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `data dir ${this.opts.dir}: cannot lay down the ${showBytes(this.opts.reserveBytes)} disk reserve: ${(err as Error).message}`);
    }
    closeSync(fd);
  }
}
