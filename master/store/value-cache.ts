/**
 * The JSON text of recently written values, by change id, so that reading a value the master wrote a moment
 * ago (a `get` before the next update, a watch event's previous value) does not inflate it again. A change id
 * names one immutable value (schema.ts), so an entry never goes stale; only a restore reuses ids, and it
 * clears the cache. Bounded by the total length of the texts; the oldest go first.
 */

/**
 * The total length of the texts kept, in UTF-16 code units (~2 MB of one-byte strings, ~1,700 pods). Reads that follow
 * their write closely are what it is for (the informers' cache answers the rest): in a 20,000-pod rollout 97 % of its
 * lookups still hit at this size, and 8 MB of it was ~5 % of the master's live heap (docs/scale.md, "Peak RSS").
 */
export const valueCacheChars = 2 * 1024 * 1024;

/** Change id → JSON text, first in first out. */
export class ValueCache {
  private readonly texts = new Map<number, string>();
  /** Ids in the order they came, from `head` on (a Map iterated from its start walks over its deleted entries). */
  private order: number[] = [];
  private head = 0;
  private chars = 0;

  constructor(private readonly limit = valueCacheChars) {}

  /** The text of change `id`, if kept. */
  get(id: number): string | undefined {
    return this.texts.get(id);
  }

  /** Keeps the text of a committed change. */
  set(id: number, text: string): void {
    if (text.length > this.limit / 8 || this.texts.has(id)) return; // a huge value would push out everything else
    this.texts.set(id, text);
    this.order.push(id);
    this.chars += text.length;
    while (this.chars > this.limit) {
      const old = this.order[this.head++]!;
      this.chars -= this.texts.get(old)!.length;
      this.texts.delete(old);
    }
    if (this.head > 4096 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.head = 0;
    }
  }

  /** Forgets everything (a restore reuses change ids). */
  clear(): void {
    this.texts.clear();
    this.order = [];
    this.head = 0;
    this.chars = 0;
  }
}
