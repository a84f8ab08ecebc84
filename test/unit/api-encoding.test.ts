/**
 * Answers built from cached objects' bytes (master/api/encoding.ts) are byte for byte what encoding the whole answer
 * gives, in msgpack (every array header size) and JSON; unmarked answers are encoded as before.
 */
import { describe, expect, it } from 'vitest';
import { encodeAnswer, sharedObjects } from '../../master/api/encoding.js';
import { decode, encode, type Codec, type KObject } from '../../protocol/index.js';

const pod = (i: number): KObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i}`, namespace: 'default', resourceVersion: String(i), labels: { app: 'web', 'ünï': 'çødé' } }, spec: { containers: [{ name: 'c', command: ['sleep', String(i)] }] }, status: { phase: 'Running', startTime: 1.5 } }) as KObject;

const list = (n: number) => ({ apiVersion: 'v1', kind: 'List', items: Array.from({ length: n }, (_, i) => pod(i)), metadata: { resourceVersion: '99' } });

describe('encodeAnswer', () => {
  for (const codec of ['msgpack', 'json'] as Codec[])
    for (const n of [0, 1, 15, 16, 300, 65_535, 65_536])
      it(`a marked list of ${n} in ${codec} is the full encoding, twice`, () => {
        const result = list(n);
        const res = { id: 'r1', ok: true, result: sharedObjects(result) };
        const want = encode({ id: 'r1', ok: true, result: list(n) }, codec);
        expect(encodeAnswer(res, codec).equals(want)).toBe(true);
        // The second time from the kept bytes: the same again.
        expect(encodeAnswer(res, codec).equals(want)).toBe(true);
      });

  for (const codec of ['msgpack', 'json'] as Codec[])
    it(`a marked watch event in ${codec} is the full encoding`, () => {
      const o = pod(7);
      const res = { id: 'w', ok: true, event: sharedObjects({ type: 'MODIFIED' as const, object: o }) };
      expect(encodeAnswer(res, codec).equals(encode({ id: 'w', ok: true, event: { type: 'MODIFIED', object: pod(7) } }, codec))).toBe(true);
      expect(decode(encodeAnswer(res, codec)).value).toEqual({ id: 'w', ok: true, event: { type: 'MODIFIED', object: pod(7) } });
    });

  it('an unmarked answer is encoded whole (a copy redaction made, an object from the store)', () => {
    const res = { id: 'x', ok: true, result: list(3) };
    expect(encodeAnswer(res, 'msgpack').equals(encode(res, 'msgpack'))).toBe(true);
  });
});
