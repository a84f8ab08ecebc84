/**
 * Checkpoints of the SQLite store's WAL, off the event loop: a worker thread with its own connection to
 * the same file copies the WAL's pages into the database file (`PRAGMA wal_checkpoint(PASSIVE)`, which
 * never waits for the writer nor blocks it) once the WAL has grown past `walLimitBytes`, and once more
 * (TRUNCATE) when the store closes. The writing connection runs with `wal_autocheckpoint = 0`, so the
 * master's thread never copies pages nor fsyncs the database file. After a checkpoint that caught up,
 * the writer's next transaction starts the WAL over from its beginning, and `journal_size_limit` cuts the
 * file back to `walLimitBytes`: the WAL stays about that size however long a burst lasts. Should the writer outrun
 * the worker (a slow disk, a starved thread), the store holds its writes once the WAL reaches `walHardLimitBytes`
 * until the worker has caught up (`catchUp`): the WAL never grows past about twice the limit.
 *
 * The worker's code is a string (evaluated as CommonJS), so it runs the same from the TypeScript sources
 * (tests) and from dist/; it loads better-sqlite3 from the path this module resolves.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The WAL size past which the worker checkpoints, and the size the WAL is cut back to (journal_size_limit). */
export const walLimitBytes = 8 * 1024 * 1024;
/**
 * The WAL size at which the store holds its writers back until the worker has caught up (backpressure): the worker
 * checkpoints in parallel with the writer, and a writer faster than the disk's copy (a long burst on a slow card, or
 * a worker starved of CPU) would otherwise grow the WAL without bound — every frame of it read back by every reader.
 */
export const walHardLimitBytes = 2 * walLimitBytes;
/** How often the worker looks at the WAL's size while it grows, in ms. */
const pollMs = 50;
/**
 * How often at most while it does not: each look that finds the size unchanged doubles the wait up to this (an idle
 * master's worker woke 20 times a second for nothing, ~0.4 % of a core on the 2-core bench box: issue 16). A burst
 * after a quiet spell is seen within this long; past walHardLimitBytes the writer asks at once anyway (catchUp).
 */
const idlePollMs = 400;

/** What the checkpointer has done (tests, metrics). */
export interface CheckpointStats {
  /** PRAGMA wal_checkpoint calls that ran. */
  checkpoints: number;
  /** Of those, the ones that copied every frame of the WAL (the writer's next transaction restarts it). */
  complete: number;
  /** The WAL's size at the last look, in bytes. */
  walBytes: number;
  /** Times the writer waited for the worker to catch up (the WAL had reached walHardLimitBytes). */
  holds: number;
}

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.sqlite);
const { path, limit, pollMs, idlePollMs } = workerData;
const db = new Database(path);
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = FULL');
db.pragma('wal_autocheckpoint = 0');
db.pragma('journal_size_limit = ' + limit);
const stats = { checkpoints: 0, complete: 0, walBytes: 0 };
let checkedAt = -1;
function walSize() {
  try { return statSync(path + '-wal').size; } catch { return 0; }
}
// A few passes: frames the writer adds during one are copied by the next, so the WAL is caught up at the end.
function checkpoint(mode) {
  let caughtUp = false;
  for (let pass = 0; pass < 4 && !caughtUp; pass++) {
    const r = db.pragma('wal_checkpoint(' + mode + ')')[0];
    stats.checkpoints++;
    caughtUp = r.busy === 0 && r.log === r.checkpointed;
    if (caughtUp) stats.complete++;
  }
  stats.walBytes = walSize();
  checkedAt = caughtUp ? stats.walBytes : -1; // not caught up: look again next time even if the size stays
  parentPort.postMessage({ type: 'stats', stats });
  return caughtUp;
}
let timer, wait = pollMs, lastSize = -1;
function look() {
  const size = walSize();
  stats.walBytes = size;
  if (size > limit && size !== checkedAt) checkpoint('PASSIVE');
  wait = size === lastSize ? Math.min(2 * wait, idlePollMs) : pollMs;
  lastSize = size;
  timer = setTimeout(look, wait);
}
timer = setTimeout(look, pollMs);
parentPort.on('message', (m) => {
  // The writer is held (its WAL reached the hard limit): catch up now, with nothing added meanwhile.
  if (m && m.type === 'catchUp') {
    let ok = false;
    try { ok = checkpoint('PASSIVE'); } finally { parentPort.postMessage({ type: 'caughtUp', seq: m.seq, ok }); }
    return;
  }
  if (m !== 'close') return;
  clearTimeout(timer);
  try { checkpoint('TRUNCATE'); } finally { db.close(); parentPort.postMessage({ type: 'closed', stats }); }
});
parentPort.postMessage({ type: 'ready' });
`;

/** A running checkpoint worker. */
export interface Checkpointer {
  stats(): CheckpointStats;
  /**
   * Checkpoints now (the caller holds its writes meanwhile); resolves true once every frame is copied (the writer's
   * next transaction restarts the WAL), false if not (a reader held old frames) or after `timeoutMs`.
   */
  catchUp(timeoutMs: number): Promise<boolean>;
  /** Runs the final checkpoint (TRUNCATE) and stops the worker. */
  close(): Promise<void>;
}

/** Starts the worker on the database file `path` (already in WAL mode); resolves once its connection is open. */
export async function startCheckpointer(path: string, onError: (err: unknown) => void): Promise<Checkpointer> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  // No inherited flags: a --cpu-prof or a preloaded probe of the master's is not for this thread.
  const worker = new Worker(workerSource, { eval: true, execArgv: [], workerData: { sqlite, path, limit: walLimitBytes, pollMs, idlePollMs } });
  let stats: Omit<CheckpointStats, 'holds'> = { checkpoints: 0, complete: 0, walBytes: 0 };
  let holds = 0;
  let closed: (() => void) | undefined;
  let seq = 0;
  const catching = new Map<number, (ok: boolean) => void>();
  worker.on('message', (m: { type: string; stats?: CheckpointStats; seq?: number; ok?: boolean }) => {
    if (m.stats) stats = { ...m.stats };
    if (m.type === 'closed') closed?.();
    if (m.type === 'caughtUp') catching.get(m.seq!)?.(m.ok === true);
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('error', onError);
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  worker.unref(); // a store left open does not keep the process alive for its checkpoints
  return {
    stats: () => ({ ...stats, holds }),
    catchUp: (timeoutMs) => {
      holds++;
      const id = ++seq;
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => done(false), timeoutMs);
        const done = (ok: boolean) => {
          clearTimeout(timer);
          catching.delete(id);
          resolve(ok);
        };
        catching.set(id, done);
        worker.postMessage({ type: 'catchUp', seq: id });
      });
    },
    close: async () => {
      const done = new Promise<void>((resolve) => (closed = resolve));
      worker.ref(); // the last checkpoint runs even if nothing else keeps the process up
      worker.postMessage('close');
      await Promise.race([done, exited]);
      await worker.terminate();
    },
  };
}
