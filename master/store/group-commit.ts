/**
 * Group commit for the SQLite store: writes asked for during one turn of the event loop are
 * applied in one IMMEDIATE transaction, so they share one fsync of the WAL and the pages they
 * touch (kv and change-log leaves, the meta row) are written once per batch, not once per write.
 * Each write is still checked against the rows as the earlier writes of its batch left them (so
 * optimistic concurrency and "one of two creates wins" hold), takes the next revision in the order
 * it was asked for, and its promise settles only after COMMIT returned: an acknowledged write is
 * as durable as before. A write whose check fails is refused alone; an SQL error (disk full, I/O)
 * rolls the whole batch back and refuses every write in it. `apply` must throw a SkiffError only
 * before it changes anything.
 */
import { SkiffError } from '../../protocol/errors.js';

/** One write waiting for its batch. `apply` runs inside the transaction; it throws to refuse the write. */
export interface PendingWrite<R> {
  apply: () => R;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

/** The most writes in one transaction: bounds how long one commit holds the event loop. */
export const maxBatch = 2_000;

/**
 * Queues writes and commits them in batches. `runBatch` runs a function inside one IMMEDIATE
 * transaction; `afterCommit` is told of each applied write's result, in order, after COMMIT.
 */
export class GroupCommitter {
  private pending: PendingWrite<unknown>[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  /** Batches and writes committed so far (metrics, tests). */
  readonly stats = { batches: 0, writes: 0 };

  constructor(
    private readonly runBatch: (body: () => void) => void,
    private readonly afterCommit: (result: unknown) => void,
  ) {}

  /** Queues a write; the promise settles after the commit of its batch. */
  submit<R>(apply: () => R): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ apply, resolve, reject } as PendingWrite<unknown>);
      // setImmediate, not a microtask: every write asked for while this turn's I/O callbacks run
      // (a burst of MQTT messages, every controller worker woken by the last commit) joins.
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Commits everything queued now (before compact, restore or close). */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.pending.length > 0) this.commit(this.pending.splice(0, maxBatch));
  }

  /** Refuses every queued write with `err` (the store is closing). */
  failAll(err: unknown): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    for (const w of this.pending.splice(0)) w.reject(err);
  }

  private commit(batch: PendingWrite<unknown>[]): void {
    const outcomes: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = [];
    try {
      this.runBatch(() => {
        outcomes.length = 0; // a retried body (SQLITE_BUSY) starts again
        for (const w of batch) outcomes.push(attempt(w));
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    this.stats.batches++;
    batch.forEach((w, i) => {
      const o = outcomes[i]!;
      if (!o.ok) return w.reject(o.err);
      this.stats.writes++;
      this.afterCommit(o.value);
      w.resolve(o.value);
    });
  }
}

// A refused write (a SkiffError from its check, thrown before it changed anything) does not
// spoil its batch; any other error (SQLite's own) is rethrown and rolls the transaction back.
function attempt(w: PendingWrite<unknown>): { ok: true; value: unknown } | { ok: false; err: unknown } {
  try {
    return { ok: true, value: w.apply() };
  } catch (err) {
    if (!(err instanceof SkiffError)) throw err;
    return { ok: false, err };
  }
}
