/**
 * Seeds a master's SQLite store with many objects in one transaction (one fsync), as a master that
 * was killed in the middle of a huge backlog would have left it — making 50,000 pods through the
 * controllers first would take minutes. Rows go in through the store's own schema and statements.
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import { kindOf, objectKey, type KObject } from '../../protocol/index.js';
import { changeId, prepareDatabase, prepareStatements } from '../../master/store/schema.js';
import { encodeValue } from '../../master/store/sqlite-codec.js';
import { createPrivateFile, securePrivateDir } from '../../master/datadir.js';
import { dirname } from 'node:path';

/** Writes `objects` (server metadata filled) into the store at `path`; returns the revision reached. */
export function seedStore(path: string, objects: Iterable<KObject>): number {
  securePrivateDir(dirname(path));
  createPrivateFile(path);
  const db = new Database(path);
  try {
    prepareDatabase(db, false);
    const sql = prepareStatements(db);
    let revision = sql.meta.get('revision') as number;
    db.transaction(() => {
      for (const o of objects) {
        revision++;
        const key = objectKey(kindOf(o.kind), o.metadata.namespace, o.metadata.name);
        o.metadata.uid ??= randomUUID();
        o.metadata.creationTimestamp ??= new Date().toISOString();
        o.metadata.generation ??= 1;
        // Schema 3: the value goes into its change, the key points at it (master/store/README.md).
        const id = changeId(revision, 0);
        sql.logChange.run(id, key, encodeValue(JSON.stringify(o)), null);
        sql.put.run(key, revision, id);
      }
      sql.setMeta.run(revision, 'revision');
      // No history to watch: a master starts by listing, and watches from the listed revision.
      sql.setMeta.run(revision, 'compacted');
    }).immediate();
    return revision;
  } finally {
    db.close();
  }
}
