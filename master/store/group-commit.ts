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
 * The most writes committed in one turn of the event loop when the commit was scheduled (not an explicit flush):
 * past it the rest waits for the next turn, so API requests and leases read meanwhile are not held behind a burst
 * (issue 16: a 2,000-write commit held the master ~35 ms idle, far more under load). Each such batch is still one
 * transaction and one fsync.
 */
export const maxBatchPerTurn = 200;

/**
 * The most committed writes acknowledged (their promises resolved) in one turn: each resolution runs its writer's
 * continuation (a controller's next step) as a microtask of the same turn, so acknowledging 500 at once was one long
 * task. Watchers still hear of every write at COMMIT, in revision order; only the acknowledgements are spread.
 */
export const maxAcksPerTurn = 64;

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
      this.scheduled ??= setImmediate(() => this.flushTurn());
    });
  }

  /** One scheduled turn: at most maxBatchPerTurn writes, the rest in the next turn. */
  private flushTurn(): void {
    this.scheduled = undefined;
    this.commit(this.pending.splice(0, maxBatchPerTurn));
    if (this.pending.length > 0) this.scheduled = setImmediate(() => this.flushTurn());
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
    outcomes.forEach((o) => {
      if (!o.ok) return;
      this.stats.writes++;
      this.afterCommit(o.value);
    });
    this.acknowledge(batch, outcomes, 0);
  }

  // Settles a committed batch's promises, maxAcksPerTurn per turn of the event loop.
  private acknowledge(batch: PendingWrite<unknown>[], outcomes: ({ ok: true; value: unknown } | { ok: false; err: unknown })[], from: number): void {
    const to = Math.min(batch.length, from + maxAcksPerTurn);
    for (let i = from; i < to; i++) {
      const o = outcomes[i]!;
      if (o.ok) batch[i].resolve(o.value);
      else batch[i].reject(o.err);
    }
    if (to < batch.length) setImmediate(() => this.acknowledge(batch, outcomes, to));
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
