/**
 * A store wrapper that seals Secrets at rest (kube-apiserver's encryption at rest): every value under
 * `/registry/secrets/` is written as sealed text (seal.ts) and opened again on every read — get, list, the
 * entries writes return, and watch events (value and prevValue). Both stores (SQLite, etcd) sit beneath it
 * unchanged, so neither the file, its WAL, the change history, etcd nor a backup ever holds a Secret in the
 * clear; everything above it (the object layer, the informers) sees plain objects. Snapshots and restores pass
 * the sealed text through as it is: a backup is sealed, and opening it needs the data dir's encryption config.
 *
 * A plain value under the prefix (a store written before sealing existed) is read as it is — the identity
 * provider that kube-apiserver lists last — and `sealPlainSecrets` seals it at start.
 */
import { kindOf, kindPrefix, SkiffError } from '../../protocol/index.js';
import type { SnapshotStore, StoreEntry, TxnOp, TxnResult, Watch, WatchEvent } from '../store/types.js';
import { DelegatingStore } from '../store/delegating.js';
import type { SecretKeys } from './keys.js';
import { isSealed, keyNameOf, open, seal } from './seal.js';

/** The store prefix of Secrets. */
export const secretsPrefix = kindPrefix(kindOf('Secret'));

/** Passes of `reseal` before it gives up on writers racing it (each pass reseals what the one before missed). */
const maxPasses = 5;

/** A SnapshotStore whose Secrets are sealed beneath it. */
export class SealedStore extends DelegatingStore {
  constructor(
    inner: SnapshotStore,
    readonly keys: SecretKeys,
  ) {
    super(inner);
  }

  private sealed(key: string): boolean {
    return key.startsWith(secretsPrefix);
  }

  /** The value as stored: sealed text for a Secret. */
  private toStored<T>(key: string, value: T): T {
    if (!this.sealed(key)) return value;
    return seal(this.keys.current, Buffer.from(JSON.stringify(value), 'utf8'), key) as unknown as T;
  }

  /** The value as read: a Secret opened. */
  private fromStored<T>(key: string, value: T): T {
    if (!this.sealed(key) || !isSealed(value)) return value;
    return JSON.parse(open(this.keys, value, key).toString('utf8')) as T;
  }

  private entry<T>(e: StoreEntry<T>): StoreEntry<T>;
  private entry<T>(e: StoreEntry<T> | undefined): StoreEntry<T> | undefined;
  private entry<T>(e: StoreEntry<T> | undefined): StoreEntry<T> | undefined {
    return e && this.sealed(e.key) ? { ...e, value: this.fromStored(e.key, e.value) } : e;
  }

  // Every other key — all but a few of every read, write and event — goes to the store beneath and back as it is:
  // its own promise, without an async step of the wrapper's (a promise and a microtask per call).

  override get<T>(key: string): Promise<StoreEntry<T> | undefined> {
    if (!this.sealed(key)) return this.inner.get<T>(key);
    return this.opened(() => this.inner.get<T>(key));
  }

  override async list<T>(prefix: string): Promise<{ entries: StoreEntry<T>[]; revision: number }> {
    const { entries, revision } = await this.inner.list<T>(prefix);
    return { entries: entries.map((e) => this.entry(e)), revision };
  }

  override create<T>(key: string, value: T): Promise<StoreEntry<T>> {
    if (!this.sealed(key)) return this.inner.create<T>(key, value);
    return this.opened(() => this.inner.create<T>(key, this.toStored(key, value)));
  }

  override update<T>(key: string, value: T, expected?: number): Promise<StoreEntry<T>> {
    if (!this.sealed(key)) return this.inner.update<T>(key, value, expected);
    return this.opened(() => this.inner.update<T>(key, this.toStored(key, value), expected));
  }

  override delete<T>(key: string, expected?: number): Promise<StoreEntry<T>> {
    if (!this.sealed(key)) return this.inner.delete<T>(key, expected);
    return this.opened(() => this.inner.delete<T>(key, expected));
  }

  /** A Secret's call: sealing that throws rejects, as every call does; the entry it gives is opened. */
  private async opened<E extends StoreEntry<unknown> | undefined>(call: () => Promise<E>): Promise<E> {
    return this.entry(await call()) as E;
  }

  /** A transaction whose Secret writes are sealed, as single writes are; the entries it returns are opened. */
  override async txn(ops: readonly TxnOp[]): Promise<TxnResult> {
    const stored = ops.map((o) => (o.op === 'delete' ? o : { ...o, value: this.toStored(o.key, o.value) }));
    const { revision, entries } = await this.inner.txn(stored);
    return { revision, entries: entries.map((e) => this.entry(e)) };
  }

  override watch<T>(prefix: string, from: number | undefined, onEvent: (e: WatchEvent<T>) => void, onError?: (err: SkiffError) => void): Watch {
    return this.inner.watch<T>(
      prefix,
      from,
      (e) => {
        if (!this.sealed(e.key)) return onEvent(e);
        const prevValue = e.prevValue === undefined ? undefined : this.fromStored(e.key, e.prevValue);
        onEvent({ ...e, value: this.fromStored(e.key, e.value), ...(e.prevValue === undefined ? {} : { prevValue }) });
      },
      onError,
    );
  }

  // revision, compact, count, close, and snapshot/restore pass through: backups hold Secrets sealed.

  /**
   * Seals what is not sealed with the current key: plain Secrets (a store from before sealing) and, after a key
   * rotation, Secrets sealed with an older key. Each is rewritten through the store (optimistic concurrency; a
   * Secret changed meanwhile was sealed by that write). Then the change history is compacted to now, so no older
   * form remains in it. Throws (naming the key, never a value) when a Secret does not open with the config's keys:
   * a data dir whose encryption config went missing or was replaced must not start and seal new Secrets with a new
   * key while the old ones are lost.
   */
  async reseal(): Promise<{ resealed: number; total: number }> {
    let resealed = 0;
    let total = 0;
    // A write that began before a new key was added may land sealed with the old one: look again until none is left.
    for (let pass = 0; pass < maxPasses; pass++) {
      const { entries } = await this.inner.list<unknown>(secretsPrefix);
      total = entries.length;
      // Every sealed value must open: a config with the right key names but other keys must not start either.
      for (const e of entries) if (isSealed(e.value)) open(this.keys, e.value, e.key);
      const stale = entries.filter((e) => !isSealed(e.value) || keyNameOf(e.value) !== this.keys.current.name);
      if (stale.length === 0) break;
      for (const e of stale) {
        try {
          await this.inner.update(e.key, this.toStored(e.key, this.fromStored(e.key, e.value)), e.modRevision);
          resealed++;
        } catch (err) {
          if (!(err instanceof SkiffError && (err.code === 'SKIFF_ERR_CONFLICT' || err.code === 'SKIFF_ERR_NOT_FOUND'))) throw err;
        }
      }
    }
    if (resealed > 0) await this.inner.compact(await this.inner.revision());
    return { resealed, total };
  }
}
