/**
 * The informers' objects of one kind (informer.ts), indexed the ways readers ask for them:
 * - by cache key (`namespace/name`, or `name` for a cluster-scoped kind): `get`;
 * - by namespace: `list(namespace)` costs the objects of that namespace, not of the whole kind — handlers that run
 *   on every change of a kind (the quota controller's `quotasOf`, the ReplicaSet controller's orphan check) list one
 *   namespace, and must not copy a 20,000-pod kind to do it (client-go's namespace indexer);
 * - in key order, the order the store lists in: `ordered(namespace?)`, for the list API (Kubernetes' watch cache keeps
 *   its objects in a B-tree for the same reason). The order is kept as an array of keys, sorted when asked for after
 *   the key set changed; a key added is appended and a key removed dropped then, so the sort sees a sorted array with
 *   a short unsorted tail (V8's TimSort merges it in about linear time) instead of sorting from scratch each list.
 *   A change of an object's value keeps its key and costs nothing here.
 */
import type { KObject } from '../protocol/index.js';

/** The objects of one namespace (or of every namespace), with their keys in order once asked for. */
class Keyed {
  readonly objects = new Map<string, KObject>();
  /**
   * Every key, sorted while `dirty` is false; may hold removed or repeated keys until the next sort. Undefined until
   * the order is first asked for (most namespaces of most kinds never are: no array is kept for them).
   */
  private order: string[] | undefined;
  private dirty = false;

  set(key: string, obj: KObject): void {
    const size = this.objects.size;
    this.objects.set(key, obj);
    if (this.objects.size === size || !this.order) return; // a change of an existing object: the key set is the same
    this.order.push(key);
    this.dirty = true;
  }

  delete(key: string): void {
    if (!this.objects.delete(key) || !this.order) return;
    this.dirty = true;
    // Removed keys leave the array at the next sort; one that is not asked for again must not grow without bound.
    if (this.order.length > 2 * this.objects.size + 1024) this.sort();
  }

  /** The objects in key order (a new array). */
  ordered(): KObject[] {
    if (!this.order) {
      this.order = [...this.objects.keys()];
      this.dirty = true;
    }
    if (this.dirty) this.sort();
    const order = this.order!;
    const out: KObject[] = new Array(order.length);
    for (let i = 0; i < order.length; i++) out[i] = this.objects.get(order[i]!)!;
    return out;
  }

  // Sorts the keys and drops the ones removed since, and repeats (a key removed and added again before a sort).
  private sort(): void {
    const order = this.order!;
    order.sort();
    let n = 0;
    for (const k of order) if (this.objects.has(k) && (n === 0 || order[n - 1] !== k)) order[n++] = k;
    order.length = n;
    this.dirty = false;
  }
}

/** One kind's cached objects: by key, by namespace, and in key order. Callers must not mutate the objects. */
export class KindBucket {
  private readonly all = new Keyed();
  /** Namespace ('' for cluster-scoped objects) → its objects. */
  private readonly byNamespace = new Map<string, Keyed>();

  /** How many objects the kind has. */
  get size(): number {
    return this.all.objects.size;
  }

  /** The object under a cache key. */
  get(key: string): KObject | undefined {
    return this.all.objects.get(key);
  }

  /** Puts (adds or replaces) the object under `key`; `key` must be the object's cache key (informer.ts `cacheKey`). */
  set(key: string, obj: KObject): void {
    this.all.set(key, obj);
    const ns = obj.metadata.namespace ?? '';
    let keyed = this.byNamespace.get(ns);
    if (!keyed) this.byNamespace.set(ns, (keyed = new Keyed()));
    keyed.set(key, obj);
  }

  /** Removes the object under `key`. */
  delete(key: string): void {
    const obj = this.all.objects.get(key);
    if (!obj) return;
    this.all.delete(key);
    const ns = obj.metadata.namespace ?? '';
    const keyed = this.byNamespace.get(ns);
    keyed?.delete(key);
    if (keyed?.objects.size === 0) this.byNamespace.delete(ns);
  }

  /** The entries (cache key, object), in no particular order. */
  entries(): IterableIterator<[string, KObject]> {
    return this.all.objects.entries();
  }

  /** The objects, in no particular order. */
  values(): IterableIterator<KObject> {
    return this.all.objects.values();
  }

  /** The objects of one namespace (every namespace when undefined), in no particular order (a new array). */
  list(namespace?: string): KObject[] {
    if (namespace === undefined) return [...this.all.objects.values()];
    const keyed = this.byNamespace.get(namespace);
    return keyed ? [...keyed.objects.values()] : [];
  }

  /**
   * The objects of one namespace (every namespace when undefined) in cache-key order — `namespace/name` compared as
   * strings, which is the order of their store keys (`/registry/{plural}/{namespace}/{name}`) — a new array.
   */
  ordered(namespace?: string): KObject[] {
    if (namespace === undefined) return this.all.ordered();
    return this.byNamespace.get(namespace)?.ordered() ?? [];
  }
}
