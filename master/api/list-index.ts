/**
 * The informers' objects of a kind in the store's key order (namespace, then name), kept as changes arrive, for
 * `list` (issue 16: a list of 10,000 pods copied the cache, filtered it by namespace and sorted 10,000 keys on every
 * request — 7–35 ms of the master's thread once the heap is large). The order only changes when an object is added
 * or deleted; most changes (status) replace an object under a key it already has. So a kind's sorted keys are kept
 * and only merged with the keys added since (sorted alone: few) when a list asks; a namespace is a contiguous range
 * of them, found by binary search.
 *
 * Fed by the informers' change handlers (their public API), registered the first time a kind is listed: from then
 * on the index changes in the same call as the cache, so a list reads exactly what the cache holds.
 */
import type { KObject } from '../../protocol/index.js';
import type { ChangeHandler } from '../informer.js';
import { warmBytes } from './encoding.js';
import { ListWarmer } from './list-warm.js';

/** What the index needs of the informers. */
export interface ChangeSource {
  on(kind: string, handler: ChangeHandler): void;
}

/** An object's place in the store's order: `namespace/name` (`/name` for a cluster-scoped object). */
export function orderKey(o: KObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The first index of `sorted` whose key is ≥ `key`. */
function lowerBound(sorted: readonly string[], key: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One kind's objects by key, and its keys in order. */
export class KindIndex {
  private readonly objects = new Map<string, KObject>();
  /** Keys in order as of the last `keys()`; may still hold keys deleted since (skipped when merged). */
  private sorted: string[] = [];
  /** Keys added since the last `keys()` (unsorted; a key deleted and added again may be here twice). */
  private added: string[] = [];
  private deleted = 0;
  /**
   * The last list made, while nothing changed since (after a rollout, back-to-back lists of 10,000 pods each looked up
   * every key again). Dropped at the first change, so it never holds an object the cache has let go.
   */
  private last: { namespace: string | undefined; items: KObject[] } | undefined;
  /** Makes the bytes of changed objects before the next list asks, while lists ask (list-warm.ts). */
  readonly warmer = new ListWarmer((key) => this.objects.get(key), warmBytes);

  /** The informer change handler that keeps the index (obj undefined: deleted). */
  readonly onChange: ChangeHandler = (obj, _old, latest) => {
    this.last = undefined;
    const key = orderKey(latest);
    this.warmer.changed(key);
    if (!obj) {
      if (this.objects.delete(key)) this.deleted++;
      return;
    }
    if (!this.objects.has(key)) this.added.push(key);
    this.objects.set(key, obj);
  };

  /** Every key, in order. */
  keys(): readonly string[] {
    if (this.added.length === 0 && this.deleted === 0) return this.sorted;
    const added = this.added.sort(compare);
    const out: string[] = [];
    let i = 0;
    let j = 0;
    // A merge of two sorted lists, keeping each live key once.
    while (i < this.sorted.length || j < added.length) {
      const next = j >= added.length || (i < this.sorted.length && this.sorted[i]! <= added[j]!) ? this.sorted[i++]! : added[j++]!;
      if (this.objects.has(next) && out[out.length - 1] !== next) out.push(next);
    }
    this.sorted = out;
    this.added = [];
    this.deleted = 0;
    return out;
  }

  /**
   * The objects, in key order, of one namespace (or all): shared with the cache, never change them — nor the list,
   * which the next list of the same namespace may return again while nothing changed.
   */
  list(namespace?: string): KObject[] {
    if (this.last && this.last.namespace === namespace) return this.last.items;
    const keys = this.keys();
    // `ns/` … `ns0`: '0' follows '/', so this is exactly the keys that start with `ns/`.
    const from = namespace === undefined ? 0 : lowerBound(keys, `${namespace}/`);
    const to = namespace === undefined ? keys.length : lowerBound(keys, `${namespace}0`);
    const out = new Array<KObject>(to - from);
    for (let i = from; i < to; i++) out[i - from] = this.objects.get(keys[i]!)!;
    this.last = { namespace, items: out };
    return out;
  }

  /** How many objects it holds. */
  get size(): number {
    return this.objects.size;
  }
}

const indexes = new WeakMap<ChangeSource, Map<string, KindIndex>>();

/** The index of `kind` over `informers`, made (and fed from then on) on first use. */
export function listIndex(informers: ChangeSource, kind: string): KindIndex {
  let kinds = indexes.get(informers);
  if (!kinds) indexes.set(informers, (kinds = new Map()));
  let index = kinds.get(kind);
  if (!index) {
    index = new KindIndex();
    kinds.set(kind, index);
    informers.on(kind, index.onChange); // every cached object first, as adds
  }
  return index;
}
