/**
 * The embedded store: one SQLite file (better-sqlite3, WAL, synchronous=FULL). The writes asked for in one
 * turn of the event loop share one IMMEDIATE transaction and fsync (group-commit.ts); each bumps the global
 * revision, writes the key and appends to the change log; watchers are told after the commit. Tables and settings: README.md and schema.ts.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { SkiffError } from '../../protocol/errors.js';
import { checkKey, checkPrefix, checkRevision, prefixEnd, toJson } from './keys.js';
import { GroupCommitter } from './group-commit.js';
import { decodeValue, encodeValue } from './sqlite-codec.js';
import { changeId, prepareDatabase, prepareStatements, type Statements } from './schema.js';
import { countKeys, loadSnapshot, readSnapshot } from './sqlite-snapshot.js';
import { checkTxn, txnOpError } from './txn.js';
import type { RestoreOptions, Snapshot, SnapshotStore, StoreEntry, TxnOp, TxnResult, Watch, WatchEvent } from './types.js';
import { type Change, type WatchErrorHandler, WatchHub } from './watch-hub.js';

/** Settings of a SQLite store; all optional. */
export interface SqliteStoreOptions {
  /** Change history kept for watches, in revisions; older history is compacted as writes go. Default 10,000; Infinity keeps all. */
  retainRevisions?: number;
  /** Receives whatever a watch callback throws. Default: a process warning (the master passes its logger). */
  onWatchError?: WatchErrorHandler;
}

/** What the connection actually runs with, for start-up logs and tests. */
export interface SqliteStoreSettings {
  path: string;
  journalMode: string;
  /** 2 = FULL (https://www.sqlite.org/pragma.html#pragma_synchronous). */
  synchronous: number;
  retainRevisions: number;
}

/** Default change history kept for watches (revisions). */
export const defaultRetainRevisions = 10_000;

interface KvRow {
  key: string;
  /** As stored: sqlite-codec.ts decodes it. */
  value: string | Buffer;
  create_revision: number;
  mod_revision: number;
  /** The id of the change that holds the value (schema.ts changeId). */
  change: number;
}

/** One write of a transaction body: the key, its new text (null: delete), and the check against its current row. */
interface RowWrite {
  key: string;
  text: string | null;
  check: (cur: KvRow | undefined) => void;
}

/** What one unit of a batch wrote: its writes, the rows before them, the revision they share. */
interface Committed {
  writes: RowWrite[];
  curs: (KvRow | undefined)[];
  revision: number;
}

