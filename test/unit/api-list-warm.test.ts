/**
 * A listed kind's changed objects get their bytes before the next list asks (master/api/list-warm.ts): only the
 * version in the cache once it has stood `settleMs`, only while lists of that scope ask, only in the listed namespace;
 * an answer from warmed bytes is the answer an unwarmed list gives; and neither the warmer nor the kept bytes hold a
 * version the cache let go.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { decodeRecords, decode, encode, type KObject } from '../../protocol/index.js';
import { encodeAnswer, hasCachedBytes, prepareAnswer, sharedObjects, warmBytes } from '../../master/api/encoding.js';
import { activeMs, ListWarmer, maxScopes, settleMs, type WarmClock } from '../../master/api/list-warm.js';
import { KindIndex, orderKey } from '../../master/api/list-index.js';
import type { LoopBudget } from '../../master/loop-budget.js';

const pod = (ns: string, name: string, v: number): KObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, resourceVersion: String(v), labels: { app: 'web' } }, spec: { nodeName: `n-${v % 7}`, containers: [{ name: 'c', image: 'busybox' }] }, status: { phase: v % 2 ? 'Running' : 'Pending', startTime: `2026-12-02T16:${String(v % 60).padStart(2, '0')}:00Z` } }) as KObject;

/** A cache by key, a fake clock, a warmer over them; `turn` runs one warm turn with room for everything. */
function setup() {
  const cache = new Map<string, KObject>();
  let now = 1000;
  const clock: WarmClock = { now: () => now, later: () => undefined };
  const budget = { turn: () => 1000, interrupted: () => false } as unknown as LoopBudget;
  const warmer = new ListWarmer((key) => cache.get(key), warmBytes, clock, budget);
  const put = (o: KObject) => {
    cache.set(orderKey(o), o);
    warmer.changed(orderKey(o));
    return o;
  };
  return { cache, warmer, put, advance: (ms: number) => (now += ms), turn: () => warmer.turn(1000) };
}

describe('ListWarmer', () => {
  it('makes the bytes of the version that stood settleMs, never those of a version replaced before', () => {
    const { warmer, put, advance, turn } = setup();
    warmer.listed('records', 'default');
    const v1 = put(pod('default', 'a', 1));
    advance(settleMs / 2);
    const v2 = put(pod('default', 'a', 2)); // replaced before it settled
    const b1 = put(pod('default', 'b', 3));
    expect(turn()).toBe(settleMs); // nothing settled yet: come back when the oldest has
    expect(hasCachedBytes(v2, 'records')).toBe(false);
    advance(settleMs);
    expect(turn()).toBeUndefined();
    expect([hasCachedBytes(v1, 'records'), hasCachedBytes(v2, 'records'), hasCachedBytes(b1, 'records')]).toEqual([false, true, true]);
    expect(warmer.waiting).toBe(0);
    expect(warmer.warmed).toBe(2);
  });

  it('notes nothing while no list asks, and stops (forgetting what it noted) activeMs after the last list', () => {
    const { warmer, put, advance, turn } = setup();
    const o = put(pod('default', 'quiet', 1));
    expect(warmer.waiting).toBe(0);
    advance(settleMs);
    expect(turn()).toBeUndefined();
    expect(hasCachedBytes(o, 'records')).toBe(false);
    warmer.listed('records', undefined);
    put(pod('default', 'x', 2));
    advance(activeMs);
    const late = put(pod('default', 'y', 3));
    expect(warmer.waiting).toBe(2);
    advance(settleMs);
    expect(turn()).toBeUndefined();
    expect(warmer.waiting).toBe(0);
    expect(hasCachedBytes(late, 'records')).toBe(false);
    put(pod('default', 'z', 4));
    expect(warmer.waiting).toBe(0);
  });

  it('warms only the listed namespace, in the listed formats; a deleted key is skipped', () => {
    const { cache, warmer, put, advance, turn } = setup();
    warmer.listed('msgpack', 'team');
    warmer.listed('records', 'team');
    const mine = put(pod('team', 'a', 1));
    const other = put(pod('teams', 'a', 1)); // a namespace the prefix `team` must not match
    const gone = put(pod('team', 'b', 1));
    cache.delete(orderKey(gone));
    warmer.changed(orderKey(gone));
    advance(settleMs);
    turn();
    expect([hasCachedBytes(mine, 'msgpack'), hasCachedBytes(mine, 'records'), hasCachedBytes(mine, 'json')]).toEqual([true, true, false]);
    expect(hasCachedBytes(other, 'msgpack') || hasCachedBytes(other, 'records')).toBe(false);
    expect(hasCachedBytes(gone, 'msgpack')).toBe(false);
  });

  it(`keeps at most maxScopes listed scopes, dropping the one listed longest ago`, () => {
    const { warmer, put, advance, turn } = setup();
    for (let i = 0; i <= maxScopes; i++) {
      warmer.listed('records', `ns-${i}`);
      advance(1);
    }
    const first = put(pod('ns-0', 'a', 1)); // ns-0 was listed first: dropped
    const last = put(pod(`ns-${maxScopes}`, 'a', 1));
    advance(settleMs);
    turn();
    expect([hasCachedBytes(first, 'records'), hasCachedBytes(last, 'records')]).toEqual([false, true]);
  });

  it('gives up its turn when its time is spent, and says more is ready', () => {
    const { warmer, put, advance } = setup();
    warmer.listed('records', undefined);
    const pods = Array.from({ length: 50 }, (_, i) => put(pod('default', `p-${i}`, 100 + i)));
    advance(settleMs);
    expect(warmer.turn(0)).toBe(0); // one object, then the turn is over
    expect(pods.filter((o) => hasCachedBytes(o, 'records'))).toHaveLength(1);
    while (warmer.turn(0) === 0);
    expect(pods.every((o) => hasCachedBytes(o, 'records'))).toBe(true);
  });
});

