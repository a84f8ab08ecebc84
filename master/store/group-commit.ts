/**
 * Group commit for the SQLite store, made durable off the event loop. Writes asked for during a turn of
 * the event loop are applied in one IMMEDIATE transaction (so they share the pages they touch and one
 * fsync); a transaction takes writes until ~4 ms of applying them has passed (`applyBudgetMs`), one per turn,
 * and what is left waits for the next turn, so one commit never holds the loop for long. COMMIT writes the WAL
 * (synchronous=NORMAL: no fsync); then `sync` — an fsync of the WAL on libuv's threadpool — makes the
 * batch durable. At most one sync runs at a time: batches committed while one runs wait for the next, so
 * `afterDurable` is told of a batch (which feeds the watchers), and its writers are answered, only after a
 * sync that STARTED after its COMMIT completed. Answering is time-bounded too (`answerBudgetMs` per turn, the
 * writers' continuations included), in order, in turns of its own.
 *
 * Each write is still checked against the rows as the earlier writes of its batch left them (so
 * optimistic concurrency and "one of two creates wins" hold) and takes the next revision in the order
 * it was asked for. A write whose check fails is refused alone (after the sync too: its refusal may rest
 * on a write not yet durable); an SQL error rolls the transaction back and refuses every write in it. A
 * failed sync is fatal, as PostgreSQL's fsync panic: every write not yet durable is refused, and so is
 * every later one. `apply` must throw a SkiffError only before it changes anything.
 */
import { SkiffError } from '../../protocol/errors.js';
import { loopBudget } from '../loop-budget.js';

/** One write waiting for its batch. `apply` runs inside the transaction; it throws to refuse the write. */
export interface PendingWrite<R> {
  apply: () => R;
  resolve: (r: R) => void;
  reject: (err: unknown) => void;
}

/** The most writes in one transaction, whatever the time. */
export const maxBatch = 2_000;
/**
 * Time spent applying writes in one transaction (one turn), in ms: bounds how long one commit holds the loop — an API
 * request that arrives meanwhile waits for it. The values are encoded before they are queued (sqlite-write.ts), so this
 * is SQL only: ~4 ms holds a few hundred writes, a transaction as large as the 10 ms ones that also deflated.
 */
export const applyBudgetMs = 4;
/**
 * Time one turn spends committing, in ms: one transaction. A backlog is worked off one transaction per turn of the
 * loop, with I/O (an API request) and the other tasks of the turn in between.
 */
export const turnBudgetMs = applyBudgetMs;
/** Fewer writes than this, queued while an fsync runs or its writers are answered, wait for that before they are committed... */
export const gatherWrites = 256;
/** ...for at most this long, in ms. */
export const gatherMs = 10;
/** Time spent answering durable writes (their continuations included) in one turn, in ms. */
export const answerBudgetMs = 4;

/** How the committer reaches the database; the store supplies it. */
export interface GroupCommitHooks {
  /** Runs `body` inside one IMMEDIATE transaction; returns the revision the store is at after COMMIT. */
  runBatch: (body: () => void) => number;
  /** Makes everything committed so far durable (an fsync of the WAL); rejects on an I/O error. */
  sync: () => Promise<void>;
  /** A durable batch: its applied writes' results in order, and the revision it left the store at. Called, batch after batch, as soon as the sync covering them completed (before their writers are answered). */
  afterDurable: (results: unknown[], revision: number) => void;
  /** Told once everything up to `revision` is on disk (before its batches are published). */
  onSynced: (revision: number) => void;
  /** A sync failed: the store is unusable. */
  onFatal: (err: unknown) => void;
  /**
   * True while writes already asked of the store are still being prepared (their values in the deflate worker): a few
   * queued writes wait for them as for a running fsync, so they share a transaction.
   */
  preparing?: () => boolean;
  /** Asked before a turn commits: a promise means "hold every write until it settles" (backpressure: the WAL is too long). */
  pressure?: () => Promise<void> | undefined;
}

type Outcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** A committed transaction waiting to be durable, then answered; `writes` empty for a barrier. */
interface Batch {
  writes: PendingWrite<unknown>[];
  outcomes: Outcome[];
  revision: number;
  /** A barrier's callback (durable()): no error once answered in its turn. */
  done?: (err?: unknown) => void;
}

