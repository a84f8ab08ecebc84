/**
 * The SQLite file layout and connection settings of the store. See README.md for why each
 * setting is there.
 */
import type Database from 'better-sqlite3';
import { SkiffError } from '../../protocol/errors.js';
import { walLimitBytes } from './checkpointer.js';
import { upgradeSchema } from './sqlite-upgrade.js';

/**
 * Bumped when the tables change; a file from a newer Skiff is refused rather than misread, an older one is
 * upgraded in place (sqlite-upgrade.ts). 2: a transaction's changes share a revision. 3: each value is
 * written once.
 */
export const schemaVersion = 3;

/**
 * A change's id is its revision and its place in that revision's transaction (seq) in one integer,
 * `revision × 2^16 + seq`: the rowid of the change log, so a change of ~1 KB fills its overflow page instead
 * of leaving half of one empty (a WITHOUT ROWID row keeps at most ~1/4 of a page in the leaf; docs/scale.md).
 */
export const seqBits = 16;
/** How many changes one revision (one transaction) can hold: far more than a txn's 60 ops. */
export const seqsPerRevision = 2 ** seqBits;
/** The highest revision whose change ids are still exact in a JS number (~1.4 × 10^11). */
export const maxRevision = Math.floor(Number.MAX_SAFE_INTEGER / seqsPerRevision) - 1;

/** The id of the change at `seq` in revision `revision`. */
export function changeId(revision: number, seq: number): number {
  return revision * seqsPerRevision + seq;
}

/**
 * Version 3: a value is written once, in the change log. `kv` maps each key to the change holding its
 * current value (`change`, whose revision is the key's mod_revision); a change names the change it
 * replaced (`prev`) instead of copying its value; `value` is NULL on a delete, and deflated against a
 * dictionary when that makes it smaller (sqlite-codec.ts; hence BLOB affinity, which keeps text and bytes
 * as given). `prev_value` is only set on changes carried over from versions 1 and 2, which copied the
 * previous value.
 */
const tables = `
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);

CREATE TABLE IF NOT EXISTS kv (
  key             TEXT PRIMARY KEY,
  create_revision INTEGER NOT NULL,
  change          INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS changes (
  id         INTEGER PRIMARY KEY,
  key        TEXT NOT NULL,
  value      BLOB,
  prev       INTEGER,
  prev_value TEXT
);
`;

/** Page size of a new file, in bytes. */
const newFilePageSize = 1024;

/**
 * Applies the durability settings and creates (or upgrades) the tables. WAL + synchronous=NORMAL: COMMIT
 * writes the WAL without an fsync, and the store fsyncs it off the event loop before it acknowledges a write
 * (durability.ts); checkpoints run in a worker (checkpointer.ts), never on this connection. The argument for
 * why that is as durable as synchronous=FULL: README.md "Durability".
 */
export function prepareDatabase(db: Database.Database, isMemory: boolean): void {
  // page_size only takes on a file that has no pages yet (an existing file keeps its own): a small page keeps
  // the rewrite of a key's page per commit small (1 KiB instead of 4).
  if (db.pragma('page_count', { simple: true }) === 0) db.pragma(`page_size = ${newFilePageSize}`);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (!isMemory && mode !== 'wal') {
    throw new SkiffError('SKIFF_ERR_INTERNAL', `store: ${db.name}: cannot use WAL journal mode (got ${String(mode)}); is it on a network filesystem?`);
  }
  db.pragma('synchronous = NORMAL');
  // Another connection (a backup, the sqlite3 shell) may hold the lock briefly: wait, don't fail.
  db.pragma('busy_timeout = 5000'); // 5 s
  // No checkpoint on this connection (the master's thread): the checkpoint worker copies the WAL into the file
  // once it passes walLimitBytes, and a WAL that grew is cut back to that size when it starts over.
  db.pragma('wal_autocheckpoint = 0');
  db.pragma(`journal_size_limit = ${walLimitBytes}`);
  db.pragma('foreign_keys = OFF');

  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > schemaVersion) {
    throw new SkiffError('SKIFF_ERR_INTERNAL', `store: ${db.name}: schema version ${version} is newer than this Skiff's ${schemaVersion}`);
  }
  // One transaction: a crash mid-upgrade leaves the old file as it was.
  db.transaction(() => {
    if (version > 0 && version < schemaVersion) upgradeSchema(db, version, tables);
    db.exec(tables);
    db.pragma(`user_version = ${schemaVersion}`);
  }).immediate();
}

