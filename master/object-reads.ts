/**
 * The reads of the object layer that the informers' cache can answer instead of the store (an sqlite get, an
 * inflate and a JSON.parse each), kept exact the way kube-apiserver and its controllers keep them:
 * - **the current object of a read-modify-write** (Objects.mutate) comes from the cache when it has it; the write
 *   is a compare-and-swap on the cached modRevision, so a stale copy costs a conflict and a retry from the store,
 *   never a lost update (client-go's "update from the lister with a resourceVersion precondition");
 * - **what admission reads on every create** — the Namespace, its ResourceQuotas and LimitRanges — comes from the
 *   cache once the cache has seen every write this master made to those kinds in that namespace (the fence below),
 *   else from the store. A quota read from the cache is still charged by a compare-and-swap of its modRevision in
 *   the create's own transaction (admission/batch.ts): two creates racing for the last unit cannot both win.
 * The cache's objects are shared: whatever is handed out for changing is a copy.
 */
import { kindOf, kindPrefix, objectKey, type KObject } from '../protocol/index.js';
import type { Store } from './store/types.js';

/** What Objects reads from the informers' cache (Informers has this shape). */
export interface ObjectCache {
  /** True once the cache is filled (the first list is in). */
  readonly ready: boolean;
  /** The store revision the cache reflects. */
  readonly revision: number;
  get(kind: string, namespace: string | undefined, name: string): KObject | undefined;
  list(kind: string, namespace?: string): KObject[];
}

/** An object as read for admission, with the revision a compare-and-swap expects. `cached`: shared with the cache, copy before changing it. */
export interface ReadObject<T extends KObject = KObject> {
  value: T;
  modRevision: number;
  cached: boolean;
}

/** The kinds admission reads on every create; their writes fence the cache (see CachedReads). */
const fencedPlurals = new Map([
  ['namespaces', 'Namespace'],
  ['resourcequotas', 'ResourceQuota'],
  ['limitranges', 'LimitRange'],
]);

/** The store key prefixes of the fenced kinds (`/registry/{plural}/`). */
const fencedPrefixes = [...fencedPlurals.keys()].map((plural) => `/registry/${plural}/`);

/** True when `key` is under a fenced kind's prefix. */
function isFenced(key: string): boolean {
  for (const p of fencedPrefixes) if (key.startsWith(p)) return true;
  return false;
}

/** A fenced kind's store key as kind, namespace and name (`/registry/namespaces/{name}`, `/registry/{plural}/{ns}/{name}`); undefined for other keys. */
function fencedRef(key: string): { kind: string; namespace: string | undefined; name: string; fence: string } | undefined {
  // Every write asks (Objects tells the reads of each): the other kinds' keys — all but a few — are told apart
  // without splitting them.
  if (!isFenced(key)) return undefined;
  const parts = key.split('/');
  const kind = parts[1] === 'registry' ? fencedPlurals.get(parts[2]!) : undefined;
  if (!kind || parts[3] === undefined) return undefined;
  return kind === 'Namespace' ? { kind, namespace: undefined, name: parts[3], fence: parts[3] } : { kind, namespace: parts[3], name: parts[4] ?? '', fence: parts[3] };
}

/** The namespace a fenced kind's store key belongs to; undefined for other keys. */
export function fenceOf(key: string): string | undefined {
  return fencedRef(key)?.fence;
}

/** A write this master made to a fenced kind, not yet known to be in the cache. */
interface Fence {
  revision: number;
  deleted: boolean;
}

/** The cache-or-store reads of one Objects. */
export class CachedReads {
  /** namespace → key → the last write this master made to that Namespace, ResourceQuota or LimitRange, until the cache has it. */
  private readonly fences = new Map<string, Map<string, Fence>>();

  constructor(
    private readonly store: Store,
    private readonly cache: ObjectCache | undefined,
  ) {}

  /** The cached object (shared: never change it), or undefined when the cache is not filled or lacks it (or its revision). */
  cached(kind: string, namespace: string | undefined, name: string): KObject | undefined {
    const o = this.cache?.ready ? this.cache.get(kind, namespace, name) : undefined;
    return o && Number.isSafeInteger(Number(o.metadata.resourceVersion)) ? o : undefined;
  }

  /**
   * The cache when it may answer admission's reads of `namespace`: filled, and past the last write this master made
   * there to a fenced kind — a quota or namespace change acknowledged to a client is seen by every create after it.
   */
  private fresh(namespace: string): ObjectCache | undefined {
    const cache = this.cache;
    if (!cache?.ready) return undefined;
    const fences = this.fences.get(namespace);
    if (fences === undefined) return cache;
    for (const [key, f] of fences) if (this.seen(cache, key, f)) fences.delete(key);
    if (fences.size > 0) return undefined;
    this.fences.delete(namespace);
    return cache;
  }

  /**
   * Whether the cache has a fenced write. Judged by the key itself, not by the cache's revision alone: the changes of
   * one transaction share a revision and may reach the cache over several turns. The cache past the write's revision
   * has all of it; at it, a put is in when the key's copy is at least that new, a delete when the key is gone.
   */
  private seen(cache: ObjectCache, key: string, f: Fence): boolean {
    if (cache.revision > f.revision) return true;
    const ref = fencedRef(key)!;
    const copy = cache.get(ref.kind, ref.namespace, ref.name);
    if (f.deleted) return cache.revision >= f.revision && copy === undefined;
    return copy !== undefined && Number(copy.metadata.resourceVersion) >= f.revision;
  }

  /** The Namespace `name` (undefined when absent): from a fresh cache, else (or when the cache lacks it) from the store. */
  async namespace(name: string): Promise<KObject | undefined> {
    const hit = this.fresh(name)?.get('Namespace', undefined, name);
    if (hit) return hit;
    return (await this.store.get<KObject>(objectKey(kindOf('Namespace'), undefined, name)))?.value;
  }

  /** Every object of a fenced kind in `namespace`, from a fresh cache unless `fromStore`. */
  async list<T extends KObject>(kind: 'ResourceQuota' | 'LimitRange', namespace: string, fromStore = false): Promise<ReadObject<T>[]> {
    const cache = fromStore ? undefined : this.fresh(namespace);
    if (cache) return cache.list(kind, namespace).map((o) => ({ value: o as T, modRevision: Number(o.metadata.resourceVersion), cached: true }));
    const { entries } = await this.store.list<T>(kindPrefix(kindOf(kind), namespace));
    return entries.map((e) => ({ value: e.value, modRevision: e.modRevision, cached: false }));
  }

  /** Tells the reads of a committed write of `key` at `revision` (a delete: at or before it): a fenced kind's write fences its namespace until the cache has it. */
  wrote(key: string, revision: number, deleted = false): void {
    const ns = this.cache ? fenceOf(key) : undefined;
    if (ns === undefined) return;
    let fences = this.fences.get(ns);
    if (!fences) this.fences.set(ns, (fences = new Map()));
    const prev = fences.get(key);
    if (!prev || prev.revision <= revision) fences.set(key, { revision, deleted });
  }
}
