/**
 * The SQLite file layout and connection settings of the store. See README.md for why each
 * setting is there.
 */
import type Database from 'better-sqlite3';
import { SkiffError } from '../../protocol/errors.js';

/** Bumped when the tables change; a file from a newer Skiff is refused rather than misread (2: a transaction's changes share a revision). */
export const schemaVersion = 2;

const tables = `
CREATE TABLE IF NOT EXISTS meta (
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0), ('compacted', 0);

CREATE TABLE IF NOT EXISTS kv (
  key             TEXT PRIMARY KEY,
  value           TEXT NOT NULL,
  create_revision INTEGER NOT NULL,
  mod_revision    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS changes (
  revision   INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  key        TEXT NOT NULL,
  type       TEXT NOT NULL CHECK (type IN ('put', 'delete')),
  value      TEXT,
  prev_value TEXT,
  PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
`;

/**
 * Version 1 → 2: the change log gets `seq`, the op's place in its transaction (the writes of one
 * transaction share a revision, as in etcd). Old rows were one change per revision: seq 0.
 */
const fromVersion1 = `
ALTER TABLE changes RENAME TO changes_v1;
CREATE TABLE changes (
  revision   INTEGER NOT NULL,
  seq        INTEGER NOT NULL,
  key        TEXT NOT NULL,
  type       TEXT NOT NULL CHECK (type IN ('put', 'delete')),
  value      TEXT,
  prev_value TEXT,
  PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
INSERT INTO changes (revision, seq, key, type, value, prev_value) SELECT revision, 0, key, type, value, prev_value FROM changes_v1;
DROP TABLE changes_v1;
`;

/** Page size of a new file, in bytes. */
const newFilePageSize = 1024;

/**
 * Applies the durability settings and creates the tables. WAL + synchronous=FULL: every commit
 * fsyncs the WAL before it returns, so an acknowledged write survives kill -9 and, as far as the
 * disk honours fsync, a power cut (https://www.sqlite.org/pragma.html#pragma_synchronous).
 */
export function prepareDatabase(db: Database.Database, isMemory: boolean): void {
  // page_size only takes on a file that has no pages yet (an existing file keeps its own): a small page keeps
  // the rewrite of a key's page per commit small (1 KiB instead of 4).
  if (db.pragma('page_count', { simple: true }) === 0) db.pragma(`page_size = ${newFilePageSize}`);
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (!isMemory && mode !== 'wal') {
    throw new SkiffError('SKIFF_ERR_INTERNAL', `store: ${db.name}: cannot use WAL journal mode (got ${String(mode)}); is it on a network filesystem?`);
  }
  db.pragma('synchronous = FULL');
  // Another connection (a backup, the sqlite3 shell) may hold the lock briefly: wait, don't fail.
  db.pragma('busy_timeout = 5000'); // 5 s
  // Checkpoint every 8 MiB of WAL rather than every 1,000 pages: a page rewritten by many commits (a key's
  // page, the meta row) reaches the main file once per checkpoint.
  db.pragma(`wal_autocheckpoint = ${Math.floor((8 * 1024 * 1024) / (db.pragma('page_size', { simple: true }) as number))}`);
  // After a checkpoint, shrink a WAL that grew during a burst back to 16 MiB.
  db.pragma('journal_size_limit = 16777216');
  db.pragma('foreign_keys = OFF');

  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > schemaVersion) {
    throw new SkiffError('SKIFF_ERR_INTERNAL', `store: ${db.name}: schema version ${version} is newer than this Skiff's ${schemaVersion}`);
  }
  db.transaction(() => {
    if (version === 1) db.exec(fromVersion1);
    db.exec(tables);
    db.pragma(`user_version = ${schemaVersion}`);
  }).immediate();
}

/** The prepared statements of the store, made once per connection. */
export function prepareStatements(db: Database.Database) {
  const cols = 'key, value, create_revision, mod_revision';
  const changeCols = 'revision, key, type, value, prev_value';
  const order = 'ORDER BY revision, seq';
  return {
    get: db.prepare(`SELECT ${cols} FROM kv WHERE key = ?`),
    // Prefix queries are key ranges (see keys.ts prefixEnd), so they walk the primary-key index.
    listRange: db.prepare(`SELECT ${cols} FROM kv WHERE key >= ? AND key < ? ORDER BY key`),
    listFrom: db.prepare(`SELECT ${cols} FROM kv WHERE key >= ? ORDER BY key`),
    meta: db.prepare('SELECT value FROM meta WHERE name = ?').pluck(),
    setMeta: db.prepare('UPDATE meta SET value = ? WHERE name = ?'),
    put: db.prepare(
      `INSERT INTO kv (${cols}) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, mod_revision = excluded.mod_revision`,
    ),
    remove: db.prepare('DELETE FROM kv WHERE key = ?'),
    logChange: db.prepare(`INSERT INTO changes (revision, seq, key, type, value, prev_value) VALUES (?, ?, ?, ?, ?, ?)`),
    forget: db.prepare('DELETE FROM changes WHERE revision <= ?'),
    historyRange: db.prepare(`SELECT ${changeCols} FROM changes WHERE revision > ? AND key >= ? AND key < ? ${order}`),
    historyFrom: db.prepare(`SELECT ${changeCols} FROM changes WHERE revision > ? AND key >= ? ${order}`),
  };
}

/** The statements prepareStatements makes. */
export type Statements = ReturnType<typeof prepareStatements>;
