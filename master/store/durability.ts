/**
 * What makes the SQLite store's commits durable without stalling the event loop: the store commits with
 * synchronous=NORMAL (COMMIT writes the WAL, no fsync) and then fsyncs the `-wal` file from libuv's
 * threadpool (`fs.fsync` on a descriptor of its own: on Linux an fsync flushes the inode's dirty pages
 * whichever descriptor asks); a checkpoint worker copies the WAL into the database file (checkpointer.ts).
 * `SyncedRevision` lets reads wait until what they saw is on disk. The argument: README.md "Durability".
 */
import { closeSync, fstatSync, fsync, openSync } from 'node:fs';
import { promisify } from 'node:util';
import { type CheckpointStats, type Checkpointer, startCheckpointer, walHardLimitBytes } from './checkpointer.js';

/** fsync of a descriptor; tests pass a slow or failing one. */
export type FsyncFn = (fd: number) => Promise<void>;

const fsyncAsync: FsyncFn = promisify(fsync);

/** How long writers are held for one catch-up at most, in ms: past it they go on (and are held again later). */
const holdMaxMs = 2_000;
/** After a catch-up that could not copy every frame (a reader held them), writers are not held again for this long, in ms. */
const holdPauseMs = 5_000;

/** The WAL's descriptor, its fsync, and the checkpoint worker of one file store (none for `:memory:`). */
export class WalDurability {
  /** The last catch-up copied every frame: the next commit restarts the WAL (its file is still long until then). */
  private restarting = false;
  /** No holds before this time (performance.now()): the last catch-up failed. */
  private noHoldUntil = 0;

  private constructor(
    private readonly fd: number | undefined,
    private readonly fsyncFn: FsyncFn,
    private readonly checkpointer: Checkpointer | undefined,
  ) {}

  /** Opens the WAL of `path` (the store's connection has created it) and starts the checkpoint worker. */
  static async open(path: string, isMemory: boolean, fsyncFn: FsyncFn | undefined, onWorkerError: (err: unknown) => void): Promise<WalDurability> {
    if (isMemory) return new WalDurability(undefined, fsyncFn ?? (async () => {}), undefined);
    const fd = openSync(`${path}-wal`, 'r');
    try {
      return new WalDurability(fd, fsyncFn ?? fsyncAsync, await startCheckpointer(path, onWorkerError));
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Makes every WAL frame written so far durable (a memory store has nothing to sync). */
  sync(): Promise<void> {
    return this.fd === undefined ? this.fsyncFn(-1) : this.fsyncFn(this.fd);
  }

  /**
   * Backpressure, asked before each commit turn: a promise to wait for when the WAL has reached walHardLimitBytes —
   * the worker catches up meanwhile, with no frames added — else undefined (commit now). An fstat per turn.
   */
  pressure(): Promise<void> | undefined {
    if (this.fd === undefined || !this.checkpointer) return undefined;
    if (this.restarting) {
      this.restarting = false; // this turn's commit restarts the WAL and cuts its file back
      return undefined;
    }
    if (performance.now() < this.noHoldUntil || fstatSync(this.fd).size < walHardLimitBytes) return undefined;
    return this.checkpointer.catchUp(holdMaxMs).then((ok) => {
      if (ok) this.restarting = true;
      else this.noHoldUntil = performance.now() + holdPauseMs;
    });
  }

  /** What the checkpoint worker did (a memory store has none). */
  checkpointStats(): CheckpointStats {
    return this.checkpointer?.stats() ?? { checkpoints: 0, complete: 0, walBytes: 0, holds: 0 };
  }

  /** The final checkpoint, then the descriptor is closed. */
  async close(): Promise<void> {
    try {
      await this.checkpointer?.close();
    } finally {
      if (this.fd !== undefined) closeSync(this.fd);
    }
  }
}

/** The highest revision known to be on disk, and reads waiting for a higher one. */
export class SyncedRevision {
  private waiters: { revision: number; resolve: () => void; reject: (err: unknown) => void }[] = [];
  private failure: unknown;

  constructor(public revision: number) {}

  /** Resolves once `revision` is on disk (at once if it is). */
  until(revision: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (revision <= this.revision) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ revision, resolve, reject }));
  }

  /** Everything up to `revision` is on disk. */
  advance(revision: number): void {
    this.revision = revision;
    if (this.waiters.length === 0) return;
    const still = [];
    for (const w of this.waiters) {
      if (w.revision <= revision) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  /** Nothing more will be: every waiting read fails with `err`. */
  fail(err: unknown): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }
}