/** The prepared statements of the store, made once per connection. */
export function prepareStatements(db: Database.Database) {
  // A key's value is the change it names; its mod_revision is that change's revision.
  const cols = `k.key, c.value, k.create_revision, k.change >> ${seqBits} AS mod_revision, k.change`;
  const kvJoin = 'kv k JOIN changes c ON c.id = k.change';
  // A change's previous value is the change its `prev` names (or, carried over from versions 1 and 2, its
  // own prev_value). History in (r, s] is the ids in [changeId(r + 1, 0), changeId(s + 1, 0)): s is the last revision
  // watchers were told of, later ones are not yet durable.
  const changeCols = `c.id >> ${seqBits} AS revision, c.key, c.value, COALESCE(c.prev_value, p.value) AS prev_value`;
  const changeJoin = 'changes c LEFT JOIN changes p ON p.id = c.prev';
  return {
    get: db.prepare(`SELECT ${cols} FROM ${kvJoin} WHERE k.key = ?`),
    // A write's read of its key: the kv row alone (~1.7 µs, the join with its value ~5 µs); the value is taken from the
    // value cache, or read by id (`valueOf`) when not there.
    getKv: db.prepare(`SELECT key, create_revision, change >> ${seqBits} AS mod_revision, change FROM kv WHERE key = ?`),
    valueOf: db.prepare('SELECT value FROM changes WHERE id = ?').pluck(),
    // Prefix queries are key ranges (see keys.ts prefixEnd), so they walk the primary-key index.
    listRange: db.prepare(`SELECT ${cols} FROM ${kvJoin} WHERE k.key >= ? AND k.key < ? ORDER BY k.key`),
    listFrom: db.prepare(`SELECT ${cols} FROM ${kvJoin} WHERE k.key >= ? ORDER BY k.key`),
    countKeys: db.prepare('SELECT count(*) FROM kv').pluck(),
    meta: db.prepare('SELECT value FROM meta WHERE name = ?').pluck(),
    setMeta: db.prepare('UPDATE meta SET value = ? WHERE name = ?'),
    put: db.prepare(
      `INSERT INTO kv (key, create_revision, change) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET change = excluded.change`,
    ),
    remove: db.prepare('DELETE FROM kv WHERE key = ?'),
    logChange: db.prepare('INSERT INTO changes (id, key, value, prev) VALUES (?, ?, ?, ?)'),
    // Compaction as etcd's: history ≤ r (ids below :end = changeId(r + 1, 0)) goes, except the changes still
    // needed — a key's current value, and the previous value of a change that stays (its watch event's
    // prevValue). Only what the last mark (:from) kept can have become free, and only by a newer change of its
    // key inside [from, end) (which names it as prev): so the step looks at those, not the whole log.
    forget: db.prepare(
      `DELETE FROM changes AS c
       WHERE (c.id >= :from AND c.id < :end OR c.id IN (SELECT prev FROM changes WHERE id >= :from AND id < :end AND prev < :from))
         AND NOT EXISTS (SELECT 1 FROM kv WHERE kv.key = c.key AND kv.change = c.id)
         AND c.id NOT IN (SELECT prev FROM changes WHERE id >= :end AND prev < :end)`,
    ),
    // The same step without reading the kept history (`forget`'s NOT IN reads every change after :end: ~10 ms at
    // 10,000 revisions): every change but a key's current one is named as prev by exactly one change, the next one of
    // its key, and a delete (NULL value) by none. So below :end a change is free once the change naming it is below
    // :end too, and a delete at once. Changes carried over from versions 1 and 2 name none (they copied the value),
    // so a step that reaches them (ids up to `legacyThrough`) uses `forget`.
    forgetStep: db.prepare(
      `DELETE FROM changes WHERE id IN (
         SELECT prev FROM changes WHERE id >= :from AND id < :end AND prev IS NOT NULL
         UNION ALL SELECT id FROM changes WHERE id >= :from AND id < :end AND value IS NULL)`,
    ),
    legacyThrough: db.prepare('SELECT max(id) FROM changes WHERE prev_value IS NOT NULL').pluck(),
    historyRange: db.prepare(`SELECT ${changeCols} FROM ${changeJoin} WHERE c.id >= ? AND c.id < ? AND c.key >= ? AND c.key < ? ORDER BY c.id`),
    historyFrom: db.prepare(`SELECT ${changeCols} FROM ${changeJoin} WHERE c.id >= ? AND c.id < ? AND c.key >= ? ORDER BY c.id`),
  };
}

/** The statements prepareStatements makes. */
export type Statements = ReturnType<typeof prepareStatements>;
