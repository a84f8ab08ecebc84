/**
 * The records answer encoding (protocol/records.ts, record-strings.ts, master/api/encoding.ts): whatever the result,
 * the client reads back exactly what a plain answer carries; the tables stay within their bounds and bytes made
 * before they grew stay readable; a malformed table or result is an error naming the field; an answer nobody asked
 * records for is plain.
 */
import { describe, expect, it } from 'vitest';
import { Packr } from 'msgpackr';
import { encodeAnswer, sharedObjects } from '../../master/api/encoding.js';
import { resultOf } from '../../cli/client.js';
import { decode, decodeObject, decodeRecords, encode, RecordsEncoder, SkiffError, type ApiResponse, type KObject } from '../../protocol/index.js';
import { stringLimits } from '../../protocol/record-strings.js';

const pod = (i: number, extra: Record<string, unknown> = {}): KObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i}`, namespace: 'default', resourceVersion: String(i), labels: { app: 'web', 'ünï': 'çødé' } }, spec: { containers: [{ name: 'c', command: ['sleep', String(i)] }] }, status: { phase: 'Running', startTime: 1.5, restarts: -3, big: 2 ** 40 }, ...extra }) as KObject;

const list = (items: KObject[]) => ({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '99' } });

/** What a client reads from an answer's bytes: the envelope, then the result (decoded from records when it is). */
function read(bytes: Buffer): { envelope: ApiResponse; result: unknown } {
  const envelope = decodeObject<ApiResponse>(bytes).value;
  return { envelope, result: resultOf(envelope) };
}

const wide = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key-${i}`, `v${i}`]));

describe('records answers read back as the plain answer', () => {
  it.each<[string, () => unknown]>([
    ['an empty list', () => sharedObjects(list([]))],
    ['a marked list of 1', () => sharedObjects(list([pod(1)]))],
    ['a marked list of 16 (array 16 header)', () => sharedObjects(list(Array.from({ length: 16 }, (_, i) => pod(i))))],
    ['a marked list of 65,536 (array 32 header)', () => sharedObjects(list(Array.from({ length: 65_536 }, (_, i) => pod(i % 50))))],
    ['an unmarked list (redacted: a copy)', () => list([pod(1), pod(2)])],
    ['an object with more keys than a record takes, and odd keys', () => ({ data: wide, odd: { '': 1, '0': 2, 'a b': 3, 'x"y': 4, __proto__x: 5 } })],
    ['an own __proto__ key (read as plain msgpackr reads it)', () => JSON.parse('{"labels":{"__proto__":"x","a":"b"}}')],
    ['scalars and bytes', () => ({ s: 'x', n: 0, f: -1.25, b: false, z: null, bytes: Buffer.from([1, 2, 3]) })],
    ['a string result', () => 'v1.2.3'],
    ['a list of pods with an extra field and nested lists', () => sharedObjects(list([pod(1, { extra: [[1, [2]], { a: [] }] }), pod(2)]))],
  ])('%s', (_what, make) => {
    const result = make();
    const plain = decode(encode({ id: 'r', ok: true, result })).value as ApiResponse;
    for (let i = 0; i < 2; i++) {
      // The second time from the kept bytes: the same again.
      const { envelope, result: got } = read(encodeAnswer({ id: 'r', ok: true, result }, 'msgpack', 'records'));
      expect(envelope.encoding).toBe('records');
      expect(envelope.id).toBe('r');
      expect(got).toEqual(plain.result);
    }
  });

  it('a list answered again and again is still spliced from kept bytes: its envelope never enters the strings table', () => {
    const items = [pod(1), pod(2)];
    for (let i = 0; i < 30; i++) {
      const { envelope, result: got } = read(encodeAnswer({ id: `r${i}`, ok: true, result: sharedObjects({ ...list(items), metadata: { resourceVersion: `rv-${i}` } }) }, 'msgpack', 'records'));
      expect((got as { metadata: unknown }).metadata).toEqual({ resourceVersion: `rv-${i}` });
      expect((envelope.strings as string[]).filter((s) => s.startsWith('skiff-splice-'))).toEqual([]);
    }
  });

  it('is smaller than the plain answer for a list of pods', () => {
    const items = Array.from({ length: 500 }, (_, i) => pod(i));
    const records = encodeAnswer({ id: 'r', ok: true, result: sharedObjects(list(items)) }, 'msgpack', 'records');
    expect(records.length).toBeLessThan(encode({ id: 'r', ok: true, result: list(items) }).length * 0.75);
  });

  it('reflects each object as it is at the list: a replaced object is read in its new version', () => {
    const items = [pod(1), pod(2), pod(3)];
    const first = read(encodeAnswer({ id: 'a', ok: true, result: sharedObjects(list(items)) }, 'msgpack', 'records')).result as { items: KObject[] };
    // The informers replace an object on a change (never mutate it): the list after the change holds the new one.
    const changed = [items[0]!, { ...pod(2), status: { phase: 'Failed' } } as KObject, items[2]!, pod(4)];
    const second = read(encodeAnswer({ id: 'b', ok: true, result: sharedObjects(list(changed)) }, 'msgpack', 'records')).result as { items: KObject[] };
    expect(first.items.map((p) => (p.status as { phase?: string } | undefined)?.phase)).toEqual(['Running', 'Running', 'Running']);
    expect(second.items).toEqual(JSON.parse(JSON.stringify(changed)));
  });

  it.each<[string, Record<string, unknown>, 'msgpack' | 'json']>([
    ['an error answer', { id: 'e', ok: false, error: { code: 'SKIFF_ERR_NOT_FOUND', message: 'pods "x" not found' } }, 'msgpack'],
    ['a streamed piece (no result)', { id: 's', ok: true, chunk: 'log line' }, 'msgpack'],
    ['the end of a stream', { id: 's', ok: true, done: true }, 'msgpack'],
    ['a JSON request', { id: 'j', ok: true, result: { version: 'v1' } }, 'json'],
  ])('%s is answered plain even when records were asked', (_what, res, codec) => {
    expect(encodeAnswer(res, codec, 'records').equals(encode(res, codec))).toBe(true);
  });
});

