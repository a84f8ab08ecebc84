/**
 * The store contract (etcd-like): get, list by prefix, create / update / delete with optimistic
 * concurrency on `modRevision`, and watch from a revision. Every write bumps one global revision.
 * Implementations: SQLite (embedded default, sqlite.ts) and etcd v3 (etcd.ts). One contract suite
 * (test/store/contract.ts) runs against both.
 */
import type { SkiffError } from '../../protocol/errors.js';

/** A stored value with its revisions. */
export interface StoreEntry<T = unknown> {
  key: string;
  value: T;
  /** The global revision of the write that created the key. */
  createRevision: number;
  /** The global revision of the last write to the key; the optimistic-concurrency token. */
  modRevision: number;
}

/** A change seen by a watcher. `prevValue` is the value before the change (undefined on create). */
export interface WatchEvent<T = unknown> {
  type: 'put' | 'delete';
  key: string;
  /** The new value (put) or the deleted value (delete). */
  value: T;
  prevValue?: T;
  /** The global revision of this change. */
  revision: number;
  /** True on the put that created the key. */
  created?: boolean;
}

/** One operation of a transaction (`Store.txn`): the single-key writes, with the same checks. */
export type TxnOp =
  | { op: 'create'; key: string; value: unknown }
  | { op: 'update'; key: string; value: unknown; expectedModRevision?: number }
  | { op: 'delete'; key: string; expectedModRevision?: number };

/** What a transaction wrote: one entry per op, in op order (a delete's is the key's last entry), and the revision they share. */
export interface TxnResult {
  revision: number;
  entries: StoreEntry[];
}

/** A running watch; `close` stops delivery. */
export interface Watch {
  close(): void;
}

/** The key/value store behind the control plane. Values are JSON-serialisable. */
export interface Store {
  /** One key, or undefined. */
  get<T = unknown>(key: string): Promise<StoreEntry<T> | undefined>;
  /** Every key under a prefix, ordered by key, with the store revision the list was read at. */
  list<T = unknown>(prefix: string): Promise<{ entries: StoreEntry<T>[]; revision: number }>;
  /** Creates a key; throws SkiffError SKIFF_ERR_ALREADY_EXISTS if it exists. */
  create<T = unknown>(key: string, value: T): Promise<StoreEntry<T>>;
  /**
   * Replaces a key's value. With `expectedModRevision`, throws SKIFF_ERR_CONFLICT unless the key's
   * modRevision is exactly that. Throws SKIFF_ERR_NOT_FOUND if the key does not exist.
   */
  update<T = unknown>(key: string, value: T, expectedModRevision?: number): Promise<StoreEntry<T>>;
  /** Deletes a key and returns its last entry; SKIFF_ERR_NOT_FOUND / SKIFF_ERR_CONFLICT as update. */
  delete<T = unknown>(key: string, expectedModRevision?: number): Promise<StoreEntry<T>>;
  /**
   * Several writes as one: every op applies or none does (the first op that cannot apply throws its own
   * error — ALREADY_EXISTS, NOT_FOUND, CONFLICT — with `details[0].field` = `ops[i]`). All writes share one
   * new revision, as in one etcd Txn; watchers see them in op order. At most `maxTxnOps` ops on distinct
   * keys and `maxTxnBytes` of values (etcd's request limits, kept by both stores alike): more is
   * SKIFF_ERR_BAD_REQUEST.
   */
  txn(ops: readonly TxnOp[]): Promise<TxnResult>;
  /**
   * Delivers, in revision order, every change under `prefix` with revision > `fromRevision`
   * (history first, then live). `fromRevision` undefined: only changes from now on.
   * Throws SKIFF_ERR_CONFLICT ("compacted") when history before `fromRevision` is gone.
   * `onError` is called at most once, when the watch stops by itself: on etcd, when its resume
   * point was compacted while it reconnected (SKIFF_ERR_CONFLICT "compacted": list again) or etcd
   * cancelled it (SKIFF_ERR_UNAVAILABLE). Nothing is delivered after it. SQLite never calls it.
   */
  watch<T = unknown>(prefix: string, fromRevision: number | undefined, onEvent: (e: WatchEvent<T>) => void, onError?: (err: SkiffError) => void): Watch;
  /** The current global revision. */
  revision(): Promise<number>;
  /**
   * Without waiting: a revision no read or acknowledged write of this store has gone past yet — every value a reader
   * was given, every write a writer was told of, is at or below it. SQLite: the revision on disk (reads and answers
   * wait for the fsync). Absent when only `revision()` can tell (etcd: other masters write too).
   */
  revealedRevision?(): number | undefined;
  /** Forgets change history at or below `revision` (values stay). */
  compact(revision: number): Promise<void>;
  /** Closes the store; an acknowledged write is on disk before its promise resolved. */
  close(): Promise<void>;
}

/** One key of a snapshot, its value still as the JSON text the store keeps. */
export interface SnapshotEntry {
  key: string;
  text: string;
  createRevision: number;
  modRevision: number;
}

/** Every key of a store, read at one revision. */
export interface Snapshot {
  /** The store revision the keys were read at. */
  revision: number;
  /** Ordered by key. */
  entries: SnapshotEntry[];
}

/** How a snapshot is loaded into a store. */
export interface RestoreOptions {
  /** Replace whatever the store holds (default: refuse a store that has keys). */
  force?: boolean;
  /** Leave the store this many revisions past the snapshot's (as etcdutl snapshot restore --bump-revision). Default 0. */
  bumpRevision?: number;
  /** Called as keys are written. */
  onProgress?: (written: number, total: number) => void;
}

/** A store that can be read whole at one revision and loaded from such a read (backup, restore, migrate). */
export interface SnapshotStore extends Store {
  /** Which implementation: recorded in backup files. */
  readonly kind: 'sqlite' | 'etcd';
  /** Every key with its JSON text and revisions, at one revision. */
  snapshot(): Promise<Snapshot>;
  /** How many keys the store holds. */
  count(): Promise<number>;
  /**
   * Loads a snapshot: the same keys and values, the store left at the snapshot's revision (+ bump),
   * history before that refused as compacted. Throws SKIFF_ERR_CONFLICT when the store has keys,
   * unless `force`. SQLite keeps every key's revisions; etcd cannot set revisions, so each key gets
   * a new one ≥ its old one and ≤ the snapshot's (docs/state.md). Reopen the store afterwards (etcd
   * closes it: its revision offset changed).
   */
  restore(snapshot: Snapshot, options?: RestoreOptions): Promise<{ revision: number }>;
}
