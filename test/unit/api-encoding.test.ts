/**
 * Answers built from cached objects' bytes (master/api/encoding.ts) are byte for byte what encoding the whole answer
 * gives, in msgpack (every array header size) and JSON; unmarked answers are encoded as before.
 */
import { describe, expect, it } from 'vitest';
import { encodeAnswer, eventBytesKept, hasCachedBytes, joinInTurnsFrom, prepareAnswer, recentEvents, sharedObjects } from '../../master/api/encoding.js';
import type { LoopBudget } from '../../master/loop-budget.js';
import { decode, decodeRecords, encode, type Codec, type KObject } from '../../protocol/index.js';

const pod = (i: number): KObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i}`, namespace: 'default', resourceVersion: String(i), labels: { app: 'web', 'ünï': 'çødé' } }, spec: { containers: [{ name: 'c', command: ['sleep', String(i)] }] }, status: { phase: 'Running', startTime: 1.5 } }) as KObject;

const list = (n: number) => ({ apiVersion: 'v1', kind: 'List', items: Array.from({ length: n }, (_, i) => pod(i)), metadata: { resourceVersion: '99' } });

describe('prepareAnswer: a list\'s objects encoded in turns of the loop budget', () => {
  const tiny = { turn: () => 0, interrupted: () => false } as unknown as LoopBudget; // every turn spent after one object

  for (const encoding of ['msgpack', 'records'] as const)
    it(`(${encoding}) lets the loop run between turns, leaves every object's bytes made, and the answer is what it was`, async () => {
      const res = { id: 'r1', ok: true, result: sharedObjects(list(300)) };
      const items = res.result.items;
      let sawPartial = false;
      const tick = () => {
        if (!hasCachedBytes(items.at(-1)!, encoding)) {
          sawPartial ||= hasCachedBytes(items[0]!, encoding);
          setImmediate(tick);
        }
      };
      const preparing = prepareAnswer(res, 'msgpack', encoding, tiny);
      setImmediate(tick);
      expect(preparing).toBeInstanceOf(Promise);
      await preparing;
      expect(sawPartial).toBe(true); // other work ran while part of the list was encoded
      expect(items.every((o) => hasCachedBytes(o, encoding))).toBe(true);
      expect(prepareAnswer(res, 'msgpack', encoding, tiny)).toBeUndefined(); // nothing left: answered in the same task
      if (encoding === 'msgpack') expect(encodeAnswer(res, 'msgpack').equals(encode({ id: 'r1', ok: true, result: list(300) }))).toBe(true);
      else expect(decode(encodeAnswer(res, 'msgpack', 'records')).value).toMatchObject({ id: 'r1', ok: true, encoding: 'records' });
    });

  for (const [codec, encoding] of [['msgpack', 'msgpack'], ['json', 'msgpack'], ['msgpack', 'records']] as const)
    it(`(${codec}, ${encoding}) joins a long list's bytes in turns too, and the answer is byte for byte the whole encoding`, async () => {
      const n = joinInTurnsFrom + 517;
      const res = { id: 'r2', ok: true, result: sharedObjects(list(n)) };
      // Every object's bytes made first: what is left is the join, still not in one task.
      for (let from = 0; from < n; from += joinInTurnsFrom - 1)
        await prepareAnswer({ id: 'w', ok: true, result: sharedObjects({ items: res.result.items.slice(from, from + joinInTurnsFrom - 1) }) }, codec, encoding, tiny);
      expect(res.result.items.every((o) => hasCachedBytes(o, encoding === 'records' ? 'records' : codec))).toBe(true);
      let ticks = 0;
      let preparing: Promise<void> | undefined;
      const tick = () => {
        ticks++;
        if (preparing) setImmediate(tick);
      };
      setImmediate(tick);
      preparing = prepareAnswer(res, codec, encoding, tiny);
      expect(preparing).toBeInstanceOf(Promise);
      await preparing;
      preparing = undefined;
      expect(ticks).toBeGreaterThan(2 * Math.floor(n / 64) - 2); // a turn per 64 items making, and again joining
      expect(prepareAnswer(res, codec, encoding, tiny)).toBeUndefined(); // joined: answered in the same task
      const plain = { id: 'r2', ok: true, result: list(n) };
      if (encoding === 'msgpack') expect(encodeAnswer(res, codec).equals(encode(plain, codec))).toBe(true);
      else {
        const answer = decode(encodeAnswer(res, 'msgpack', 'records')).value as { result: Uint8Array; structures: unknown; strings: unknown };
        expect(decodeRecords(answer.result, answer.structures, answer.strings)).toEqual(list(n));
      }
    });

  it('two answers of the same long list at once share one join', async () => {
    const n = joinInTurnsFrom + 100;
    const items = list(n).items;
    for (let from = 0; from < n; from += joinInTurnsFrom - 1)
      await prepareAnswer({ id: 'w', ok: true, result: sharedObjects({ items: items.slice(from, from + joinInTurnsFrom - 1) }) }, 'msgpack', 'msgpack', tiny);
    const answers = ['a', 'b'].map((id) => ({ id, ok: true, result: sharedObjects({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '99' } }) }));
    let turns = 0;
    const counting = { turn: () => (turns++, 0), interrupted: () => false } as unknown as LoopBudget; // a turn per 64 items, and one to start
    await Promise.all(answers.map((res) => prepareAnswer(res, 'msgpack', 'msgpack', counting)));
    // One join: ~n/64 turns collecting the bytes and ~n/64 copying them; two apart would take twice that.
    expect(turns).toBeLessThanOrEqual(2 * Math.ceil(n / 64) + 1);
    for (const res of answers) expect(encodeAnswer(res, 'msgpack').equals(encode({ ...res, result: list(n) }))).toBe(true);
  });

  it('does nothing for an answer that is not a marked list', () => {
    expect(prepareAnswer({ id: 'r', ok: true, result: list(3) }, 'msgpack', 'msgpack', tiny)).toBeUndefined();
    expect(prepareAnswer({ id: 'r', ok: false, error: { code: 'x' } }, 'json', 'msgpack', tiny)).toBeUndefined();
  });
});

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

  it('watch events keep the bytes of the latest objects only, and each event is still the full encoding', () => {
    // 20,000 pods watched by one client must not keep 20,000 byte strings (each pins a slab of Node's buffer pool).
    for (let i = 0; i < recentEvents + 300; i++) {
      const res = { id: 'w', ok: true, event: sharedObjects({ type: 'ADDED' as const, object: pod(10_000 + i) }) };
      if (i % 97 === 0) expect(encodeAnswer(res, 'msgpack').equals(encode({ id: 'w', ok: true, event: { type: 'ADDED', object: pod(10_000 + i) } }))).toBe(true);
      else encodeAnswer(res, 'msgpack');
    }
    expect(eventBytesKept('msgpack')).toBe(recentEvents);
  });

  it('an unmarked answer is encoded whole (a copy redaction made, an object from the store)', () => {
    const res = { id: 'x', ok: true, result: list(3) };
    expect(encodeAnswer(res, 'msgpack').equals(encode(res, 'msgpack'))).toBe(true);
  });
});

