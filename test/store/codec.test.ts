/**
 * The value codec: what it writes now the previous release reads (raw deflate against dictionary 1, tagged), and
 * the other way round; a corrupt value fails clearly and the codec goes on working.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeValue, dictionary1, encodeValue } from '../../master/store/sqlite-codec.js';

const pod = (i: number) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `web-${i}`, namespace: 'default', uid: `uid-${i}`, labels: { app: 'web' } },
    spec: { containers: [{ name: 'main', image: 'nginx', env: Array.from({ length: i % 7 }, (_, k) => ({ name: `E${k}`, value: 'é'.repeat(k) })) }], nodeName: `node-${i % 13}` },
    status: { phase: 'Running', podIP: `10.0.${i % 250}.${i % 200}` },
  });

describe('value codec', () => {
  it('writes what the previous release reads, reads what it wrote, and no bigger', () => {
    let now = 0;
    let before = 0;
    for (let i = 0; i < 200; i++) {
      const text = pod(i);
      const stored = encodeValue(text) as Buffer;
      const previous = deflateRawSync(text, { dictionary: dictionary1 });
      expect(stored[0]).toBe(1);
      expect(inflateRawSync(stored.subarray(1), { dictionary: dictionary1 }).toString('utf8')).toBe(text);
      expect(decodeValue(Buffer.concat([Buffer.of(1), previous]))).toBe(text);
      expect(decodeValue(stored)).toBe(text);
      now += stored.length - 1;
      before += previous.length;
    }
    // A reused stream may pick other matches of the same length (zlib reads past the input in its window): a byte here or there.
    expect(Math.abs(now - before)).toBeLessThan(before * 0.01);
  });

  it('keeps short values as text, and a value bigger than its buffer round-trips', () => {
    expect(encodeValue('"short"')).toBe('"short"');
    const big = JSON.stringify({ data: Array.from({ length: 20_000 }, (_, i) => `${i}-${(i * 7919) % 10007}`) });
    expect(decodeValue(encodeValue(big))).toBe(big);
  });

  it('fails clearly on a corrupt value, then decodes good ones again', () => {
    const good = encodeValue(pod(1)) as Buffer;
    const bad = Buffer.from(good);
    bad[1] = 0xff; // block type 3: invalid
    expect(() => decodeValue(bad)).toThrow(/invalid block type/);
    expect(() => decodeValue(good.subarray(0, 10))).toThrow(/unexpected end/);
    expect(decodeValue(good)).toBe(pod(1));
    expect(decodeValue(encodeValue(pod(2)))).toBe(pod(2));
  });
});
