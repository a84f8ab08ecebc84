/**
 * The embedded store: one SQLite file (better-sqlite3, WAL, synchronous=NORMAL). The writes asked for in one
 * turn of the event loop share one IMMEDIATE transaction (group-commit.ts); each bumps the global revision,
 * writes the key and appends to the change log. A write is acknowledged, and watchers told of it, only after
 * an fsync of the WAL that started after its COMMIT (durability.ts, off the event loop); a read that saw a
 * write not yet on disk waits for that fsync too, so nothing outside the store ever sees a write that a
 * power cut could take back. Tables and settings: README.md and schema.ts.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SkiffError } from '../../protocol/errors.js';
import { checkKey, checkPrefix, checkRevision, prefixEnd, toJson } from './keys.js';
import type { CheckpointStats } from './checkpointer.js';
import { type FsyncFn, SyncedRevision, WalDurability } from './durability.js';
import { GroupCommitter } from './group-commit.js';
import { loopBudget } from '../loop-budget.js';
import { decodeValue } from './sqlite-codec.js';
import { type ChangeRow, checkExpected, exists, type KvRow, once, toChange, toEntry } from './sqlite-rows.js';
import { type Committed, compactionDue, forgetThrough, legacyChanges, type Revision, type RowWrite, rowWrite, txnWrites, writeRows } from './sqlite-write.js';
import { ValueEncoder } from './deflate-worker.js';
import { changeId, prepareDatabase, prepareStatements, seqsPerRevision, type Statements } from './schema.js';
import { countKeys, loadSnapshot, readSnapshot } from './sqlite-snapshot.js';
import { checkTxn } from './txn.js';
import type { RestoreOptions, Snapshot, SnapshotStore, StoreEntry, TxnOp, TxnResult, Watch, WatchEvent } from './types.js';
import { ValueCache } from './value-cache.js';
import { type WatchErrorHandler, WatchHub } from './watch-hub.js';

/** Settings of a SQLite store; all optional. */
export interface SqliteStoreOptions {
  /** Change history kept for watches, in revisions; older history is compacted as writes go. Default 10,000; Infinity keeps all. */
  retainRevisions?: number;
  /** Receives whatever a watch callback throws. Default: a process warning (the master passes its logger). */
  onWatchError?: WatchErrorHandler;
  /** The fsync that makes a batch durable (a seam for tests: slow, failing). Default: fs.fsync of the WAL on the threadpool. */
  fsync?: FsyncFn;
  /**
   * An fsync failed: the store refuses everything from then on (PostgreSQL's fsync panic; the kernel may have
   * dropped the dirty pages, so retrying could acknowledge a write that is not on disk). Default: throw it
   * from a fresh stack, so the master exits and a restart recovers from what is on disk.
   */
  onFatal?: (err: unknown) => void;
  /**
   * Where values are deflated: 'loop' (default) on the master's thread as each write is asked for; 'worker' in the
   * process's deflate worker thread, the writes queued for their commit once back (deflate-worker.ts). The worker
   * takes ~10 µs a write off the master's thread but costs ~10–20 µs more in all: on the 2-core bench box, shared with
   * the simulated agents, 'loop' read 1,312–1,656 pods/s against 1,151–1,527 (docs/scale.md, session 24), so it is
   * the default; 'worker' is for a master with cores to spare. Measured again over TLS (session 31): 3–10 % more pods/s
   * at like box speeds, but one like pair −10 % and a worse list max in three runs of eight — still not the default.
   */
  deflateIn?: 'worker' | 'loop';
}

/** What the connection actually runs with, for start-up logs and tests. */
export interface SqliteStoreSettings {
  path: string;
  journalMode: string;
  /** 1 = NORMAL (https://www.sqlite.org/pragma.html#pragma_synchronous): the store fsyncs the WAL itself. */
  synchronous: number;
  /** 0: this connection never checkpoints (the checkpoint worker does). */
  walAutocheckpoint: number;
  retainRevisions: number;
}

