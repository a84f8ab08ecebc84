/**
 * The rows the SQLite store reads, and how they become entries and watch changes. A stored value is decoded
 * (sqlite-codec.ts) from the value cache when it is there; a change's previous value only when a watcher
 * reads it (watch-hub.ts), since most never do.
 */
import { SkiffError } from '../../protocol/errors.js';
import { decodeValue } from './sqlite-codec.js';
import type { StoreEntry } from './types.js';
import type { ValueCache } from './value-cache.js';
import type { Change } from './watch-hub.js';

/** A key's row joined with the change holding its value. */
export interface KvRow {
  key: string;
  /** As stored: sqlite-codec.ts decodes it. */
  value: string | Buffer;
  create_revision: number;
  mod_revision: number;
  /** The id of the change that holds the value (schema.ts changeId). */
  change: number;
}

/** A change of the log as a watch replays it. */
export interface ChangeRow {
  revision: number;
  key: string;
  /** As stored (sqlite-codec.ts); NULL on a delete. */
  value: string | Buffer | null;
  prev_value: string | Buffer | null;
}

/** The JSON text of a key's current value. */
export function textOf(row: KvRow, cache: ValueCache): string {
  return cache.get(row.change) ?? decodeValue(row.value)!;
}

/** A key's row as the entry the store returns (its own parsed copy). */
export function toEntry<T>(row: KvRow, cache: ValueCache): StoreEntry<T> {
  return { key: row.key, value: JSON.parse(textOf(row, cache)) as T, createRevision: row.create_revision, modRevision: row.mod_revision };
}

/** A logged change as the watch hub queues it; its previous value is decoded when first asked for. */
export function toChange(row: ChangeRow): Change {
  const prev = row.prev_value;
  return {
    revision: row.revision,
    key: row.key,
    type: row.value === null ? 'delete' : 'put',
    value: decodeValue(row.value),
    prevValue: prev === null ? null : once(() => decodeValue(prev)!),
  };
}

/** A text computed at most once, when first asked for. */
export function once(compute: () => string): () => string {
  let text: string | undefined;
  return () => (text ??= compute());
}

/** The message of a create that finds its key. */
export function exists(cur: KvRow): string {
  return `already exists (modRevision ${cur.mod_revision})`;
}

/** Throws NOT_FOUND without a row, CONFLICT when `expected` is given and is not the row's modRevision. */
export function checkExpected(key: string, cur: KvRow | undefined, expected: number | undefined): void {
  if (!cur) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `store: ${key}: not found`);
  if (expected !== undefined && cur.mod_revision !== expected) {
    throw new SkiffError('SKIFF_ERR_CONFLICT', `store: ${key}: modRevision is ${cur.mod_revision}, expected ${expected}`);
  }
}
