/**
 * The informers' objects of one kind (informer.ts), by cache key (`namespace/name`, or `name` for a cluster-scoped
 * kind) and by namespace: `list(namespace)` costs the objects of that namespace, not of the whole kind — handlers that
 * run on every change of a kind (the quota controller's `quotasOf`, the ReplicaSet and StatefulSet controllers' orphan
 * checks) list one namespace, and must not copy a 20,000-pod kind to do it (client-go's namespace indexer). The list
 * API's store-ordered index is api/list-index.ts.
 */
import type { KObject } from '../protocol/index.js';

/** Where one cached object is: a new version replaces `obj` here, in both maps at once. */
interface Slot {
  obj: KObject;
  /** The namespace map it is in ('' for a cluster-scoped object). */
  readonly namespace: string;
}

/** One kind's cached objects: by key and by namespace. Callers must not mutate the objects. */
export class KindBucket {
  private readonly all = new Map<string, Slot>();
  /** Namespace ('' for cluster-scoped objects) → its objects' slots by cache key. */
  private readonly byNamespace = new Map<string, Map<string, Slot>>();

  /** How many objects the kind has. */
  get size(): number {
    return this.all.size;
  }

  /** The object under a cache key. */
  get(key: string): KObject | undefined {
    return this.all.get(key)?.obj;
  }

  /**
   * Puts (adds or replaces) the object under `key`; `key` must be the object's cache key (informer.ts `cacheKey`). A
   * new version of a cached object — nearly every change — takes its slot: one lookup, no map written.
   */
  set(key: string, obj: KObject): void {
    const namespace = obj.metadata.namespace ?? '';
    const slot = this.all.get(key);
    if (slot?.namespace === namespace) {
      slot.obj = obj;
      return;
    }
    if (slot) this.delete(key);
    const added: Slot = { obj, namespace };
    this.all.set(key, added);
    let objects = this.byNamespace.get(namespace);
    if (!objects) this.byNamespace.set(namespace, (objects = new Map()));
    objects.set(key, added);
  }

  /** Removes the object under `key`. */
  delete(key: string): void {
    const slot = this.all.get(key);
    if (!slot) return;
    this.all.delete(key);
    const objects = this.byNamespace.get(slot.namespace);
    objects?.delete(key);
    if (objects?.size === 0) this.byNamespace.delete(slot.namespace);
  }

  /** The entries (cache key, object), in no particular order. */
  *entries(): IterableIterator<[string, KObject]> {
    for (const [key, slot] of this.all) yield [key, slot.obj];
  }

  /** The objects, in no particular order. */
  *values(): IterableIterator<KObject> {
    for (const slot of this.all.values()) yield slot.obj;
  }

  /** The objects of one namespace (every namespace when undefined), in no particular order (a new array). */
  list(namespace?: string): KObject[] {
    const slots = namespace === undefined ? this.all : this.byNamespace.get(namespace);
    if (!slots) return [];
    const out = new Array<KObject>(slots.size);
    let i = 0;
    for (const slot of slots.values()) out[i++] = slot.obj;
    return out;
  }
}