/** Default change history kept for watches (revisions). */
export const defaultRetainRevisions = 10_000;
/** Iterations an auto-compaction waits at most for one whose budget is not spent. */
const compactionMaxWaits = 8;

/** Opens (creating if needed) a SQLite store; `':memory:'` gives a throw-away one. */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
  return SqliteStore.open(path, options);
}

/** The SQLite implementation of Store. */
export class SqliteStore implements SnapshotStore {
  readonly kind = 'sqlite';

  /** Opens (creating if needed) the store at `path`, creating missing parent directories. */
  static async open(path: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    const retain = options.retainRevisions ?? defaultRetainRevisions;
    if (retain !== Infinity && (!Number.isSafeInteger(retain) || retain < 0)) {
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: retainRevisions: must be an integer ≥ 0 or Infinity, got ${retain}`);
    }
    const isMemory = path === ':memory:';
    if (!isMemory) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    let wal: WalDurability;
    try {
      prepareDatabase(db, isMemory);
      wal = await WalDurability.open(path, isMemory, options.fsync, (err) => process.emitWarning(`store: ${path}: the checkpoint worker failed: ${(err as Error)?.stack ?? err}`));
    } catch (err) {
      db.close();
      throw err;
    }
    const onWatchError = options.onWatchError ?? ((err) => process.emitWarning(`store: a watch callback threw: ${(err as Error)?.stack ?? err}`));
    const onFatal =
      options.onFatal ??
      ((err) =>
        setImmediate(() => {
          throw err;
        }));
    return new SqliteStore(db, wal, retain, onWatchError, onFatal, new ValueEncoder(options.deflateIn === 'worker'));
  }

  private readonly hub: WatchHub;
  private readonly sql: Statements;
  private readonly writes: GroupCommitter;
  private readonly listTx: Database.Transaction<(prefix: string) => { rows: KvRow[]; revision: number }>;
  private readonly cache = new ValueCache();
  /** What the running transaction wrote, by change id (text null: a delete of `key`): cached once it committed. */
  private readonly staged: [number, string | null, string][] = [];
  /** The revision inside the running transaction (writeRows counts it up; runBatch reads and writes the meta row once). */
  private readonly at: Revision = { revision: 0 };
  /** The value cache's text of a change (writeRows' previous values). */
  private readonly cached = (change: number): string | undefined => this.cache.get(change);
  /** Keys deleted by commits not yet on disk, with the delete's revision: a `get` of one waits for its fsync. */
  private readonly unsyncedDeletes = new Map<string, number>();
  /** On disk: reads at or below it need not wait. */
  private readonly synced: SyncedRevision;
  /** The last revision watchers were told of (its batch is durable); a watch starts from here. */
  private published: number;
  private closing: Promise<void> | undefined;
  /** An auto-compaction is scheduled. */
  private compacting: NodeJS.Immediate | undefined;
  /** Iterations the scheduled auto-compaction has waited for the loop's budget. */
  private compactionWaits = 0;
  /** The last change carried over from schema 1 or 2, 0 if none: compaction up to it takes the slower exact query. */
  private legacyThrough: number;

  private constructor(
    private readonly db: Database.Database,
    private readonly wal: WalDurability,
    private readonly retainRevisions: number,
    onWatchError: WatchErrorHandler,
    onFatal: (err: unknown) => void,
    private readonly encoder: ValueEncoder,
  ) {
    this.hub = new WatchHub(onWatchError);
    this.sql = prepareStatements(db);
    this.legacyThrough = legacyChanges(this.sql);
    const start = this.meta('revision');
    this.synced = new SyncedRevision(start);
    this.published = start;
    const batchTx = db.transaction((body: () => void) => body());
    this.writes = new GroupCommitter({
      runBatch: (body) => this.runBatch(batchTx, body),
      sync: () => this.wal.sync(),
      pressure: () => this.wal.pressure(),
      preparing: () => this.encoder.idle() !== undefined,
      onSynced: (revision) => {
        this.synced.advance(revision);
        for (const [key, r] of this.unsyncedDeletes) if (r <= revision) this.unsyncedDeletes.delete(key);
      },
      afterDurable: (results, revision) => {
        for (const r of results) this.publish(r as Committed);
        this.published = revision;
      },
      onFatal: (err) => {
        this.synced.fail(this.writes.failed());
        onFatal(err);
      },
    });
    this.writes.setCommittedRevision(start);
    // One read transaction, so the revision matches the rows even if another connection writes.
    this.listTx = db.transaction((prefix: string) => {
      const end = prefixEnd(prefix);
      const rows = (end === undefined ? this.sql.listFrom.all(prefix) : this.sql.listRange.all(prefix, end)) as KvRow[];
      return { rows, revision: this.meta('revision') };
    });
  }

  async get<T = unknown>(key: string): Promise<StoreEntry<T> | undefined> {
    this.checkOpen();
    checkKey(key);
    const row = this.sql.get.get(key) as KvRow | undefined;
    // What it read (the row, or the key's absence after a delete) may not be on disk yet: then it answers after the fsync.
    const revision = row ? row.mod_revision : this.unsyncedDeletes.get(key);
    if (revision !== undefined && revision > this.synced.revision) await this.synced.until(revision);
    return row && toEntry<T>(row, this.cache);
  }

  async list<T = unknown>(prefix: string): Promise<{ entries: StoreEntry<T>[]; revision: number }> {
    this.checkOpen();
    checkPrefix(prefix);
    const { rows, revision } = this.listTx.deferred(prefix);
    await this.synced.until(revision);
    return { entries: rows.map((r) => toEntry<T>(r, this.cache)), revision };
  }

  async create<T = unknown>(key: string, value: T): Promise<StoreEntry<T>> {
    this.checkOpen();
    checkKey(key);
    const text = toJson(key, value);
    const { revision } = await this.write(key, text, (cur) => {
      if (cur) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `store: ${key}: ${exists(cur)}`);
    });
    return { key, value: JSON.parse(text) as T, createRevision: revision, modRevision: revision };
  }

  async update<T = unknown>(key: string, value: T, expectedModRevision?: number): Promise<StoreEntry<T>> {
    this.checkOpen();
    checkKey(key);
    checkRevision(expectedModRevision, 'expectedModRevision');
    const text = toJson(key, value);
    const { cur, revision } = await this.write(key, text, (cur) => checkExpected(key, cur, expectedModRevision));
    return { key, value: JSON.parse(text) as T, createRevision: cur!.create_revision, modRevision: revision };
  }

  async delete<T = unknown>(key: string, expectedModRevision?: number): Promise<StoreEntry<T>> {
    this.checkOpen();
    checkKey(key);
    checkRevision(expectedModRevision, 'expectedModRevision');
    const { cur } = await this.write(key, null, (cur) => checkExpected(key, cur, expectedModRevision));
    return toEntry<T>(cur!, this.cache);
  }

  async txn(ops: readonly TxnOp[]): Promise<TxnResult> {
    this.checkOpen();
    const checked = checkTxn(ops);
    const writes = txnWrites(checked);
    const { curs, revision } = await this.commit(writes);
    const entries = checked.map((o, i): StoreEntry => {
      const cur = curs[i];
      if (o.text === null) return toEntry(cur!, this.cache);
      return { key: o.key, value: JSON.parse(o.text), createRevision: cur?.create_revision ?? revision, modRevision: revision };
    });
    return { revision, entries };
  }

  watch<T = unknown>(prefix: string, fromRevision: number | undefined, onEvent: (e: WatchEvent<T>) => void): Watch {
    this.checkOpen();
    checkPrefix(prefix);
    checkRevision(fromRevision, 'fromRevision');
    if (typeof onEvent !== 'function') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'store: watch: onEvent must be a function');
    const deliver = onEvent as (e: WatchEvent<unknown>) => void;
    // Synchronous from here to hub.add: no batch can be published between the history read and the point
    // from which the watcher takes live changes. History stops at what watchers were told of (durable).
    const revision = this.published;
    if (fromRevision === undefined) return this.hub.add(prefix, revision, [], deliver);
    const compacted = this.meta('compacted');
    if (fromRevision < compacted) {
      throw new SkiffError(
        'SKIFF_ERR_CONFLICT',
        `store: watch ${JSON.stringify(prefix)} from revision ${fromRevision}: history up to revision ${compacted} was compacted; list again and watch from the list's revision`,
      );
    }
    const end = prefixEnd(prefix);
    const first = changeId(Math.min(fromRevision, revision) + 1, 0); // nothing after the current revision: keep the id exact
    const last = changeId(revision + 1, 0);
    const rows = (end === undefined ? this.sql.historyFrom.all(first, last, prefix) : this.sql.historyRange.all(first, last, prefix, end)) as ChangeRow[];
    return this.hub.add(prefix, Math.max(fromRevision, revision), rows.map(toChange), deliver);
  }

  /** The revision on disk: reads and write answers wait for it to reach theirs, so none has revealed more (Store). */
  revealedRevision(): number {
    return this.synced.revision;
  }

  /** The revision once every write asked for so far is committed and on disk (a refused one moves nothing). */
  async revision(): Promise<number> {
    this.checkOpen();
    await this.encoder.idle(); // writes whose values are being deflated are asked for, not yet queued
    await this.writes.committed();
    const revision = this.writes.committedRevision();
    await this.synced.until(revision);
    return revision;
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    checkRevision(revision, 'revision');
    await this.encoder.idle();
    this.writes.flush();
    this.db.transaction(() => {
      const current = this.meta('revision');
      if (revision > current) {
        throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: compact: revision ${revision} is in the future (current ${current})`);
      }
      forgetThrough(this.sql, revision, this.legacyThrough);
    }).immediate();
    await this.writes.durable();
  }

  async snapshot(): Promise<Snapshot> {
    this.checkOpen();
    const snapshot = readSnapshot(this.db, this.sql);
    await this.synced.until(snapshot.revision);
    return snapshot;
  }

  async count(): Promise<number> {
    this.checkOpen();
    return countKeys(this.sql);
  }

  async restore(snapshot: Snapshot, options?: RestoreOptions): Promise<{ revision: number }> {
    this.checkOpen();
    // Everything asked for before the restore is committed and answered first.
    await this.encoder.idle();
    this.writes.flush();
    await this.writes.durable();
    this.writes.flush();
    const loaded = loadSnapshot(this.db, this.sql, snapshot, options);
    this.cache.clear(); // change ids start over
    this.legacyThrough = 0; // every change is the restore's
    this.unsyncedDeletes.clear();
    this.writes.setCommittedRevision(loaded.revision);
    await this.writes.durable();
    this.synced.advance(loaded.revision);
    this.published = loaded.revision;
    return loaded;
  }

  /** Commits and acknowledges the writes already asked for, runs a last checkpoint, and closes the file. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  /** The settings the connection runs with. */
  settings(): SqliteStoreSettings {
    this.checkOpen();
    return {
      path: this.db.name,
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
      walAutocheckpoint: Number(this.db.pragma('wal_autocheckpoint', { simple: true })),
      retainRevisions: this.retainRevisions,
    };
  }

  /** Transactions, writes and fsyncs since the store opened: writes / batches is the group-commit factor. */
  commitStats(): { batches: number; writes: number; syncs: number } {
    return { ...this.writes.stats };
  }

  /** What the checkpoint worker has done. */
  checkpointStats(): CheckpointStats {
    return this.wal.checkpointStats();
  }

  private async shutDown(): Promise<void> {
    if (this.db.open && !this.writes.failed()) {
      await this.encoder.idle(); // writes asked for before close are queued, then committed
      this.writes.flush();
      await this.writes.durable().catch(() => {}); // a failed fsync already refused what it covered
    }
    this.hub.closeAll();
    try {
      await this.wal.close();
    } finally {
      if (this.db.open) this.db.close();
    }
  }

  // One transaction of the group committer; the texts it wrote are cached only once it committed (a rolled-back
  // transaction's change ids are used again by the next one).
  private runBatch(tx: Database.Transaction<(body: () => void) => void>, body: () => void): number {
    this.staged.length = 0;
    try {
      tx.immediate(() => {
        // The revision row is read and written once per transaction, not per write (writeRows counts in `at`).
        const start = this.meta('revision');
        this.at.revision = start;
        body();
        if (this.at.revision !== start) this.sql.setMeta.run(this.at.revision, 'revision');
      });
    } catch (err) {
      this.staged.length = 0;
      throw err;
    }
    for (const [id, text, key] of this.staged) {
      if (text !== null) this.cache.set(id, text);
      else this.unsyncedDeletes.set(key, Math.floor(id / seqsPerRevision));
    }
    this.staged.length = 0;
    if (!this.compacting && compactionDue(this.sql, this.retainRevisions) !== undefined) this.compacting = setImmediate(() => this.autoCompact());
    return this.at.revision;
  }

  // Auto-compaction, a transaction in a task of its own: its DELETE reads the retained history (a few ms at 10,000
  // revisions), which inside a batch would lengthen the commit turn an API request waits behind. Nothing waits for it;
  // the next fsync covers it (lost in a crash, it only leaves more history). Not while writes are held for the WAL's
  // length (the first batch after the hold asks again).
  private autoCompact(): void {
    this.compacting = undefined;
    if (!this.db.open || this.closing || this.writes.failed() || this.writes.held()) return;
    // Nothing waits for it: while this iteration's shared budget (../loop-budget.ts) is spent it waits for a quieter
    // one, a few iterations at most.
    if (loopBudget.spent() && this.compactionWaits++ < compactionMaxWaits) {
      this.compacting = setImmediate(() => this.autoCompact());
      return;
    }
    this.compactionWaits = 0;
    loopBudget.enter();
    try {
      this.db.transaction(() => {
        const through = compactionDue(this.sql, this.retainRevisions);
        if (through !== undefined) forgetThrough(this.sql, through, this.legacyThrough);
      }).immediate();
    } catch (err) {
      // An SQLite error (a full disk): the history stays; the next batch tries again.
      process.emitWarning(`store: ${this.db.name}: auto-compaction failed: ${(err as Error)?.message ?? err}`);
    }
  }

  // Tells the watchers of one durable unit's changes; a previous value is decoded only if a watcher reads it.
  private publish({ writes, curs, revision }: Committed): void {
    writes.forEach((w, i) => {
      const cur = curs[i];
      // The cached text now, or the stored bytes inflated when a watcher asks (the cache may be cleared by then).
      const prevValue = cur === undefined ? null : (this.cache.get(cur.change) ?? once(() => decodeValue(cur.value)!));
      this.hub.publish({ revision, key: w.key, type: w.text === null ? 'delete' : 'put', value: w.text, prevValue });
    });
  }


  // One write: check against the current row, bump the revision, write the key, log the change,
  // compact old history — inside its batch's IMMEDIATE transaction; watchers hear of it after the commit.
  private async write(key: string, text: string | null, check: (cur: KvRow | undefined) => void): Promise<{ cur: KvRow | undefined; revision: number }> {
    const { curs, revision } = await this.commit([rowWrite(key, text, check)]);
    return { cur: curs[0], revision };
  }

  // Several writes under one new revision (a check that throws refuses them all, before anything changed),
  // group-committed with the other writes of this turn (group-commit.ts); watchers hear of each after the commit.
  // The values are deflated first (in the deflate worker: deflate-worker.ts); writes are queued in the order asked for.
  private commit(writes: RowWrite[]): Promise<Committed> {
    const submit = () => this.writes.submit(() => writeRows(this.sql, writes, this.staged, this.at, this.cached));
    const encoded = this.encoder.encode(writes);
    return encoded ? encoded.then(submit) : submit();
  }

  private meta(name: 'revision' | 'compacted'): number {
    return this.sql.meta.get(name) as number;
  }

  private checkOpen(): void {
    if (!this.db.open || this.closing) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: ${this.db.name}: closed`);
    const failure = this.writes.failed();
    if (failure) throw failure;
  }
}
