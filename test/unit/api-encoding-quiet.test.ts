/**
 * The bytes kept for lists (master/api/encoding.ts: each object version's, and a list answered twice joined) are let
 * go once no list has been answered in their format for `keptBytesQuietMs`; a list meanwhile keeps them, and an answer
 * after the release is still the whole answer's encoding. Its own file: the release's timer is module state, and the
 * clock here is vitest's from the first list on.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeAnswer, hasCachedBytes, keptBytesQuietMs, sharedObjects } from '../../master/api/encoding.js';
import { decode, decodeRecords, type KObject } from '../../protocol/index.js';

const pod = (i: number): KObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i}`, namespace: 'default', resourceVersion: String(i) }, spec: { containers: [{ name: 'c' }] } }) as KObject;

describe('bytes kept for lists', () => {
  beforeAll(() => void vi.useFakeTimers());
  afterAll(() => void vi.useRealTimers());

  it('are let go after a quiet spell of their format, kept while lists come, and made again by the next list', () => {
    const items = Array.from({ length: 20 }, (_, i) => pod(i));
    const answer = (encoding: 'msgpack' | 'records' = 'msgpack') => encodeAnswer({ id: 'r', ok: true, result: sharedObjects({ apiVersion: 'v1', kind: 'List', items }) }, 'msgpack', encoding);
    const whole = (b: Buffer) => (decode(b).value as { result: { items: KObject[] } }).result.items;
    const wholeRecords = (b: Buffer) => {
      const a = decode(b).value as { result: Uint8Array; structures: unknown; strings: unknown };
      return (decodeRecords(a.result, a.structures as never, a.strings as never) as { items: KObject[] }).items;
    };

    expect(whole(answer())).toEqual(items);
    answer(); // the same array answered twice: joined
    expect(hasCachedBytes(items[0]!, 'msgpack')).toBe(true);
    vi.advanceTimersByTime(keptBytesQuietMs / 2);
    answer(); // a list meanwhile: the spell starts again
    answer('records');
    vi.advanceTimersByTime(keptBytesQuietMs / 2 + 1000);
    expect(hasCachedBytes(items[0]!, 'msgpack')).toBe(true);
    expect(hasCachedBytes(items[0]!, 'records')).toBe(true);
    vi.advanceTimersByTime(keptBytesQuietMs / 2);
    // Each format on its own clock: both were last listed at the same moment, so both are gone now.
    expect(hasCachedBytes(items[0]!, 'msgpack')).toBe(false);
    expect(hasCachedBytes(items.at(-1)!, 'records')).toBe(false);
    // The next list makes them again, and its answer is the whole list still (the joined array went with them).
    expect(whole(answer())).toEqual(items);
    expect(wholeRecords(answer('records'))).toEqual(items);
    expect(hasCachedBytes(items[0]!, 'msgpack')).toBe(true);
    vi.advanceTimersByTime(keptBytesQuietMs + 1);
    expect(hasCachedBytes(items[0]!, 'msgpack')).toBe(false);
  });

  it('one format listed keeps its bytes while the other quiet one lets go', () => {
    const items = [pod(100), pod(101)];
    const answer = (encoding: 'msgpack' | 'records') => encodeAnswer({ id: 'r', ok: true, result: sharedObjects({ items }) }, 'msgpack', encoding);
    answer('msgpack');
    answer('records');
    for (let t = 0; t < 3; t++) {
      vi.advanceTimersByTime(keptBytesQuietMs / 2);
      answer('records');
    }
    expect(hasCachedBytes(items[0]!, 'records')).toBe(true);
    expect(hasCachedBytes(items[0]!, 'msgpack')).toBe(false);
  });
});