describe('a list answered from warmed bytes', () => {
  it('is byte for byte the unwarmed answer (msgpack), and decodes to the current versions (records)', async () => {
    const { cache, warmer, put, advance, turn } = setup();
    warmer.listed('msgpack', 'default');
    warmer.listed('records', 'default');
    const names = Array.from({ length: 40 }, (_, i) => `w-${i}`);
    const firsts = names.map((n) => put(pod('default', n, 1)));
    advance(settleMs);
    turn();
    // Half change again after their bytes were made: the list must show the new versions.
    names.forEach((n, i) => i % 2 && put(pod('default', n, 2)));
    advance(settleMs);
    turn();
    const listed = names.map((n) => cache.get(`default/${n}`)!);
    expect(listed.filter((o, i) => i % 2 && o === firsts[i])).toHaveLength(0);
    const result = { apiVersion: 'v1', kind: 'List', items: listed, metadata: { resourceVersion: '9' } };
    const plain = JSON.parse(JSON.stringify(result)) as unknown;
    const res = { id: 'l', ok: true, result: sharedObjects(result) };
    // Every object's bytes were made ahead: the list has nothing left to make and is answered in the same task.
    expect(prepareAnswer(res, 'msgpack', 'msgpack')).toBeUndefined();
    expect(prepareAnswer(res, 'msgpack', 'records')).toBeUndefined();
    expect(encodeAnswer(res, 'msgpack').equals(encode({ id: 'l', ok: true, result: plain }))).toBe(true);
    const answer = decode(encodeAnswer(res, 'msgpack', 'records')).value as { result: Uint8Array; structures: unknown; strings: unknown };
    expect(decodeRecords(answer.result, answer.structures, answer.strings)).toEqual(plain);
  });
});

describe('KindIndex warming', () => {
  it('warms a changed object once a records list of its kind was answered (real timers)', async () => {
    const index = new KindIndex();
    const first = pod('default', 'k', 1);
    index.onChange(first, undefined, first);
    const res = { id: 'l', ok: true, result: sharedObjects({ items: index.list('default') }, (format) => index.warmer.listed(format, 'default')) };
    await prepareAnswer(res, 'msgpack', 'records');
    expect(index.warmer.active).toBe(true);
    const next = pod('default', 'k', 2);
    index.onChange(next, first, next);
    for (let waited = 0; !hasCachedBytes(next, 'records') && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    expect(hasCachedBytes(next, 'records')).toBe(true);
  });
});

describe('bounded', () => {
  it('keeps no version the cache let go: a warmed version replaced and dropped is collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { warmer, put, advance, turn } = setup();
    warmer.listed('records', 'default');
    // In a function of its own: an async function's locals outlive their block while it waits.
    const warmedOld = () => {
      const old = put(pod('default', 'g', 1));
      advance(settleMs);
      turn();
      return [new WeakRef(old), hasCachedBytes(old, 'records')] as const;
    };
    const [ref, made] = warmedOld();
    expect(made).toBe(true);
    put(pod('default', 'g', 2)); // the cache now holds version 2 only
    advance(settleMs);
    turn();
    await new Promise((r) => setTimeout(r, 0)); // a WeakRef's target is kept until the job that made it ends
    gc();
    expect(ref.deref()).toBeUndefined();
  });
});

describe('a list answered again from the same array (nothing of the kind changed)', () => {
  for (const codec of ['msgpack', 'json'] as const)
    it(`is the full encoding each time (${codec})`, () => {
      const items = Array.from({ length: 300 }, (_, i) => pod('default', `s-${i}`, i));
      const want = (id: string) => encode({ id, ok: true, result: { apiVersion: 'v1', kind: 'List', items: JSON.parse(JSON.stringify(items)), metadata: { resourceVersion: id } } }, codec);
      for (const id of ['1', '2', '3', '4']) {
        const res = { id, ok: true, result: sharedObjects({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: id } }) };
        expect(encodeAnswer(res, codec).equals(want(id))).toBe(true);
      }
    });

  it('reads back the same objects in records each time', () => {
    const items = Array.from({ length: 300 }, (_, i) => pod('default', `r-${i}`, i));
    for (const id of ['1', '2', '3']) {
      const res = { id, ok: true, result: sharedObjects({ apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: id } }) };
      const answer = decode(encodeAnswer(res, 'msgpack', 'records')).value as { result: Uint8Array; structures: unknown; strings: unknown };
      expect(decodeRecords(answer.result, answer.structures, answer.strings)).toEqual(JSON.parse(JSON.stringify(res.result)));
    }
  });
});
