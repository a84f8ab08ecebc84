/**
 * In-place upgrades of older SQLite store files, run by schema.ts inside the transaction that opens the
 * file (a crash mid-upgrade leaves the old file). Each step turns version n into n + 1; history, keys and
 * revisions are kept.
 */
import type Database from 'better-sqlite3';

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
 * Version 2 → 3, first half: the old tables step aside and the change log is copied with its copied previous
 * values (`prev_value`, which version 3 keeps for exactly these rows). `type` goes: a delete is the row
 * whose value is NULL. `kv`'s columns are filled by the second half (fromVersion2Keys).
 */
const fromVersion2 = `
ALTER TABLE changes RENAME TO changes_v2;
ALTER TABLE kv RENAME TO kv_v2;
CREATE TABLE kv (
  key             TEXT PRIMARY KEY,
  create_revision INTEGER NOT NULL,
  mod_revision    INTEGER NOT NULL,
  mod_seq         INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE changes (
  revision      INTEGER NOT NULL,
  seq           INTEGER NOT NULL,
  key           TEXT NOT NULL,
  value         TEXT,
  prev_revision INTEGER,
  prev_seq      INTEGER,
  prev_value    TEXT,
  PRIMARY KEY (revision, seq)
) WITHOUT ROWID;
INSERT INTO changes (revision, seq, key, value, prev_value)
  SELECT revision, seq, key, CASE type WHEN 'delete' THEN NULL ELSE value END, prev_value FROM changes_v2;
INSERT INTO kv (key, create_revision, mod_revision, mod_seq)
  SELECT k.key, k.create_revision, k.mod_revision, c.seq FROM kv_v2 k
  JOIN changes c ON c.revision = k.mod_revision AND c.key = k.key AND c.value IS NOT NULL;
`;

/**
 * Version 2 → 3, second half: a key whose last change was compacted away (or loaded by a restore) had its
 * value only in `kv`; it gets a change row at its mod_revision, as a restore writes them. Such revisions are
 * at or below the compaction mark (compaction and restore removed every change there), so these rows are
 * never replayed to a watch; the seq after any row of that revision keeps the key unique all the same.
 */
function fromVersion2Keys(db: Database.Database): void {
  const missing = db
    .prepare('SELECT key, value, create_revision, mod_revision FROM kv_v2 o WHERE NOT EXISTS (SELECT 1 FROM kv WHERE kv.key = o.key) ORDER BY mod_revision, key')
    .all() as { key: string; value: string; create_revision: number; mod_revision: number }[];
  const nextSeq = db.prepare('SELECT coalesce(max(seq) + 1, 0) FROM changes WHERE revision = ?').pluck();
  const addChange = db.prepare('INSERT INTO changes (revision, seq, key, value) VALUES (?, ?, ?, ?)');
  const addKey = db.prepare('INSERT INTO kv (key, create_revision, mod_revision, mod_seq) VALUES (?, ?, ?, ?)');
  for (const row of missing) {
    const seq = nextSeq.get(row.mod_revision) as number;
    addChange.run(row.mod_revision, seq, row.key, row.value);
    addKey.run(row.key, row.create_revision, row.mod_revision, seq);
  }
  db.exec('DROP TABLE kv_v2; DROP TABLE changes_v2;');
}

/** Upgrades a file of schema `from` (1 or 2) to version 3; the caller holds the transaction and sets user_version. */
export function upgradeSchema(db: Database.Database, from: number): void {
  if (from <= 1) db.exec(fromVersion1);
  if (from <= 2) {
    db.exec(fromVersion2);
    fromVersion2Keys(db);
  }
}
