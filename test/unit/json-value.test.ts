/**
 * The object layer's JSON copies, comparisons and size bound (master/json-value.ts, protocol/limits.ts), table by
 * table against what JSON itself says, and the generateName suffixes drawn from a pool (master/name-suffix.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { jsonCopy, jsonEqual, writeCheck } from '../../master/json-value.js';
import { randomSuffix } from '../../master/name-suffix.js';
import { checkObjectSize, jsonBytesAtMost, maxObjectBytes } from '../../protocol/limits.js';

const at = '2026-12-01T10:00:00.000Z';
const values: [string, unknown][] = [
  ['a pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: '1' }, ownerReferences: [{ uid: 'u', controller: true }] }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] }, status: { conditions: [] } }],
  ['undefined properties and array holes', { a: undefined, b: [1, undefined, () => 1], c: { d: undefined }, f: () => 1 }],
  ['a Date (toJSON)', { when: new Date(at), list: [new Date(at)] }],
  ['escapes and non-ASCII', { s: 'quote " backslash \\ newline \n control \u0001 é 中 😀 lone \ud800' }],
  ['numbers', { n: [0, -0, 1.5, -1.2345678901234567e-308, 1e21, Number.MAX_SAFE_INTEGER, NaN, Infinity] }],
  ['nested arrays', [[[]], [{}], [null, true, false]]],
  // The walks read own keys with for…in: inherited enumerable keys are not the value's, integer-like keys come first.
  ['inherited enumerable keys', { own: Object.assign(Object.create({ inherited: 'x'.repeat(100) }), { a: 1 }) }],
  ['integer-like keys and a null prototype', { m: Object.assign(Object.create(null), { b: 1, 10: 'ten', 2: 'two', a: [1] }) }],
];

describe('jsonCopy', () => {
  it.each(values)('%s: the same JSON text, sharing nothing', (_, v) => {
    const c = jsonCopy(v);
    expect(JSON.stringify(c)).toBe(JSON.stringify(v));
    // Numbers are copied as they are (JSON writes NaN and -0 as null and 0 either way); the rest is JSON's value.
    if (_ !== 'numbers') expect(c).toEqual(JSON.parse(JSON.stringify(v)));
    if (typeof v === 'object' && v) expect(c).not.toBe(v);
  });

  it('a copy changed deeply leaves the original alone', () => {
    const o = { a: { b: [{ c: 1 }] } };
    const c = jsonCopy(o);
    c.a.b[0]!.c = 2;
    c.a.b.push({ c: 3 });
    expect(o).toEqual({ a: { b: [{ c: 1 }] } });
  });
});

const equalityTable: [string, unknown, unknown, boolean][] = [
  ['same object', { a: 1, b: [1, { c: 'x' }] }, { a: 1, b: [1, { c: 'x' }] }, true],
  ['key order does not matter', { a: 1, b: 2 }, { b: 2, a: 1 }, true],
  ['an undefined property is absent', { a: 1, b: undefined }, { a: 1 }, true],
  ['a missing key', { a: 1, b: 2 }, { a: 1 }, false],
  ['an extra key', { a: 1 }, { a: 1, b: null }, false],
  ['array order matters', [1, 2], [2, 1], false],
  ['array length', [1], [1, 1], false],
  ['array vs object', [], {}, false],
  ['null vs object', null, {}, false],
  ['string vs number', { a: '1' }, { a: 1 }, false],
  ['nested difference', { a: { b: { c: [1, 2, 3] } } }, { a: { b: { c: [1, 2, 4] } } }, false],
  ['Dates by their JSON', { d: new Date(at) }, { d: new Date(at) }, true],
  ['different Dates', { d: new Date(at) }, { d: new Date(0) }, false],
  ["an inherited key is not the value's", Object.create({ a: 1 }), {}, true],
];

describe('jsonEqual', () => {
  it.each(equalityTable)('%s', (_, a, b, want) => {
    expect(jsonEqual(a, b)).toBe(want);
    expect(jsonEqual(b, a)).toBe(want);
    // On values without undefined, Dates and prototypes, the same answer as util.isDeepStrictEqual gave.
    if (!JSON.stringify([a, b]).includes('Z"') && !_.includes('undefined') && !_.includes('inherited')) expect(isDeepStrictEqual(a, b)).toBe(want);
  });
});


describe('writeCheck: jsonEqual of the object and of its spec, and jsonBytesAtMost, in one walk', () => {
  type Pod = { metadata: Record<string, unknown>; spec?: Record<string, any>; status?: Record<string, any>; [k: string]: unknown };
  const pod = (): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', resourceVersion: '7', labels: { a: '1' } },
    spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] },
  });
  const changes: [string, (p: Pod) => void][] = [
    ['nothing', () => {}],
    ['the status', (p) => (p.status!.phase = 'Running')],
    ['the spec at its end (a bind)', (p) => (p.spec!.nodeName = 'n1')],
    ['the spec at its start', (p) => (p.spec!.containers[0].name = 'd')],
    ['the metadata, before the spec', (p) => ((p.metadata.labels as Record<string, string>).a = '2')],
    ['the metadata and the spec', (p) => ((p.metadata.name = 'q'), (p.spec!.nodeName = 'n1'))],
    ['a key removed', (p) => delete p.status],
    ['a key added', (p) => (p.extra = 1)],
    ['the spec removed', (p) => delete p.spec],
    ['the spec undefined', (p) => (p.spec = undefined)],
    ['the spec first', (p) => Object.assign(p, { metadata: (delete (p as { metadata?: unknown }).metadata, p.spec), spec: (delete p.spec, { containers: [] }) })],
    ['an undefined property added', (p) => (p.metadata.x = undefined)],
    ['keys in another order', (p) => Object.assign(p, { metadata: (delete (p as { metadata?: unknown }).metadata, { labels: { a: '1' }, resourceVersion: '7', name: 'p' }) })],
    ['a Date', (p) => (p.status!.startTime = new Date(at))],
    ['an array grown', (p) => p.status!.conditions.push({ type: 'Ready' })],
    ['an array become an object', (p) => (p.status!.conditions = {})],
    ['a string become a number', (p) => (p.spec!.containers[0].ports[0].containerPort = '80')],
  ];
  const expected = (a: Record<string, unknown>, b: Record<string, unknown>) => ({ same: jsonEqual(a, b), sameSpec: jsonEqual(a.spec, b.spec), bytesAtMost: jsonBytesAtMost(a, 0) });

  it.each(changes)('a pod, %s: what the three walks say, either way round', (_, change) => {
    const before = pod();
    const next = jsonCopy(before);
    change(next);
    expect(writeCheck(next, before)).toEqual(expected(next, before));
    expect(writeCheck(before, next)).toEqual(expected(before, next));
  });

  it.each(equalityTable)('%s, in the spec and beside it: what the three walks say', (_, a, b) => {
    for (const [x, y] of [
      [{ spec: a, m: b }, { spec: b, m: a }],
      [{ m: a, spec: a }, { m: b, spec: a }],
      [{ m: a }, { m: b, spec: b }],
    ] as Record<string, unknown>[][]) {
      expect(writeCheck(x!, y!)).toEqual(expected(x!, y!));
      expect(writeCheck(y!, x!)).toEqual(expected(y!, x!));
    }
  });

  it('the very same value beside itself, and a value that is no plain object', () => {
    const p = pod();
    expect(writeCheck(p, p)).toEqual({ same: true, sameSpec: true, bytesAtMost: jsonBytesAtMost(p, 0) });
    expect(writeCheck([1], [1])).toEqual({ same: true, sameSpec: true, bytesAtMost: jsonBytesAtMost([1], 0) });
    expect(writeCheck(new Date(at), new Date(0))).toEqual({ same: false, sameSpec: true, bytesAtMost: Infinity });
  });
});

describe('the object size bound', () => {
  it.each(values)('%s: at least the bytes of its JSON text', (_, v) => {
    expect(jsonBytesAtMost(v, 0)).toBeGreaterThanOrEqual(Buffer.byteLength(JSON.stringify(v) ?? ''));
  });

  it.each([
    ['just under the limit, in 3-byte characters', '中'.repeat(Math.floor((maxObjectBytes - 200) / 3)), false],
    ['just over the limit, in 3-byte characters', '中'.repeat(Math.ceil(maxObjectBytes / 3)), true],
    ['just over the limit, in control characters (6 bytes escaped)', '\u0001'.repeat(Math.ceil(maxObjectBytes / 6)), true],
    ['far under the limit', 'x'.repeat(1000), false],
  ])('checkObjectSize: %s', (_, s, refused) => {
    const o = { kind: 'ConfigMap', metadata: { name: 'big' }, data: { s } };
    if (refused) expect(() => checkObjectSize(o)).toThrow(/ConfigMap\/big: the object is .* encoded; it must be at most 1.5 MiB encoded/);
    else expect(() => checkObjectSize(o)).not.toThrow();
  });

  it('a value it cannot bound (toJSON, a Buffer) is measured exactly', () => {
    expect(jsonBytesAtMost({ b: Buffer.alloc(4) }, 0)).toBe(Infinity);
    expect(() => checkObjectSize({ kind: 'Secret', metadata: { name: 's' }, b: Buffer.alloc(1000) } as object)).not.toThrow();
    expect(() => checkObjectSize({ kind: 'Secret', metadata: { name: 's' }, b: Buffer.alloc(maxObjectBytes / 2) } as object)).toThrow(/Secret\/s: the object is/);
  });
});

describe('generateName suffixes', () => {
  it('five characters of the alphabet, across pool refills, nearly all distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const s = randomSuffix();
      expect(s).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      seen.add(s);
    }
    // 27^5 ≈ 14.3 million names: 20,000 draws collide ~14 times on average.
    expect(seen.size).toBeGreaterThan(20_000 - 60);
    expect(randomSuffix(8)).toHaveLength(8);
  });
});
