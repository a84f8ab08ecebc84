/**
 * The informers' objects of one kind (informer.ts), by cache key (`namespace/name`, or `name` for a cluster-scoped
 * kind) and by namespace: `list(namespace)` costs the objects of that namespace, not of the whole kind — handlers that
 * run on every change of a kind (the quota controller's `quotasOf`, the ReplicaSet and StatefulSet controllers' orphan
 * checks) list one namespace, and must not copy a 20,000-pod kind to do it (client-go's namespace indexer). The list
 * API's store-ordered index is api/list-index.ts.
 */
import type { KObject } from '../protocol/index.js';

/** One kind's cached objects: by key and by namespace. Callers must not mutate the objects. */
export class KindBucket {
  private readonly all = new Map<string, KObject>();
  /** Namespace ('' for cluster-scoped objects) → its objects by cache key. */
  private readonly byNamespace = new Map<string, Map<string, KObject>>();

  /** How many objects the kind has. */
  get size(): number {
    return this.all.size;
  }

  /** The object under a cache key. */
  get(key: string): KObject | undefined {
    return this.all.get(key);
  }

  /** Puts (adds or replaces) the object under `key`; `key` must be the object's cache key (informer.ts `cacheKey`). */
  set(key: string, obj: KObject): void {
    this.all.set(key, obj);
    const ns = obj.metadata.namespace ?? '';
    let objects = this.byNamespace.get(ns);
    if (!objects) this.byNamespace.set(ns, (objects = new Map()));
    objects.set(key, obj);
  }

  /** Removes the object under `key`. */
  delete(key: string): void {
    const obj = this.all.get(key);
    if (!obj) return;
    this.all.delete(key);
    const ns = obj.metadata.namespace ?? '';
    const objects = this.byNamespace.get(ns);
    objects?.delete(key);
    if (objects?.size === 0) this.byNamespace.delete(ns);
  }

  /** The entries (cache key, object), in no particular order. */
  entries(): IterableIterator<[string, KObject]> {
    return this.all.entries();
  }

  /** The objects, in no particular order. */
  values(): IterableIterator<KObject> {
    return this.all.values();
  }

  /** The objects of one namespace (every namespace when undefined), in no particular order (a new array). */
  list(namespace?: string): KObject[] {
    if (namespace === undefined) return [...this.all.values()];
    const objects = this.byNamespace.get(namespace);
    return objects ? [...objects.values()] : [];
  }
}
