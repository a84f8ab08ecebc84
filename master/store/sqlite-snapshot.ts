/**
 * Whole-store reads and loads of the SQLite store (backup, restore, migrate). A snapshot is one
 * read transaction, so its rows and its revision agree even while the master writes through
 * another connection (WAL readers see one commit point). A restore is one IMMEDIATE transaction:
 * rows with their original revisions, the revision counter set to the snapshot's (+ bump), and the
 * compaction mark set there too, so a watch from before the restore is told to list again. As any value,
 * a restored one is written once, as the change its key points at (schema.ts); those changes sit at or
 * below the compaction mark, so no watch replays them.
 */
import type Database from 'better-sqlite3';
import { SkiffError } from '../../protocol/errors.js';
import { changeId, maxRevision, seqsPerRevision, type Statements } from './schema.js';
import { decodeValue, encodeValue } from './sqlite-codec.js';
import type { RestoreOptions, Snapshot, SnapshotEntry } from './types.js';

interface Row {
  key: string;
  /** As stored (sqlite-codec.ts). */
  value: string | Buffer;
  create_revision: number;
  mod_revision: number;
}

/** Reads every key and the revision in one transaction. */
export function readSnapshot(db: Database.Database, sql: Statements): Snapshot {
  return db.transaction(() => {
    const rows = sql.listFrom.all('') as Row[];
    const revision = sql.meta.get('revision') as number;
    return { revision, entries: rows.map(toEntry) };
  }).deferred();
}

/** The number of keys. */
export function countKeys(sql: Statements): number {
  return sql.countKeys.get() as number;
}

/** Loads a snapshot in one transaction; refuses a store with keys unless `force`. */
export function loadSnapshot(db: Database.Database, sql: Statements, snapshot: Snapshot, options: RestoreOptions = {}): { revision: number } {
  const target = snapshot.revision + (options.bumpRevision ?? 0);
  if (target > maxRevision) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: restore: revision ${target} is above the SQLite store's ${maxRevision}`);
  const total = snapshot.entries.length;
  db.transaction(() => {
    const existing = countKeys(sql);
    if (existing > 0 && !options.force) {
      throw new SkiffError('SKIFF_ERR_CONFLICT', `store: ${db.name}: holds ${existing} keys; restore into an empty store, or pass --force to replace them`);
    }
    db.exec('DELETE FROM kv; DELETE FROM changes;');
    // Keys from etcd may share a revision (one Txn): each takes the next seq of its revision.
    const seqs = new Map<number, number>();
    snapshot.entries.forEach((e, i) => {
      const seq = seqs.get(e.modRevision) ?? 0;
      if (seq >= seqsPerRevision) {
        throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: restore: more than ${seqsPerRevision} keys share modRevision ${e.modRevision} (${e.key})`);
      }
      seqs.set(e.modRevision, seq + 1);
      sql.logChange.run(changeId(e.modRevision, seq), e.key, encodeValue(e.text), null);
      sql.put.run(e.key, e.createRevision, changeId(e.modRevision, seq));
      if ((i + 1) % 1000 === 0) options.onProgress?.(i + 1, total);
    });
    sql.setMeta.run(target, 'revision');
    sql.setMeta.run(target, 'compacted');
  }).immediate();
  options.onProgress?.(total, total);
  return { revision: target };
}

function toEntry(r: Row): SnapshotEntry {
  return { key: r.key, text: decodeValue(r.value)!, createRevision: r.create_revision, modRevision: r.mod_revision };
}
