/**
 * Informers: an in-memory cache of every object, fed by one store watch, with change handlers per
 * kind (client-go's SharedInformer at edge scale). Controllers read from here and write through
 * Objects; handlers only queue keys.
 */
import { SkiffError, applyDefaults, kinds, type KObject, type Logger, type KindMap, type KindName } from '../protocol/index.js';
import type { Store, StoreEntry, Watch, WatchEvent } from './store/types.js';
import { ChangeWindow, type Change, type ChangeListener } from './watch-window.js';
import { cacheKey, KindBucket } from './informer-bucket.js';
import { reuseEqual } from './json-value.js';
import { RevisionWaiters } from './informer-waiters.js';
import { noController, OwnerIndex, sameOwners } from './informer-owners.js';

export { cacheKey } from './informer-bucket.js';

/**
 * A change handler: `obj` is the object now (undefined on delete), `old` the object before (undefined
 * on add), and `latest` whichever of the two exists (the object now, or as it was when deleted).
 */
export type ChangeHandler<T extends KObject = KObject> = (obj: T | undefined, old: T | undefined, latest: T) => void;

const pluralToKind = new Map<string, string>();

const registry = '/registry/';

/** The prefix (`/registry/{plural}/`) and kind of the last key kindOfKey found a kind for: changes come in runs of a kind. */
let lastPrefix: string | undefined;
let lastKind: string | undefined;

/** Kind of a store key `/registry/{plural}/...` (called for every change the cache sees: no split, no allocation but the plural). */
function kindOfKey(key: string): string | undefined {
  if (lastPrefix !== undefined && key.startsWith(lastPrefix)) return lastKind;
  if (!key.startsWith(registry)) return undefined;
  const end = key.indexOf('/', registry.length);
  const plural = key.slice(registry.length, end < 0 ? undefined : end);
  const kind = pluralToKind.get(plural);
  if (kind !== undefined && end >= 0) {
    lastPrefix = key.slice(0, end + 1);
    lastKind = kind;
  }
  if (kind !== undefined || pluralToKind.size === Object.keys(kinds).length) return kind;
  // A kind registered since the table was made: make it again.
  pluralToKind.clear();
  for (const k of Object.values(kinds)) pluralToKind.set(k.plural, k.kind);
  return pluralToKind.get(plural);
}

/** The cache key of an object (what controllers queue). */
export function keyOf(o: KObject): string {
  return cacheKey(o.metadata.namespace, o.metadata.name);
}

