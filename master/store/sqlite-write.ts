/**
 * The body of one write of the SQLite store, run inside its batch's IMMEDIATE transaction (group-commit.ts):
 * read the keys' rows, run every check first (one that throws refuses the write before anything changed), bump
 * the revision, log each value once in the change log and point `kv` at it; and when to compact old history. A value
 * is encoded (deflated: sqlite-codec.ts) before its write is queued, in the deflate worker (deflate-worker.ts), not in
 * the transaction: the committer's task — which an API request waits behind — holds only the SQL. The revision is
 * counted in memory during a transaction (`Revision`; the store reads the meta row once before and writes it once
 * after). The texts written are staged for the value cache, which takes them once the transaction committed.
 */
import { changeId, type Statements } from './schema.js';
import { encodeValue } from './sqlite-codec.js';
import type { Encodable } from './deflate-worker.js';
import { exists, type KvRow } from './sqlite-rows.js';
import { type CheckedOp, txnOpError } from './txn.js';

/** One write of a transaction body: the key, its new text (null: delete), the text as stored, and the check against its current row. */
export interface RowWrite extends Encodable {
  key: string;
  check: (cur: KvRow | undefined) => void;
}

/** A write of `text` (null: a delete) to `key`; its value is encoded (ValueEncoder) before it is queued. */
export function rowWrite(key: string, text: string | null, check: (cur: KvRow | undefined) => void): RowWrite {
  return { key, text, stored: undefined, check };
}

/** The store's revision inside the running transaction: read from `meta` when it starts, written back once at its end. */
export interface Revision {
  revision: number;
}

/** What one unit of a batch wrote: its writes, the rows before them, the revision they share. */
export interface Committed {
  writes: RowWrite[];
  curs: (KvRow | undefined)[];
  revision: number;
}

/**
 * Applies one unit (a write or a txn) under one new revision (`at`, counted up). The value goes into the change log
 * only, once: kv points at that change, and the change at the one it replaces. `staged` receives each change's id,
 * text (null: a delete) and key; `cached` gives the value cache's text of a change.
 */
export function writeRows(
  sql: Statements,
  writes: RowWrite[],
  staged: [number, string | null, string][],
  at: Revision,
  cached: (change: number) => string | undefined,
): Committed {
  const curs = writes.map((w) => currentRow(sql, w.key, cached));
  writes.forEach((w, i) => w.check(curs[i]));
  const revision = at.revision + 1;
  at.revision = revision;
  writes.forEach((w, seq) => {
    const cur = curs[seq];
    const id = changeId(revision, seq);
    // Encoded before it was queued; on the loop here only if it was not (never expected).
    const stored = w.stored !== undefined ? w.stored : w.text === null ? null : encodeValue(w.text);
    sql.logChange.run(id, w.key, stored, cur?.change ?? null);
    if (w.text === null) sql.remove.run(w.key);
    else sql.put.run(w.key, cur?.create_revision ?? revision, id);
    staged.push([id, w.text, w.key]);
  });
  return { writes, curs, revision };
}

/**
 * The key's row and its current value: the value's text when the value cache has it (a stored string is JSON text,
 * sqlite-codec.ts), else as stored. Read inside the transaction, as the previous value of the change about to be
 * written: the watch event's prevValue and a delete's entry are made from it later, when compaction may have taken the
 * row (the cache may have dropped the text by then too).
 */
function currentRow(sql: Statements, key: string, cached: (change: number) => string | undefined): KvRow | undefined {
  const row = sql.getKv.get(key) as KvRow | undefined;
  if (row) row.value = cached(row.change) ?? (sql.valueOf.get(row.change) as string | Buffer);
  return row;
}

/**
 * The revision auto-compaction forgets through once history has grown a tenth past `retainRevisions` (it compacts in
 * steps, so most batches skip the DELETE), else undefined. The store runs it in a transaction of its own.
 */
export function compactionDue(sql: Statements, retainRevisions: number): number | undefined {
  if (retainRevisions === Infinity) return undefined;
  const step = Math.max(1, Math.floor(retainRevisions / 10));
  const revision = sql.meta.get('revision') as number;
  return revision - (sql.meta.get('compacted') as number) >= retainRevisions + step ? revision - retainRevisions : undefined;
}

/**
 * Forgets change history at or below `revision` (README.md "Compaction"), inside the caller's transaction.
 * `legacyThrough`: the highest id of a change carried over from schema 1 or 2 (`legacyChanges`), 0 if none.
 */
export function forgetThrough(sql: Statements, revision: number, legacyThrough: number): void {
  const compacted = sql.meta.get('compacted') as number;
  if (revision <= compacted) return;
  const range = { from: changeId(compacted + 1, 0), end: changeId(revision + 1, 0) };
  (range.from <= legacyThrough ? sql.forget : sql.forgetStep).run(range);
  sql.setMeta.run(revision, 'compacted');
}

/** The highest id of a change carried over from schema 1 or 2 (it names no previous change), 0 if none: a scan, at open. */
export function legacyChanges(sql: Statements): number {
  return (sql.legacyThrough.get() as number | null) ?? 0;
}

/** The writes of a checked txn: each op's check names the op (`ops[i]`) in its error. */
export function txnWrites(checked: CheckedOp[]): RowWrite[] {
  return checked.map((o, i) =>
    rowWrite(o.key, o.text, (cur) => {
      if (o.op === 'create') {
        if (cur) throw txnOpError(i, 'SKIFF_ERR_ALREADY_EXISTS', `${o.key}: ${exists(cur)}`);
      } else if (!cur) throw txnOpError(i, 'SKIFF_ERR_NOT_FOUND', `${o.key}: not found`);
      else if (o.expected !== undefined && cur.mod_revision !== o.expected)
        throw txnOpError(i, 'SKIFF_ERR_CONFLICT', `${o.key}: modRevision is ${cur.mod_revision}, expected ${o.expected}`);
    }),
  );
}
