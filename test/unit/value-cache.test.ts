/**
 * The store's value cache (master/store/value-cache.ts) keeps the texts of recent writes within its bound, oldest out
 * first, whatever is written: the master's memory does not grow with the number of writes.
 */
import { describe, expect, it } from 'vitest';
import { ValueCache, valueCacheChars } from '../../master/store/value-cache.js';

/** What the cache holds: the total length of the texts of ids 0..n-1 still kept, and the lowest id kept. */
function held(c: ValueCache, n: number): { chars: number; oldest: number } {
  let chars = 0;
  let oldest = -1;
  for (let id = 0; id < n; id++) {
    const t = c.get(id);
    if (t === undefined) continue;
    chars += t.length;
    if (oldest < 0) oldest = id;
  }
  return { chars, oldest };
}

describe('ValueCache', () => {
  it('stays within its bound through many writes, keeping the newest', () => {
    const c = new ValueCache();
    const text = 'x'.repeat(1200); // about a pod
    const n = Math.ceil((4 * valueCacheChars) / text.length);
    for (let id = 0; id < n; id++) c.set(id, `${id}:${text}`);
    const { chars, oldest } = held(c, n);
    expect(chars).toBeLessThanOrEqual(valueCacheChars);
    expect(chars).toBeGreaterThan(valueCacheChars - 2 * text.length);
    // Exactly the newest ones: everything from the oldest kept on is there.
    for (let id = oldest; id < n; id++) expect(c.get(id)).toBe(`${id}:${text}`);
    expect(c.get(oldest - 1)).toBeUndefined();
  });

  it('is bounded to a few megabytes, and keeps no value larger than an eighth of it', () => {
    expect(valueCacheChars).toBeLessThanOrEqual(4 * 1024 * 1024);
    const c = new ValueCache(1000);
    c.set(1, 'y'.repeat(126));
    c.set(2, 'z'.repeat(125));
    expect(c.get(1)).toBeUndefined();
    expect(c.get(2)).toBe('z'.repeat(125));
    c.clear();
    expect(c.get(2)).toBeUndefined();
  });
});