describe('the records table', () => {
  it('stays within its bounds; new shapes past them are plain maps; earlier bytes read with a later table', () => {
    const enc = new RecordsEncoder({ structures: 8, maxRecordKeys: 4, maxTableChars: 40 });
    const shape = (n: number, tag: string) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${tag}${i}`, i]));
    const early = enc.encode({ a: 1, b: { c: 2 } });
    const earlyTable = enc.structuresTable().map((s) => [...s]);
    const values = Array.from({ length: 30 }, (_, i) => ({ [`k${i}`]: shape((i % 4) + 1, `t${i}-`), wide: shape(6, 'w') }));
    const bytes = values.map((v) => enc.encode(v));
    const table = enc.structuresTable();
    expect(table.length).toBeLessThanOrEqual(8);
    expect(table.reduce((n, s) => n + s.join(' ').length + 1, 0)).toBeLessThan(40 + 4 * 12);
    expect(table.every((s) => s.length <= 4)).toBe(true);
    // Every byte string, early or late, reads back with the table as it is now (it only grows).
    expect(table.slice(0, earlyTable.length)).toEqual(earlyTable);
    expect(decodeRecords(early, table.map((s) => [...s]), enc.stringsTable())).toEqual({ a: 1, b: { c: 2 } });
    bytes.forEach((b, i) => expect(decodeRecords(b, table.map((s) => [...s]), enc.stringsTable())).toEqual(values[i]));
  });
});

describe('bytes of different times in one answer', () => {
  it('objects encoded before and after the table grew read back right when spliced together, in any order', () => {
    const enc = new RecordsEncoder();
    // Each value brings new shapes, nested at several depths (as a list of a new kind does after a list of pods).
    // 300 values: well past 32 structures (whose ids take a second byte) and 1,024 (the table's bound: plain maps).
    const values = Array.from({ length: 300 }, (_, i) => ({ kind: `K${i % 6}`, [`f${i}`]: { [`g${i % 4}`]: [{ [`h${i % 3}`]: i, same: 'x' }], [`n${i}`]: i }, [`meta${i % 150}`]: { name: `o${i}` } }));
    const bytes = values.map((v) => enc.encode(v));
    const order = [...values.keys()].reverse().concat([...values.keys()].filter((i) => i % 2 === 0));
    const n = order.length;
    expect(enc.structuresTable().length).toBeGreaterThan(300);
    const array = Buffer.concat([Buffer.from([0xdc, n >> 8, n & 0xff]), ...order.map((i) => bytes[i]!)]);
    expect(decodeRecords(array, enc.structuresTable().map((t) => [...t]), enc.stringsTable())).toEqual(order.map((i) => values[i]));
  });
});

describe('the strings table', () => {
  const limits = { strings: 5, maxLength: 8, maxChars: 20, repeats: 3, candidates: 4 };
  it.each<[string, unknown[], (enc: RecordsEncoder) => void]>([
    ['a string seen `repeats` times joins; shorter and longer ones as limited', ['True', 'True', 'True', 'True', 'a-string-too-long', 'x', 'x'], (enc) => expect(enc.stringsTable()).toEqual(['True'])],
    ['at most `strings` strings, `maxChars` in all', Array.from({ length: 30 }, (_, i) => [`s${i % 10}`, `s${i % 10}`]).flat(), (enc) => {
      expect(enc.stringsTable().length).toBeLessThanOrEqual(5);
      expect(enc.stringsTable().join('').length).toBeLessThanOrEqual(20);
    }],
    ['counts are forgotten past `candidates` distinct strings (no unbounded growth)', Array.from({ length: 40 }, (_, i) => `u${i}`), (enc) => expect(enc.stringsTable()).toEqual([])],
  ])('%s', (_what, values, check) => {
    const enc = new RecordsEncoder(undefined, limits);
    // One value per encode, as the master encodes one object at a time.
    const bytes = values.map((v) => enc.encode({ v }));
    check(enc);
    const structures = enc.structuresTable().map((t) => [...t]);
    bytes.forEach((b, i) => expect(decodeRecords(b, structures, enc.stringsTable())).toEqual({ v: values[i] }));
  });

  it('strings in the table are written as references: the bytes shrink, and decode to the same', () => {
    const enc = new RecordsEncoder();
    const without = new RecordsEncoder(undefined, { ...stringLimits, strings: 0 });
    const items = Array.from({ length: 200 }, (_, i) => pod(i));
    const again = enc.encode(items);
    expect(enc.stringsTable()).toEqual(expect.arrayContaining(['Running', 'web', 'default', 'çødé', 'sleep']));
    expect(without.stringsTable()).toEqual([]);
    expect(again.length).toBeLessThan(without.encode(items).length * 0.9);
    expect(decodeRecords(again, enc.structuresTable().map((t) => [...t]), enc.stringsTable())).toEqual(JSON.parse(JSON.stringify(items)));
  });

  it('a reference past the table it came with is an error, not undefined', () => {
    const enc = new RecordsEncoder(undefined, { ...limits, repeats: 1 });
    const b = enc.encode({ a: 'x', b: 'y' });
    expect(() => decodeRecords(b, enc.structuresTable().map((t) => [...t]), ['x'])).toThrow(/answer: result: not valid in the records encoding \(string reference 1 is not in the table of 1\)/);
  });
});

describe('decodeRecords: a malformed answer is an error naming the field (SKIFF_ERR_PARSE)', () => {
  const good = new RecordsEncoder().encode({ a: 1 });
  const recordBytes = new Packr({ useRecords: true, structures: [], maxSharedStructures: 32, saveStructures: () => true } as never).pack({ a: 1 });
  it.each<[string, unknown, unknown, RegExp]>([
    ['result not bytes', 'text', [], /answer: result: must be bytes in the records encoding, got string/],
    ['no table', good, undefined, /answer: structures: must be a list of key lists/],
    ['a table entry not a list', good, [['a'], 'b'], /answer: structures: \[1\] must be a list of strings/],
    ['a key not a string', good, [['a', 1]], /answer: structures: \[0\] must be a list of strings/],
    ['a table too long', good, Array.from({ length: 9000 }, () => ['a']), /answer: structures: at most 8160 structures, got 9000/],
    ['a record id the table lacks', recordBytes, [], /answer: result: not valid in the records encoding/],
    ['truncated bytes', Buffer.from([0x82, 0xa1]), [], /answer: result: not valid in the records encoding/],
    ['strings not a list', good, [['a']], /answer: strings: must be a list of strings/],
  ])('%s', (_what, result, structures, message) => {
    const strings = /strings:/.test(message.source) ? 'nope' : [];
    expect(() => decodeRecords(result, structures, strings)).toThrow(SkiffError);
    expect(() => decodeRecords(result, structures, strings)).toThrow(message);
  });
});

describe('the direct writer', () => {
  /** Two encoders fed the same values: one writes directly, the other through msgpackr (its fallback). */
  function lockstep(values: unknown[]): void {
    const direct = new RecordsEncoder();
    const packr = new RecordsEncoder();
    const viaPackr = (v: unknown) => (packr as unknown as { packed(v: unknown, refer: boolean): Buffer }).packed(v, true);
    for (const [i, v] of values.entries()) {
      const got = direct.encode(v);
      expect(got.toString('hex'), `value ${i}`).toBe(viaPackr(v).toString('hex'));
      expect(decodeRecords(got, direct.structuresTable().map((t) => [...t]), direct.stringsTable())).toEqual(decode(encode(v)).value);
    }
    expect(direct.structuresTable()).toEqual(packr.structuresTable());
    expect(direct.stringsTable()).toEqual(packr.stringsTable());
  }

  it('writes the bytes msgpackr writes: numbers, strings and headers at each size boundary', () => {
    const numbers = [0, 1, 0x1f, 0x20, 0x3f, 0x40, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, -(2 ** 31), -(2 ** 31) - 1, 1.5, -0.25, -0, 1e300, Infinity, -Infinity];
    const strings = ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(65_535), 'x'.repeat(65_536)];
    // Characters of 2, 3 and 4 bytes (a surrogate pair), lone surrogates, and byte lengths past the guessed header.
    const wide = ['é'.repeat(16), 'é'.repeat(31), '€'.repeat(11), '€'.repeat(90), '😀'.repeat(8), '\ud800x', 'x\udc00', 'é'.repeat(40), '€'.repeat(22_000), 'é'.repeat(32_768)];
    lockstep([{ numbers }, { strings }, { wide }, numbers, strings, wide]);
  });

  it('writes the bytes msgpackr writes: lists of pods, arrays and maps past 16, records past 32 shapes, plain maps, a value past its buffer', () => {
    const items = Array.from({ length: 40 }, (_, i) => pod(i, { [`extra${i % 35}`]: { nested: [i, `n${i}`, null, true, false, undefined] } }));
    const wide40 = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`key-${i}`, `v${i % 3}`]));
    const array = (n: number) => Array.from({ length: n }, (_, i) => i % 2 ? 'True' : i);
    lockstep([...items, list(items), { wide40, a15: array(15), a16: array(16), a70k: array(70_000) }, { bytes: Buffer.from([1, 2, 3]), u8: new Uint8Array(300), big: Buffer.alloc(70_000, 7) }, JSON.parse('{"__proto__":{"x":1},"a":"b"}'), [[[]], {}], { huge: 'y'.repeat(400_000) }, pod(1)]);
  });

  it('leaves what it does not write (a Date, a Map, a bigint) to msgpackr: it reads back as the plain answer', () => {
    const enc = new RecordsEncoder();
    for (const v of [{ at: new Date(1.7e12), name: 'x' }, { m: new Map([['a', 1]]) }, { n: 2n ** 60n, s: 'True' }]) {
      const plain = decode(encode(v)).value;
      expect(decodeRecords(enc.encode(v), enc.structuresTable().map((t) => [...t]), enc.stringsTable())).toEqual(plain);
    }
  });
});
