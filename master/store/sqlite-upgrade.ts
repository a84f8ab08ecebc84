/**
 * In-place upgrades of older SQLite store files, run by schema.ts inside the transaction that opens the
 * file (a crash mid-upgrade leaves the old file). Each step turns version n into n + 1; history, keys and
 * revisions are kept.
 */
import type Database from 'better-sqlite3';
import { changeId, seqsPerRevision } from './schema.js';

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

/**
 * Version 2 → 3, first half: the old tables step aside (the new ones are created next, from schema.ts), then
 * the change log is copied under its ids (revision × 2^16 + seq) with its copied previous values
 * (`prev_value`, which version 3 keeps for exactly these rows). `type` goes: a delete's value is NULL.
 */
const fromVersion2 = 'ALTER TABLE changes RENAME TO changes_v2; ALTER TABLE kv RENAME TO kv_v2;';
// Built when called: schema.ts (which imports this file) defines seqsPerRevision.
const fromVersion2Copy = () => `
INSERT INTO changes (id, key, value, prev_value)
  SELECT revision * ${seqsPerRevision} + seq, key, CASE type WHEN 'delete' THEN NULL ELSE value END, prev_value FROM changes_v2;
INSERT INTO kv (key, create_revision, change)
  SELECT k.key, k.create_revision, c.id FROM kv_v2 k
  JOIN changes c ON c.id >= k.mod_revision * ${seqsPerRevision} AND c.id < (k.mod_revision + 1) * ${seqsPerRevision} AND c.key = k.key AND c.value IS NOT NULL;
`;

/**
 * Version 2 → 3, second half: a key whose last change was compacted away (or loaded by a restore) had its
 * value only in `kv`; it gets a change at its mod_revision, as a restore writes them. Such revisions are at
 * or below the compaction mark (compaction and restore removed every change there), so these changes are
 * never replayed to a watch; the seq after any change of that revision keeps the id unique all the same.
 */
function fromVersion2Keys(db: Database.Database): void {
  const missing = db
    .prepare('SELECT key, value, create_revision, mod_revision FROM kv_v2 o WHERE NOT EXISTS (SELECT 1 FROM kv WHERE kv.key = o.key) ORDER BY mod_revision, key')
    .all() as { key: string; value: string; create_revision: number; mod_revision: number }[];
  const nextId = db.prepare('SELECT coalesce(max(id) + 1, :first) FROM changes WHERE id >= :first AND id < :end').pluck();
  const addChange = db.prepare('INSERT INTO changes (id, key, value) VALUES (?, ?, ?)');
  const addKey = db.prepare('INSERT INTO kv (key, create_revision, change) VALUES (?, ?, ?)');
  for (const row of missing) {
    const id = nextId.get({ first: changeId(row.mod_revision, 0), end: changeId(row.mod_revision + 1, 0) }) as number;
    addChange.run(id, row.key, row.value);
    addKey.run(row.key, row.create_revision, id);
  }
  db.exec('DROP TABLE kv_v2; DROP TABLE changes_v2;');
}

/**
 * Upgrades a file of schema `from` (1 or 2) to version 3; `tables` is the version-3 DDL (schema.ts). The
 * caller holds the transaction and sets user_version.
 */
export function upgradeSchema(db: Database.Database, from: number, tables: string): void {
  if (from <= 1) db.exec(fromVersion1);
  db.exec(fromVersion2);
  db.exec(tables);
  db.exec(fromVersion2Copy());
  fromVersion2Keys(db);
}
