/**
 * The body of one write of the SQLite store, run inside its batch's IMMEDIATE transaction (group-commit.ts):
 * read the keys' rows, run every check first (one that throws refuses the write before anything changed), bump
 * the revision, log each value once in the change log (deflated: sqlite-codec.ts), point `kv` at it, and compact
 * old history in steps. The texts written are staged for the value cache, which takes them once the
 * transaction committed.
 */
import { changeId, type Statements } from './schema.js';
import { encodeValue } from './sqlite-codec.js';
import { exists, type KvRow } from './sqlite-rows.js';
import { type CheckedOp, txnOpError } from './txn.js';

/** One write of a transaction body: the key, its new text (null: delete), and the check against its current row. */
export interface RowWrite {
  key: string;
  text: string | null;
  check: (cur: KvRow | undefined) => void;
}

/** What one unit of a batch wrote: its writes, the rows before them, the revision they share. */
export interface Committed {
  writes: RowWrite[];
  curs: (KvRow | undefined)[];
  revision: number;
}

/**
 * Applies one unit (a write or a txn) under one new revision. The value goes into the change log only, once:
 * kv points at that change, and the change at the one it replaces. `staged` receives each change's id, text
 * (null: a delete) and key.
 */
export function writeRows(sql: Statements, writes: RowWrite[], retainRevisions: number, staged: [number, string | null, string][]): Committed {
  const curs = writes.map((w) => sql.get.get(w.key) as KvRow | undefined);
  writes.forEach((w, i) => w.check(curs[i]));
  const revision = (sql.meta.get('revision') as number) + 1;
  sql.setMeta.run(revision, 'revision');
  writes.forEach((w, seq) => {
    const cur = curs[seq];
    const id = changeId(revision, seq);
    sql.logChange.run(id, w.key, w.text === null ? null : encodeValue(w.text), cur?.change ?? null);
    if (w.text === null) sql.remove.run(w.key);
    else sql.put.run(w.key, cur?.create_revision ?? revision, id);
    staged.push([id, w.text, w.key]);
  });
  autoCompact(sql, revision, retainRevisions);
  return { writes, curs, revision };
}

// Compacts in steps of a tenth of the retained history, so most writes skip the DELETE.
function autoCompact(sql: Statements, revision: number, retainRevisions: number): void {
  if (retainRevisions === Infinity) return;
  const step = Math.max(1, Math.floor(retainRevisions / 10));
  if (revision - (sql.meta.get('compacted') as number) >= retainRevisions + step) forgetThrough(sql, revision - retainRevisions);
}

/** Forgets change history at or below `revision` (README.md "Compaction"), inside the caller's transaction. */
export function forgetThrough(sql: Statements, revision: number): void {
  const compacted = sql.meta.get('compacted') as number;
  if (revision <= compacted) return;
  sql.forget.run({ from: changeId(compacted + 1, 0), end: changeId(revision + 1, 0) });
  sql.setMeta.run(revision, 'compacted');
}

/** The writes of a checked txn: each op's check names the op (`ops[i]`) in its error. */
export function txnWrites(checked: CheckedOp[]): RowWrite[] {
  return checked.map((o, i) => ({
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
}