/** Queues writes, commits them in time-bounded batches, and answers them once an fsync covers them. */
export class GroupCommitter {
  private pending: PendingWrite<unknown>[] = [];
  private scheduled: NodeJS.Immediate | undefined;
  /** Committed since the running sync started: the next sync covers them. */
  private unsynced: Batch[] = [];
  private syncing: Promise<void> | undefined;
  /** Durable, waiting for their turn to be answered. */
  private durableQueue: Batch[] = [];
  private answering = false;
  private failure: SkiffError | undefined;
  private lastRevision = 0;
  /** Writes are held until the store's backpressure promise settles. */
  private holding = false;
  /** When the oldest queued write was asked for (performance.now()). */
  private pendingSince = 0;
  /** Writes asked for, and writes taken out of the queue (committed or refused), since the start. */
  private asked = 0;
  private taken = 0;
  /** committed() callers: resolved once `taken` reaches their count. */
  private takenWaiters: { count: number; resolve: () => void }[] = [];
  /** Batches and writes committed so far, and the fsyncs that made them durable (metrics, tests). */
  readonly stats = { batches: 0, writes: 0, syncs: 0, holds: 0 };

  constructor(private readonly hooks: GroupCommitHooks) {}

  /** Queues a write; the promise settles once a sync after the commit of its batch completed. */
  submit<R>(apply: () => R): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<R>((resolve, reject) => {
      if (this.pending.length === 0) this.pendingSince = performance.now();
      this.asked++;
      this.pending.push({ apply, resolve, reject } as PendingWrite<unknown>);
      // setImmediate, not a microtask: every write asked for while this turn's I/O callbacks run
      // (a burst of MQTT messages, every controller worker woken by the last commit) joins.
      this.scheduled ??= setImmediate(() => this.turn());
    });
  }

  /** Commits everything queued now, whatever the time (before compact, restore or close); answers come after a sync. */
  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.pending.length > 0 && !this.failure) this.commit(Infinity);
  }

  /** Resolves once a sync that started after this call completed: whatever was committed before it is on disk and answered. */
  durable(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.unsynced.push({ writes: [], outcomes: [], revision: this.lastRevision, done: (err) => (err ? reject(err) : resolve()) });
      this.startSync();
    });
  }

  /** True while writes are held for the store's backpressure (the WAL at its hard limit, the checkpointer catching up). */
  held(): boolean {
    return this.holding;
  }

  /** The error that made the store unusable, if a sync failed. */
  failed(): SkiffError | undefined {
    return this.failure;
  }

  /** Refuses every queued write with `err` (the store is closing). */
  failAll(err: unknown): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const refused = this.pending.splice(0);
    this.took(refused.length);
    for (const w of refused) w.reject(err);
  }

  /** Resolves once every write asked for before this call is committed (or refused); they are not held back to gather. */
  committed(): Promise<void> {
    if (this.taken >= this.asked) return Promise.resolve();
    return new Promise((resolve) => {
      this.takenWaiters.push({ count: this.asked, resolve });
      this.scheduled ??= setImmediate(() => this.turn());
    });
  }

  private took(n: number): void {
    this.taken += n;
    if (this.takenWaiters.length === 0) return;
    const still = [];
    for (const w of this.takenWaiters) {
      if (w.count <= this.taken) w.resolve();
      else still.push(w);
    }
    this.takenWaiters = still;
  }

  // One turn: one transaction of ≤ turnBudgetMs (less when the iteration's budget is mostly spent); the rest of the queue waits for the next turn.
  private turn(): void {
    this.scheduled = undefined;
    if (this.failure) return;
    // A few writes wait for the running fsync and the answers after it (their ack would wait for that fsync anyway;
    // the writers being answered add their next writes) and go in one transaction then: fewer, larger transactions
    // rewrite the pages they share (meta, b-tree leaves) fewer times. A backlog is committed meanwhile.
    // Not for long, though: behind a long answer phase (a burst's continuations) a write goes in after gatherMs.
    const waitedFor = this.takenWaiters.length > 0; // someone reads the revision: no gathering
    const busy = this.syncing !== undefined || this.answering || this.hooks.preparing?.() === true;
    if (busy && !waitedFor && this.pending.length < gatherWrites && performance.now() - this.pendingSince < gatherMs) {
      this.scheduled = setImmediate(() => this.turn()); // look again next turn
      return;
    }
    if (this.holding) return; // the hold's end schedules the next turn
    const hold = this.hooks.pressure?.();
    if (hold) {
      this.holding = true;
      this.stats.holds++;
      const resume = () => {
        this.holding = false;
        if (this.pending.length > 0) this.scheduled ??= setImmediate(() => this.turn());
      };
      hold.then(resume, resume);
      return;
    }
    // One transaction, as long as the iteration's shared budget allows (../loop-budget.ts): the other turns of this
    // check phase (the answers, the hub, agent messages) and their continuations count too.
    this.commit(loopBudget.turn('store-commit', turnBudgetMs));
    if (this.pending.length > 0) this.scheduled ??= setImmediate(() => this.turn());
  }

  private commit(budgetMs: number): void {
    const queue = this.pending;
    const outcomes: Outcome[] = [];
    let attempted = 0;
    let revision: number;
    try {
      revision = this.hooks.runBatch(() => {
        outcomes.length = 0; // a retried body (SQLITE_BUSY) starts again
        const start = performance.now();
        for (attempted = 0; attempted < queue.length && attempted < maxBatch; ) {
          attempted++;
          outcomes.push(attempt(queue[attempted - 1]!));
          if (performance.now() - start >= budgetMs || loopBudget.interrupted()) break;
        }
      });
    } catch (err) {
      // An SQL error (in a write, or at COMMIT) rolled back everything this transaction applied: refuse those writes.
      const refused = queue.splice(0, Math.max(1, attempted));
      this.took(refused.length);
      for (const w of refused) w.reject(err);
      return;
    }
    const writes = queue.splice(0, outcomes.length);
    this.took(writes.length);
    this.stats.batches++;
    this.lastRevision = revision;
    this.unsynced.push({ writes, outcomes, revision });
    this.startSync();
  }

  // At most one sync in flight; the batches it covers are exactly those committed before it started.
  private startSync(): void {
    if (this.syncing || this.unsynced.length === 0 || this.failure) return;
    const covered = this.unsynced;
    this.unsynced = [];
    this.syncing = this.hooks.sync().then(
      () => {
        this.syncing = undefined;
        this.stats.syncs++;
        if (this.pending.length > 0) this.scheduled ??= setImmediate(() => this.turn());
        this.hooks.onSynced(covered[covered.length - 1]!.revision);
        // The writers are answered in turns of their own, the first one asked for before the watchers hear of the
        // batches (now: delivery is sliced by the hub), so it comes ahead of the hub's next delivery, as a writer
        // answered in this callback did: a writer is answered before the informers' caches show its write.
        this.durableQueue.push(...covered);
        this.scheduleAnswer();
        for (const b of covered) this.hooks.afterDurable(b.outcomes.filter((o) => o.ok).map((o) => (o as { value: unknown }).value), b.revision);
        this.startSync();
      },
      (err: unknown) => {
        this.syncing = undefined;
        this.fail(covered, err);
      },
    );
  }

  // Durable batches are answered in order, for about answerBudgetMs per turn (less when the iteration's shared budget
  // is mostly spent: ../loop-budget.ts) counting the writers' continuations (each writer's promise is settled, then
  // this waits a microtask, so what it woke runs before the clock is read).
  // The first slice runs in a task of its own too, not in the fsync's callback (which publishes the batches).
  private scheduleAnswer(): void {
    if (this.answering) return;
    this.answering = true;
    void nextTurn().then(() => this.answerAll()).finally(() => {
      this.answering = false;
      if (this.pending.length > 0) this.scheduled ??= setImmediate(() => this.turn());
    });
  }

  private async answerAll(): Promise<void> {
    let start = performance.now();
    let allowed = loopBudget.turn('store-answer', answerBudgetMs);
    for (let batch = this.durableQueue.shift(); batch; batch = this.durableQueue.shift()) {
      for (let i = 0; i < batch.writes.length; i++) {
        const o = batch.outcomes[i]!;
        if (o.ok) {
          this.stats.writes++;
          batch.writes[i]!.resolve(o.value);
        } else batch.writes[i]!.reject(o.err);
        await undefined;
        if (performance.now() - start >= allowed || loopBudget.interrupted()) {
          await nextTurn();
          start = performance.now();
          allowed = loopBudget.turn('store-answer', answerBudgetMs);
        }
      }
      batch.done?.();
    }
  }

  // A failed fsync: what it covered, and everything committed or asked for since, is refused; nothing is acknowledged again.
  private fail(covered: Batch[], cause: unknown): void {
    this.failure = new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: fsync of the write-ahead log failed (${(cause as Error)?.message ?? cause}); the store stops: restart the master`);
    const err = this.failure;
    for (const b of [...covered, ...this.unsynced.splice(0)]) {
      for (const w of b.writes) w.reject(err);
      b.done?.(err);
    }
    this.failAll(err);
    this.hooks.onFatal(cause);
  }

  /** The revision after the last COMMIT (durable or not). */
  committedRevision(): number {
    return this.lastRevision;
  }

  /** Sets the committed revision (at open, after a restore). */
  setCommittedRevision(revision: number): void {
    this.lastRevision = revision;
  }

  /** True while nothing is committed but not yet answered, and nothing is queued. */
  idle(): boolean {
    return this.pending.length === 0 && this.unsynced.length === 0 && !this.syncing && this.durableQueue.length === 0;
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

// A refused write (a SkiffError from its check, thrown before it changed anything) does not
// spoil its batch; any other error (SQLite's own) is rethrown and rolls the transaction back.
function attempt(w: PendingWrite<unknown>): Outcome {
  try {
    return { ok: true, value: w.apply() };
  } catch (err) {
    if (!(err instanceof SkiffError)) throw err;
    return { ok: false, err };
  }
}
