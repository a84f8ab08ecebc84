/**
 * The JSON text of recently written values, by change id, so that reading a value the master wrote a moment
 * ago (a `get` before the next update, a watch event's previous value) does not inflate it again. A change id
 * names one immutable value (schema.ts), so an entry never goes stale; only a restore reuses ids, and it
 * clears the cache. Bounded by the total length of the texts; the oldest go first.
 */

/** The total length of the texts kept, in UTF-16 code units (~8 MB of one-byte strings). */
export const valueCacheChars = 8 * 1024 * 1024;

/** Change id → JSON text, first in first out. */
export class ValueCache {
  private readonly texts = new Map<number, string>();
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
    this.chars += text.length;
    for (const [old, t] of this.texts) {
      if (this.chars <= this.limit) break;
      this.texts.delete(old);
      this.chars -= t.length;
    }
  }

  /** Forgets everything (a restore reuses change ids). */
  clear(): void {
    this.texts.clear();
    this.chars = 0;
  }
}