/** The shared cache of all objects. */
export class Informers {
  private readonly cache = new Map<string, KindBucket>();
  private readonly handlers = new Map<string, ChangeHandler[]>();
  private readonly uids = new Set<string>();
  /** kind → owner uid (or `noController`) → cache keys (informer-owners.ts). */
  private readonly owners = new OwnerIndex();
  private watch?: Watch;
  private readonly waiters = new RevisionWaiters();
  private stopped = false;
  /** Recent changes per kind, and the watches that start from a revision (watch-window.ts). */
  private readonly windows = new Map<string, ChangeWindow>();
  private readonly listeners = new Map<string, Set<ChangeListener>>();
  /** The revision of the last full list: what a new window holds changes after. */
  private listedAt = 0;
  /** The store revision the cache reflects. */
  revision = 0;
  /** True once the first list filled the cache (Objects reads from it from then on: object-reads.ts). */
  ready = false;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    /** Changes kept per kind for watches from a resourceVersion (MasterConfig.watchWindow). */
    private readonly windowSize = 4096,
  ) {}

  /** Lists everything and starts watching; resolves when the cache is filled. */
  async start(): Promise<void> {
    const { entries, revision } = await this.store.list<KObject>('/registry/');
    for (const e of entries) {
      const kind = kindOfKey(e.key);
      if (!kind) continue;
      applyDefaults(e.value).metadata.resourceVersion = String(e.modRevision);
      this.owners.move(kind, this.bucket(kind).set(e.value), e.value, undefined);
      if (e.value.metadata.uid) this.uids.add(e.value.metadata.uid);
    }
    this.revision = this.listedAt = revision;
    this.ready = true;
    this.watchFrom(revision);
  }

  // A watch that stops by itself (etcd: its resume point was compacted while it was cut off) is
  // replaced by a fresh list and a watch from that list's revision, as client-go's reflector does on 410.
  private watchFrom(revision: number): void {
    this.watch = this.store.watch<KObject>('/registry/', revision, (ev) => this.onEvent(ev), (err) => void this.relist(err));
  }

  private async relist(err: SkiffError): Promise<void> {
    this.log.warn('the store watch stopped; listing again', { err });
    for (let delayMs = 100; !this.stopped; delayMs = Math.min(delayMs * 2, 5000)) {
      try {
        const { entries, revision } = await this.store.list<KObject>('/registry/');
        if (this.stopped) return;
        // The replacement's changes carry the list's revision; the windows then start from it (what happened
        // while the watch was cut off is not known change by change: a watch from before it is GONE).
        this.revision = revision;
        this.replace(entries);
        this.listedAt = revision;
        for (const w of this.windows.values()) w.reset(revision);
        this.watchFrom(revision);
        return this.releaseWaiters(revision);
      } catch (e) {
        this.log.warn('list failed; retrying', { err: e, delayMs });
        await new Promise((r) => setTimeout(r, delayMs).unref());
      }
    }
  }

  // Brings the cache to a fresh list, telling handlers of every add, change and delete it implies.
  private replace(entries: StoreEntry<KObject>[]): void {
    const seen = new Set<string>();
    for (const e of entries) {
      const kind = kindOfKey(e.key);
      if (!kind) continue;
      applyDefaults(e.value).metadata.resourceVersion = String(e.modRevision);
      const { namespace, name } = e.value.metadata;
      seen.add(`${kind}\u0000${cacheKey(namespace, name)}`);
      const old = this.bucket(kind).get(namespace, name);
      if (old?.metadata.resourceVersion !== e.value.metadata.resourceVersion) this.apply(kind, e.value, old);
    }
    for (const [kind, b] of this.cache) for (const [k, old] of [...b.entries()]) if (!seen.has(`${kind}\u0000${k}`)) this.apply(kind, undefined, old);
  }

  /**
   * Resolves once the cache reflects store revision `revision` (a controller's own write), or after `timeoutMs`
   * (never hang a controller on a lost event: the next sync corrects) — callers that must know check `revision`.
   */
  waitForRevision(revision: number, timeoutMs = 5000): Promise<void> {
    if (this.revision >= revision) return Promise.resolve();
    return this.waiters.wait(revision, timeoutMs);
  }

  /** Stops watching. */
  stop(): void {
    this.stopped = true;
    this.watch?.close();
  }

  /** Registers a handler for a kind; it is called for every object already cached (as adds). */
  on<K extends KindName>(kind: K, handler: ChangeHandler<KindMap[K]>): void;
  on(kind: string, handler: ChangeHandler): void;
  on(kind: string, handler: ChangeHandler): void {
    const list = this.handlers.get(kind) ?? [];
    list.push(handler);
    this.handlers.set(kind, list);
    for (const o of this.bucket(kind).values()) handler(o, undefined, o);
  }

  /**
   * Streams the changes of a kind after store revision `fromRevision` (≤ `revision`: the caller waits for the cache
   * first), then every change as it happens; returns the function that stops it. Throws SKIFF_ERR_GONE when changes
   * after `fromRevision` already left the window. Replay and subscription happen in one turn: none is lost or doubled.
   */
  watchKind(kind: string, fromRevision: number, listener: ChangeListener): () => void {
    const past = this.window(kind).since(fromRevision);
    if (!past)
      throw new SkiffError('SKIFF_ERR_GONE', `resourceVersion ${fromRevision} is too old: the oldest ${kind} change this master still has is after ${this.window(kind).floor}; list again and watch from the list's resourceVersion`);
    for (const c of past) listener(c);
    let set = this.listeners.get(kind);
    if (!set) this.listeners.set(kind, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  }

  private window(kind: string): ChangeWindow {
    let w = this.windows.get(kind);
    if (!w) this.windows.set(kind, (w = new ChangeWindow(this.windowSize, this.listedAt)));
    return w;
  }

  /** True when an object with this uid exists (owner checks of the garbage collector). */
  hasUid(uid: string): boolean {
    return this.uids.has(uid);
  }

  /** Removes a handler registered with `on`. */
  off<K extends KindName>(kind: K, handler: ChangeHandler<KindMap[K]>): void;
  off(kind: string, handler: ChangeHandler): void;
  off(kind: string, handler: ChangeHandler): void {
    this.handlers.set(kind, (this.handlers.get(kind) ?? []).filter((h) => h !== handler));
  }

  /** A cached object (do not mutate it). */
  get<K extends KindName>(kind: K, namespace: string | undefined, name: string): KindMap[K] | undefined;
  get(kind: string, namespace: string | undefined, name: string): KObject | undefined;
  get(kind: string, namespace: string | undefined, name: string): KObject | undefined {
    return this.bucket(kind).get(namespace, name);
  }

  /**
   * Cached objects of a kind with an ownerReference to `ownerUid` (do not mutate them): a controller's
   * pods, a deleted owner's dependents, in time proportional to their number, not to the cache's.
   */
  dependents<K extends KindName>(kind: K, ownerUid: string): KindMap[K][];
  dependents(kind: string, ownerUid: string): KObject[];
  dependents(kind: string, ownerUid: string): KObject[] {
    return this.indexed(kind, ownerUid);
  }

  /** Cached objects of a kind without a controlling owner (candidates for adoption), optionally in one namespace. */
  orphans<K extends KindName>(kind: K, namespace?: string): KindMap[K][];
  orphans(kind: string, namespace?: string): KObject[];
  orphans(kind: string, namespace?: string): KObject[] {
    const all = this.indexed(kind, noController);
    return namespace ? all.filter((o) => o.metadata.namespace === namespace) : all;
  }

  private indexed(kind: string, bucketKey: string): KObject[] {
    const keys = this.owners.keys(kind, bucketKey);
    if (!keys) return [];
    const b = this.bucket(kind);
    return [...keys].flatMap((k) => b.getKey(k) ?? []);
  }

  /**
   * Cached objects of a kind, optionally in one namespace, in no particular order (do not mutate them; the array is
   * new). One namespace costs its own objects, not the kind's (informer-bucket.ts).
   */
  list<K extends KindName>(kind: K, namespace?: string): KindMap[K][];
  list(kind: string, namespace?: string): KObject[];
  list(kind: string, namespace?: string): KObject[] {
    return this.bucket(kind).list(namespace || undefined);
  }

  /**
   * The objects of one kind, keyed by `namespace/name`. The cache is filled from the store by key
   * prefix (kindOfKey), so a bucket holds only objects of its kind: that is what makes the typed
   * `get` and `list` above true.
   */
  private bucket(kind: string): KindBucket {
    let b = this.cache.get(kind);
    if (!b) this.cache.set(kind, (b = new KindBucket()));
    return b;
  }

  private onEvent(ev: WatchEvent<KObject>): void {
    this.revision = ev.revision;
    const kind = kindOfKey(ev.key);
    if (!kind) return this.releaseWaiters(ev.revision);
    const old = this.bucket(kind).get(ev.value.metadata.namespace, ev.value.metadata.name);
    if (ev.type === 'put') {
      applyDefaults(ev.value).metadata.resourceVersion = String(ev.revision);
      // What did not change since the cached version is the cached version's (json-value.ts reuseEqual): the parse's
      // copies of it die young instead of being kept for as long as the new version is.
      if (old) reuseEqual(ev.value, old);
    }
    this.apply(kind, ev.type === 'put' ? ev.value : undefined, old, ev.value);
    this.releaseWaiters(ev.revision);
  }

  // One change to the cache (obj undefined: deleted, `gone` the deleted value), then the kind's handlers.
  private apply(kind: string, obj: KObject | undefined, old: KObject | undefined, gone = old): void {
    const b = this.bucket(kind);
    // The owner index moves on an add, a delete, a new owner (a status update keeps them), by the bucket's cache key.
    const moves = !obj || !old || !sameOwners(obj, old);
    if (obj) {
      const key = b.set(obj);
      if (moves) this.owners.move(kind, key, obj, old);
      const uid = obj.metadata.uid;
      if (uid && uid !== old?.metadata.uid) this.uids.add(uid);
    } else {
      const { namespace, name } = (gone ?? old)!.metadata;
      const key = b.delete(namespace, name);
      if (moves && key !== undefined) this.owners.move(kind, key, undefined, old);
      if (gone?.metadata.uid) this.uids.delete(gone.metadata.uid);
    }
    const latest = obj ?? old;
    if (latest) this.record(kind, obj, old, latest);
    for (const h of this.handlers.get(kind) ?? []) {
      if (!latest) break;
      try {
        h(obj, old, latest);
      } catch (err) {
        this.log.error('handler failed', { kind, err });
      }
    }
  }

  // Into the kind's window and to its revision watches. A deleted object carries the deletion's revision as its
  // resourceVersion (as Kubernetes' DELETED events do), so a client resuming from it does not see the delete again.
  private record(kind: string, obj: KObject | undefined, old: KObject | undefined, latest: KObject): void {
    const revision = this.revision;
    const object = obj ?? { ...latest, metadata: { ...latest.metadata, resourceVersion: String(revision) } };
    const change: Change = { type: !obj ? 'DELETED' : old ? 'MODIFIED' : 'ADDED', object, revision };
    this.window(kind).add(change);
    for (const l of this.listeners.get(kind) ?? []) {
      try {
        l(change);
      } catch (err) {
        this.log.error('watch listener failed', { kind, err });
      }
    }
  }

  private releaseWaiters(revision: number): void {
    this.waiters.release(revision);
  }
}
