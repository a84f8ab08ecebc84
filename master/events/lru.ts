/**
 * A map in least-recently-used order with O(1) touch and O(1) oldest, for the event store and the correlator.
 * A plain Map used that way (delete + set to move a key to the end, `keys().next()` for the oldest) is not O(1) in
 * V8: each delete leaves a hole at the front of the table until the next rehash, and `keys().next()` walks past
 * every hole — thousands at 10,000 kept events, which made recording one event cost ~20 µs in a rollout.
 * Here the order is a doubly linked list beside the Map, so nothing is ever deleted to be moved.
 */

interface Node<K, V> {
  key: K;
  value: V;
  older: Node<K, V> | undefined;
  newer: Node<K, V> | undefined;
}

/** Keys in the order they were last set: oldest first. */
export class LruMap<K, V> {
  private readonly nodes = new Map<K, Node<K, V>>();
  private oldest: Node<K, V> | undefined;
  private newest: Node<K, V> | undefined;

  /** How many keys it holds. */
  get size(): number {
    return this.nodes.size;
  }

  /** The value of `key`, without changing the order. */
  get(key: K): V | undefined {
    return this.nodes.get(key)?.value;
  }

  /** Sets `key` to `value` and makes it the newest. */
  set(key: K, value: V): void {
    const n = this.nodes.get(key);
    if (!n) {
      const node: Node<K, V> = { key, value, older: this.newest, newer: undefined };
      if (this.newest) this.newest.newer = node;
      else this.oldest = node;
      this.newest = node;
      this.nodes.set(key, node);
      return;
    }
    n.value = value;
    if (n === this.newest) return;
    this.unlink(n);
    n.older = this.newest;
    n.newer = undefined;
    this.newest!.newer = n;
    this.newest = n;
  }

  /** Removes `key`; true when it was there. */
  delete(key: K): boolean {
    const n = this.nodes.get(key);
    if (!n) return false;
    this.unlink(n);
    this.nodes.delete(key);
    return true;
  }

  /** The least recently set key, or undefined when empty. */
  oldestKey(): K | undefined {
    return this.oldest?.key;
  }

  /** The least recently set value, or undefined when empty. */
  oldestValue(): V | undefined {
    return this.oldest?.value;
  }

  /** The values, oldest first. */
  *values(): IterableIterator<V> {
    for (let n = this.oldest; n; n = n.newer) yield n.value;
  }

  private unlink(n: Node<K, V>): void {
    if (n.older) n.older.newer = n.newer;
    else this.oldest = n.newer;
    if (n.newer) n.newer.older = n.older;
    else this.newest = n.older;
    n.older = n.newer = undefined;
  }
}
