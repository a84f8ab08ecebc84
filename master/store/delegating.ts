/**
 * A SnapshotStore that passes every call to the store beneath it: the base of wrappers that change a few calls
 * (secrets/sealed-store.ts seals Secrets, open.ts stops scheduled backups on close) and must pass the rest through
 * unchanged — one place to add a Store method to, not one per wrapper.
 */
import type { SkiffError } from '../../protocol/index.js';
import type { RestoreOptions, Snapshot, SnapshotStore, StoreEntry, TxnOp, TxnResult, Watch, WatchEvent } from './types.js';

/** Passes everything to `inner`; subclasses override what they change. */
export class DelegatingStore implements SnapshotStore {
  constructor(readonly inner: SnapshotStore) {}

  get kind() {
    return this.inner.kind;
  }
  get<T>(key: string): Promise<StoreEntry<T> | undefined> {
    return this.inner.get<T>(key);
  }
  list<T>(prefix: string): Promise<{ entries: StoreEntry<T>[]; revision: number }> {
    return this.inner.list<T>(prefix);
  }
  create<T>(key: string, value: T): Promise<StoreEntry<T>> {
    return this.inner.create<T>(key, value);
  }
  update<T>(key: string, value: T, expected?: number): Promise<StoreEntry<T>> {
    return this.inner.update<T>(key, value, expected);
  }
  delete<T>(key: string, expected?: number): Promise<StoreEntry<T>> {
    return this.inner.delete<T>(key, expected);
  }
  txn(ops: readonly TxnOp[]): Promise<TxnResult> {
    return this.inner.txn(ops);
  }
  watch<T>(prefix: string, from: number | undefined, onEvent: (e: WatchEvent<T>) => void, onError?: (err: SkiffError) => void): Watch {
    return this.inner.watch<T>(prefix, from, onEvent, onError);
  }
  revision(): Promise<number> {
    return this.inner.revision();
  }
  revealedRevision(): number | undefined {
    return this.inner.revealedRevision?.();
  }
  compact(revision: number): Promise<void> {
    return this.inner.compact(revision);
  }
  snapshot(): Promise<Snapshot> {
    return this.inner.snapshot();
  }
  count(): Promise<number> {
    return this.inner.count();
  }
  restore(snapshot: Snapshot, options?: RestoreOptions): ReturnType<SnapshotStore['restore']> {
    return this.inner.restore(snapshot, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