interface ChangeRow {
  revision: number;
  key: string;
  /** As stored (sqlite-codec.ts); NULL on a delete. */
  value: string | Buffer | null;
  prev_value: string | Buffer | null;
}

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
    try {
      prepareDatabase(db, isMemory);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStore(db, retain, options.onWatchError ?? ((err) => process.emitWarning(`store: a watch callback threw: ${(err as Error)?.stack ?? err}`)));
  }

  private readonly hub: WatchHub;
  private readonly sql: Statements;
  private readonly writes: GroupCommitter;
  private readonly listTx: Database.Transaction<(prefix: string) => { rows: KvRow[]; revision: number }>;

  private constructor(
    private readonly db: Database.Database,
    private readonly retainRevisions: number,
    onWatchError: WatchErrorHandler,
  ) {
    this.hub = new WatchHub(onWatchError);
    this.sql = prepareStatements(db);
    const batchTx = db.transaction((body: () => void) => body());
    this.writes = new GroupCommitter(
      (body) => batchTx.immediate(body),
      (r) => {
        const { writes, curs, revision } = r as Committed;
        writes.forEach((w, i) => this.hub.publish({ revision, key: w.key, type: w.text === null ? 'delete' : 'put', value: w.text, prevValue: decodeValue(curs[i]?.value ?? null) }));
      },
    );
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
    return row && toEntry<T>(row);
  }

  async list<T = unknown>(prefix: string): Promise<{ entries: StoreEntry<T>[]; revision: number }> {
    this.checkOpen();
    checkPrefix(prefix);
    const { rows, revision } = this.listTx.deferred(prefix);
    return { entries: rows.map((r) => toEntry<T>(r)), revision };
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
    return toEntry<T>(cur!);
  }

  async txn(ops: readonly TxnOp[]): Promise<TxnResult> {
    this.checkOpen();
    const checked = checkTxn(ops);
    const writes: RowWrite[] = checked.map((o, i) => ({
      key: o.key,
      text: o.text,
      check: (cur) => {
        if (o.op === 'create') {
          if (cur) throw txnOpError(i, 'SKIFF_ERR_ALREADY_EXISTS', `${o.key}: ${exists(cur)}`);
        } else if (!cur) throw txnOpError(i, 'SKIFF_ERR_NOT_FOUND', `${o.key}: not found`);
        else if (o.expected !== undefined && cur.mod_revision !== o.expected)
          throw txnOpError(i, 'SKIFF_ERR_CONFLICT', `${o.key}: modRevision is ${cur.mod_revision}, expected ${o.expected}`);
      },
    }));
    const { curs, revision } = await this.commit(writes);
    const entries = checked.map((o, i): StoreEntry => {
      const cur = curs[i];
      if (o.text === null) return toEntry(cur!);
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
    // Synchronous from here to hub.add: no commit can slip in between the history read and the
    // point from which the watcher takes live changes.
    const revision = this.meta('revision');
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
    const rows = (end === undefined ? this.sql.historyFrom.all(first, prefix) : this.sql.historyRange.all(first, prefix, end)) as ChangeRow[];
    return this.hub.add(prefix, Math.max(fromRevision, revision), rows.map(toChange), deliver);
  }

  async revision(): Promise<number> {
    this.checkOpen();
    return this.meta('revision');
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    checkRevision(revision, 'revision');
    this.writes.flush();
    this.db.transaction(() => {
      const current = this.meta('revision');
      if (revision > current) {
        throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: compact: revision ${revision} is in the future (current ${current})`);
      }
      this.forgetThrough(revision);
    }).immediate();
  }

  async snapshot(): Promise<Snapshot> {
    this.checkOpen();
    return readSnapshot(this.db, this.sql);
  }

  async count(): Promise<number> {
    this.checkOpen();
    return countKeys(this.sql);
  }

  async restore(snapshot: Snapshot, options?: RestoreOptions): Promise<{ revision: number }> {
    this.checkOpen();
    this.writes.flush();
    return loadSnapshot(this.db, this.sql, snapshot, options);
  }

  async close(): Promise<void> {
    // Writes already asked for are committed (and acknowledged) before the file closes.
    if (this.db.open) this.writes.flush();
    this.hub.closeAll();
    if (this.db.open) this.db.close();
  }

  /** The settings the connection runs with. */
  settings(): SqliteStoreSettings {
    this.checkOpen();
    return {
      path: this.db.name,
      journalMode: String(this.db.pragma('journal_mode', { simple: true })),
      synchronous: Number(this.db.pragma('synchronous', { simple: true })),
      retainRevisions: this.retainRevisions,
    };
  }

  /** Transactions and writes committed since the store opened: writes / batches is the group-commit factor. */
  commitStats(): { batches: number; writes: number } {
    return { ...this.writes.stats };
  }

  // One write: check against the current row, bump the revision, write the key, log the change,
  // compact old history — inside its batch's IMMEDIATE transaction; watchers hear of it after the commit.
  private async write(key: string, text: string | null, check: (cur: KvRow | undefined) => void): Promise<{ cur: KvRow | undefined; revision: number }> {
    const { curs, revision } = await this.commit([{ key, text, check }]);
    return { cur: curs[0], revision };
  }

  // Several writes under one new revision (a check that throws refuses them all, before anything changed),
  // group-committed with the other writes of this turn (group-commit.ts); watchers hear of each after the commit.
  private commit(writes: RowWrite[]): Promise<Committed> {
    return this.writes.submit(() => this.writeRows(writes));
  }

  // The body of one unit of the batch transaction (see commit): every check first, then the writes. The value
  // goes into the change log only, once: kv points at that change, and the change at the one it replaces.
  private writeRows(writes: RowWrite[]): Committed {
    const curs = writes.map((w) => this.sql.get.get(w.key) as KvRow | undefined);
    writes.forEach((w, i) => w.check(curs[i]));
    const revision = this.meta('revision') + 1;
    this.sql.setMeta.run(revision, 'revision');
    writes.forEach((w, seq) => {
      const cur = curs[seq];
      const id = changeId(revision, seq);
      this.sql.logChange.run(id, w.key, w.text === null ? null : encodeValue(w.text), cur?.change ?? null);
      if (w.text === null) this.sql.remove.run(w.key);
      else this.sql.put.run(w.key, cur?.create_revision ?? revision, id);
    });
    this.autoCompact(revision);
    return { writes, curs, revision };
  }

  // Compacts in steps of a tenth of the retained history, so most writes skip the DELETE.
  private autoCompact(revision: number): void {
    if (this.retainRevisions === Infinity) return;
    const step = Math.max(1, Math.floor(this.retainRevisions / 10));
    if (revision - this.meta('compacted') >= this.retainRevisions + step) this.forgetThrough(revision - this.retainRevisions);
  }

  private forgetThrough(revision: number): void {
    if (revision <= this.meta('compacted')) return;
    this.sql.forget.run({ from: changeId(this.meta('compacted') + 1, 0), end: changeId(revision + 1, 0) });
    this.sql.setMeta.run(revision, 'compacted');
  }

  private meta(name: 'revision' | 'compacted'): number {
    return this.sql.meta.get(name) as number;
  }

  private checkOpen(): void {
    if (!this.db.open) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: ${this.db.name}: closed`);
  }
}

function exists(cur: KvRow): string {
  return `already exists (modRevision ${cur.mod_revision})`;
}

function checkExpected(key: string, cur: KvRow | undefined, expected: number | undefined): void {
  if (!cur) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `store: ${key}: not found`);
  if (expected !== undefined && cur.mod_revision !== expected) {
    throw new SkiffError('SKIFF_ERR_CONFLICT', `store: ${key}: modRevision is ${cur.mod_revision}, expected ${expected}`);
  }
}

function toEntry<T>(row: KvRow): StoreEntry<T> {
  return { key: row.key, value: JSON.parse(decodeValue(row.value)!) as T, createRevision: row.create_revision, modRevision: row.mod_revision };
}

function toChange(row: ChangeRow): Change {
  return { revision: row.revision, key: row.key, type: row.value === null ? 'delete' : 'put', value: decodeValue(row.value), prevValue: decodeValue(row.prev_value) };
}