describe('encodeAnswer: watch events from a kept envelope', () => {
  // Each row: the events of one stream in order; every answer must be the full encoding, whatever was kept before.
  const ev = (id: string, type: string, i: number) => ({ id, ok: true, event: sharedObjects({ type: type as 'ADDED', object: pod(i) }) });
  for (const codec of ['msgpack', 'json'] as Codec[])
    it.each<[string, { id: string; ok: boolean; event: { type: string; object: KObject } }[]]>([
      ['one stream, one type, new objects', [ev('w1', 'ADDED', 1), ev('w1', 'ADDED', 2), ev('w1', 'ADDED', 300)]],
      ['types change between events', [ev('w1', 'ADDED', 1), ev('w1', 'MODIFIED', 1), ev('w1', 'DELETED', 1), ev('w1', 'ADDED', 2)]],
      ['two streams (ids of different lengths) interleaved', [ev('w1', 'ADDED', 1), ev('a-much-longer-request-id-0123456789', 'ADDED', 2), ev('w1', 'ADDED', 3)]],
    ])(`${codec}: %s`, (_what, answers) => {
      for (const res of answers) {
        const want = encode({ id: res.id, ok: res.ok, event: { type: res.event.type, object: res.event.object } }, codec);
        expect(encodeAnswer(res, codec).equals(want)).toBe(true);
      }
    });

  it('an event answer with more fields than the plain envelope is still encoded whole', () => {
    const res = { id: 'w', ok: true, event: sharedObjects({ type: 'ADDED' as const, object: pod(1) }), done: false };
    expect(encodeAnswer(res, 'msgpack').equals(encode({ id: 'w', ok: true, event: { type: 'ADDED', object: pod(1) }, done: false }, 'msgpack'))).toBe(true);
    expect(encodeAnswer({ ...res, done: undefined }, 'json').toString()).toBe(JSON.stringify({ id: 'w', ok: true, event: { type: 'ADDED', object: pod(1) } }));
  });
});
