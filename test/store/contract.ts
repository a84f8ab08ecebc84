/**
 * The abstract Store contract (in the manner of MQTT.js's abstract_store): every implementation
 * runs it with `runStoreContract(name, open, reopen?)`. `open` must give a fresh, empty store each
 * call; `reopen`, when the implementation is durable, opens again the storage behind a store that
 * was closed.
 *
 * Revisions are asserted relative to the revision a fresh store starts at (`base`): SQLite starts
 * at 0, etcd at its own global revision (which other roots sharing that etcd also move). What every
 * store promises is that its own writes, with nothing else writing, take base+1, base+2, ...
 */
import { describe, expect, it } from 'vitest';
import { maxTxnBytes, maxTxnOps } from '../../master/store/txn.js';
import type { Store, TxnOp, WatchEvent } from '../../master/store/types.js';
import { SkiffError } from '../../protocol/errors.js';
import { eventually } from '../helpers/wait.js';
import { codePointOrder, expectCode, watchInto } from './helpers.js';

/** Runs the contract suite against one Store implementation. */
export function runStoreContract(name: string, open: () => Promise<Store>, reopen?: (closed: Store) => Promise<Store>): void {
  // Opens a store for one test and closes it afterwards, whatever happens. `r(n)` is the revision of
  // the store's n-th write (n = 0: the revision it started at).
  async function withStore(fn: (s: Store, r: (n: number) => number) => Promise<void>): Promise<void> {
    const s = await open();
    try {
      const base = await s.revision();
      await fn(s, (n) => base + n);
    } finally {
      await s.close();
    }
  }

  describe(`Store contract: ${name}`, () => {
    describe('create / get / update / delete', () => {
      it('a create is readable, an update keeps createRevision and moves modRevision, a delete returns the last entry', () =>
        withStore(async (s, r) => {
          expect(await s.revision()).toBe(r(0));
          const created = await s.create('/pods/a', { phase: 'Pending' });
          expect(created).toEqual({ key: '/pods/a', value: { phase: 'Pending' }, createRevision: r(1), modRevision: r(1) });
          expect(await s.get('/pods/a')).toEqual(created);

          const updated = await s.update('/pods/a', { phase: 'Running' }, r(1));
          expect(updated).toEqual({ key: '/pods/a', value: { phase: 'Running' }, createRevision: r(1), modRevision: r(2) });
          expect(await s.get('/pods/a')).toEqual(updated);

          const deleted = await s.delete('/pods/a', r(2));
          expect(deleted).toEqual(updated);
          expect(await s.get('/pods/a')).toBeUndefined();
          expect(await s.revision()).toBe(r(3));

          const again = await s.create('/pods/a', { phase: 'Pending' });
          expect(again.createRevision).toBe(r(4));
        }));

      it('get of a missing key is undefined', () =>
        withStore(async (s) => {
          expect(await s.get('/nope')).toBeUndefined();
        }));

      it('update and delete without an expected revision always apply', () =>
        withStore(async (s, r) => {
          await s.create('/k', 1);
          expect((await s.update('/k', 2)).modRevision).toBe(r(2));
          expect((await s.delete('/k')).value).toBe(2);
        }));

      const values: [string, unknown][] = [
        ['object', { a: 1, b: [true, null, 'x'], c: { d: 'é✓😀' } }],
        ['array', [1, 2, 3]],
        ['string', 'hello'],
        ['number', 42.5],
        ['null', null],
        ['false', false],
        ['empty object', {}],
      ];
      it.each(values)('a JSON %s value round-trips', (_, value) =>
        withStore(async (s) => {
          expect((await s.create('/v', value)).value).toEqual(value);
          expect((await s.get('/v'))!.value).toEqual(value);
        }));

      it('a returned value is a copy: mutating the caller object or the result changes nothing stored', () =>
        withStore(async (s) => {
          const value = { n: 1 };
          const entry = await s.create<{ n: number }>('/copy', value);
          value.n = 2;
          entry.value.n = 3;
          expect((await s.get('/copy'))!.value).toEqual({ n: 1 });
        }));
    });

    describe('errors', () => {
      const cases: { name: string; run: (s: Store, r: (n: number) => number) => Promise<unknown>; code: SkiffError['code'] }[] = [
        { name: 'create of an existing key', run: (s) => s.create('/exists', 'x'), code: 'SKIFF_ERR_ALREADY_EXISTS' },
        { name: 'update of a missing key', run: (s) => s.update('/missing', 'x'), code: 'SKIFF_ERR_NOT_FOUND' },
        { name: 'update of a missing key with an expected revision', run: (s) => s.update('/missing', 'x', 1), code: 'SKIFF_ERR_NOT_FOUND' },
        { name: 'update with a stale modRevision', run: (s, r) => s.update('/exists', 'x', r(0)), code: 'SKIFF_ERR_CONFLICT' },
        { name: 'update with modRevision 0', run: (s) => s.update('/exists', 'x', 0), code: 'SKIFF_ERR_CONFLICT' },
        { name: 'update with a future modRevision', run: (s, r) => s.update('/exists', 'x', r(99)), code: 'SKIFF_ERR_CONFLICT' },
        { name: 'delete of a missing key', run: (s) => s.delete('/missing'), code: 'SKIFF_ERR_NOT_FOUND' },
        { name: 'delete with a stale modRevision', run: (s, r) => s.delete('/exists', r(0)), code: 'SKIFF_ERR_CONFLICT' },
        { name: 'an empty key', run: (s) => s.create('', 'x'), code: 'SKIFF_ERR_BAD_REQUEST' },
        { name: 'a key that is not a path', run: (s) => s.create('exists', 'x'), code: 'SKIFF_ERR_BAD_REQUEST' },
        { name: 'a list prefix that is not a path', run: (s) => s.list('ex'), code: 'SKIFF_ERR_BAD_REQUEST' },
        { name: 'a value with no JSON form', run: (s) => s.create('/u', undefined), code: 'SKIFF_ERR_BAD_REQUEST' },
        { name: 'a BigInt value', run: (s) => s.create('/b', { n: 1n }), code: 'SKIFF_ERR_BAD_REQUEST' },
        { name: 'a negative expected revision', run: (s) => s.update('/exists', 'x', -1), code: 'SKIFF_ERR_BAD_REQUEST' },
        { name: 'compaction beyond the current revision', run: (s, r) => s.compact(r(5)), code: 'SKIFF_ERR_BAD_REQUEST' },
      ];
      it.each(cases)('$name → $code, and nothing changes', ({ run, code }) =>
        withStore(async (s, r) => {
          await s.create('/exists', 'original');
          await expectCode(run(s, r), code);
          expect(await s.revision()).toBe(r(1));
          expect(await s.get('/exists')).toEqual({ key: '/exists', value: 'original', createRevision: r(1), modRevision: r(1) });
          expect((await s.list('')).entries).toHaveLength(1);
        }));
    });

    describe('revisions', () => {
      it('every write bumps one global revision, strictly increasing across keys', () =>
        withStore(async (s, r) => {
          const seen: number[] = [];
          for (const key of ['/a', '/b', '/c']) seen.push((await s.create(key, 0)).modRevision);
          seen.push((await s.update('/a', 1)).modRevision);
          seen.push((await s.delete('/b')).modRevision);
          seen.push(await s.revision());
          seen.push((await s.update('/c', 1)).modRevision);
          // The delete returns the key's last entry (revision 2); the store is at 5 after it.
          expect(seen).toEqual([1, 2, 3, 4, 2, 5, 6].map(r));
          expect((await s.get('/a'))).toMatchObject({ createRevision: r(1), modRevision: r(4) });
        }));
    });

    describe('list by prefix', () => {
      const keys = ['/a', '/a/b', '/a/b/', '/a/b/c', '/a/bc', '/a/b%', '/a/b_', '/a/bX', '/a/c', '/a/b\uffff', '/a/b\u{10ffff}', '/a/b😀', '/b'];
      const cases: [string, string[]][] = [
        ['/a/b', ['/a/b', '/a/b%', '/a/b/', '/a/b/c', '/a/bX', '/a/b_', '/a/bc', '/a/b\uffff', '/a/b😀', '/a/b\u{10ffff}']],
        ['/a/b/', ['/a/b/', '/a/b/c']],
        ['/a/bc', ['/a/bc']],
        ['/a/b_', ['/a/b_']],
        ['/a/b%', ['/a/b%']],
        ['/a/b\uffff', ['/a/b\uffff']],
        ['/a/b\u{10ffff}', ['/a/b\u{10ffff}']],
        ['/a/b/c/', []],
        ['/z', []],
      ];
      it.each(cases)('list(%j) returns exactly its keys, ordered by code point', (prefix, expected) =>
        withStore(async (s, r) => {
          for (const k of keys) await s.create(k, k);
          const { entries, revision } = await s.list(prefix);
          expect(entries.map((e) => e.key)).toEqual(expected);
          expect(entries.every((e) => e.value === e.key)).toBe(true);
          expect(revision).toBe(r(keys.length));
        }));

      it('the empty prefix lists every key in code-point order', () =>
        withStore(async (s) => {
          for (const k of keys) await s.create(k, 1);
          expect((await s.list('')).entries.map((e) => e.key)).toEqual([...keys].sort(codePointOrder));
        }));

      it('list returns the revision it read at, also for an empty result', () =>
        withStore(async (s, r) => {
          expect(await s.list('/x')).toEqual({ entries: [], revision: r(0) });
          await s.create('/y', 1);
          await s.delete('/y');
          expect(await s.list('/x')).toEqual({ entries: [], revision: r(2) });
        }));
    });

    describe('watch', () => {
      it('is not called inside the writer\'s stack', () =>
        withStore(async (s) => {
          const w = watchInto(s, '/', undefined);
          const write = s.create('/k', 1);
          expect(w.events).toHaveLength(0);
          await write;
          await w.until(1);
          w.watch.close();
        }));

      it('from now: put (created), put (prevValue), delete (old value) — nothing from before', () =>
        withStore(async (s, r) => {
          await s.create('/before', 0);
          const w = watchInto(s, '/', undefined);
          await s.create('/k', { v: 1 });
          await s.update('/k', { v: 2 });
          await s.delete('/k');
          expect(await w.until(3)).toEqual<WatchEvent[]>([
            { type: 'put', key: '/k', value: { v: 1 }, revision: r(2), created: true },
            { type: 'put', key: '/k', value: { v: 2 }, prevValue: { v: 1 }, revision: r(3) },
            { type: 'delete', key: '/k', value: { v: 2 }, prevValue: { v: 2 }, revision: r(4) },
          ]);
          w.watch.close();
        }));

      it('from a past revision: replays history after it in order, then live changes', () =>
        withStore(async (s, r) => {
          await s.create('/a', 1); // 1
          await s.create('/b', 1); // 2
          await s.update('/a', 2); // 3
          await s.delete('/b'); //    4
          const w = watchInto(s, '/', r(1));
          await s.create('/c', 1); // 5
          const events = await w.until(4);
          expect(events.map((e) => [e.type, e.key, e.revision])).toEqual([
            ['put', '/b', r(2)],
            ['put', '/a', r(3)],
            ['delete', '/b', r(4)],
            ['put', '/c', r(5)],
          ]);
          expect(events[1]!.prevValue).toBe(1);
          expect(events[2]!.value).toBe(1);
          w.watch.close();
        }));

      it('from the current revision: only live changes', () =>
        withStore(async (s) => {
          await s.create('/a', 1);
          const w = watchInto(s, '/', await s.revision());
          await s.create('/b', 1);
          expect((await w.until(1)).map((e) => e.key)).toEqual(['/b']);
          w.watch.close();
        }));

      it('on a prefix sees only that prefix, in history and live', () =>
        withStore(async (s, r) => {
          await s.create('/a/bc', 'neighbour');
          await s.create('/a/b/1', 'mine');
          await s.create('/a/b_', 'neighbour');
          const w = watchInto(s, '/a/b/', r(0));
          await s.create('/a/b', 'neighbour');
          await s.create('/a/c', 'neighbour');
          await s.create('/a/b/2', 'mine');
          // Events arrive in order, so a leaked neighbour would show up before '/a/b/2'.
          expect((await w.until(2)).map((e) => e.key)).toEqual(['/a/b/1', '/a/b/2']);
          w.watch.close();
        }));

      it('delivers a burst of parallel writes once each, in revision order', () =>
        withStore(async (s, r) => {
          const w = watchInto(s, '/burst/', r(0));
          await Promise.all(Array.from({ length: 200 }, (_, i) => s.create(`/burst/${i}`, i)));
          const revisions = (await w.until(200)).map((e) => e.revision);
          expect(revisions).toEqual(Array.from({ length: 200 }, (_, i) => r(i + 1)));
          w.watch.close();
        }));

      it('list, then watch from the list revision while writes continue: no gap, no duplicate', () =>
        withStore(async (s) => {
          for (let i = 0; i < 5; i++) await s.create(`/x/${i}`, i);
          const writes = Promise.all(Array.from({ length: 20 }, (_, i) => s.update(`/x/${i % 5}`, i + 100)));
          const { entries, revision } = await s.list('/x/');
          const w = watchInto(s, '/x/', revision);
          await writes;
          const final = await s.revision();
          const events = await w.until(final - revision);
          expect(events.map((e) => e.revision)).toEqual(Array.from({ length: final - revision }, (_, i) => revision + i + 1));
          expect(entries).toHaveLength(5);
          w.watch.close();
        }));

      it('close stops delivery', () =>
        withStore(async (s) => {
          const closed = watchInto(s, '/', undefined);
          const open = watchInto(s, '/', undefined);
          await s.create('/1', 1);
          // /1's event may or may not have reached the watcher before close (a store may deliver before create's
          // caller resumes, as etcd's watch stream does); nothing after close does.
          closed.watch.close();
          const atClose = closed.events.length;
          await s.create('/2', 2);
          await open.until(2);
          expect(closed.events).toHaveLength(atClose);
          expect(closed.events.map((e) => e.key)).not.toContain('/2');
          open.watch.close();
        }));

      it('a watcher that throws breaks neither the store nor other watchers', () =>
        withStore(async (s) => {
          let thrown = 0;
          const bad = s.watch('/', undefined, () => {
            thrown++;
            throw new Error('watcher bug (expected in this test)');
          });
          const good = watchInto(s, '/', undefined);
          await s.create('/1', 1);
          await s.create('/2', 2);
          await good.until(2);
          // Each watcher has its own stream (etcd: its own watch): the bad one may lag the good one a moment.
          await eventually(() => thrown === 2, 'the bad watcher saw both events', 5_000);
          expect(thrown).toBe(2);
          expect((await s.get('/2'))!.value).toBe(2);
          bad.close();
          good.watch.close();
        }));
    });

    describe('txn', () => {
      it('applies every op under one new revision, returns an entry per op, and watchers see them in op order', () =>
        withStore(async (s, r) => {
          await s.create('/t/old', 'a'); //  1
          await s.create('/t/gone', 'b'); // 2
          const w = watchInto(s, '/t/', undefined);
          const res = await s.txn([
            { op: 'create', key: '/t/new', value: { n: 1 } },
            { op: 'update', key: '/t/old', value: 'a2', expectedModRevision: r(1) },
            { op: 'delete', key: '/t/gone' },
          ]);
          expect(res).toEqual({
            revision: r(3),
            entries: [
              { key: '/t/new', value: { n: 1 }, createRevision: r(3), modRevision: r(3) },
              { key: '/t/old', value: 'a2', createRevision: r(1), modRevision: r(3) },
              { key: '/t/gone', value: 'b', createRevision: r(2), modRevision: r(2) },
            ],
          });
          expect(await s.revision()).toBe(r(3));
          expect((await s.list('/t/')).entries.map((e) => [e.key, e.value])).toEqual([['/t/new', { n: 1 }], ['/t/old', 'a2']]);
          expect(await w.until(3)).toEqual<WatchEvent[]>([
            { type: 'put', key: '/t/new', value: { n: 1 }, revision: r(3), created: true },
            { type: 'put', key: '/t/old', value: 'a2', prevValue: 'a', revision: r(3) },
            { type: 'delete', key: '/t/gone', value: 'b', prevValue: 'b', revision: r(3) },
          ]);
          // The next write takes the next revision.
          expect((await s.create('/t/after', 1)).modRevision).toBe(r(4));
          w.watch.close();
        }));

      const refusals: { name: string; ops: (r: (n: number) => number) => TxnOp[]; code: SkiffError['code']; at: number }[] = [
        { name: 'a create of an existing key', ops: () => [{ op: 'create', key: '/n1', value: 1 }, { op: 'create', key: '/exists', value: 2 }], code: 'SKIFF_ERR_ALREADY_EXISTS', at: 1 },
        { name: 'an update of a missing key', ops: () => [{ op: 'update', key: '/missing', value: 1 }, { op: 'create', key: '/n1', value: 1 }], code: 'SKIFF_ERR_NOT_FOUND', at: 0 },
        { name: 'an update with a stale modRevision', ops: (r) => [{ op: 'create', key: '/n1', value: 1 }, { op: 'update', key: '/exists', value: 2, expectedModRevision: r(0) }], code: 'SKIFF_ERR_CONFLICT', at: 1 },
        { name: 'a delete of a missing key', ops: () => [{ op: 'delete', key: '/exists' }, { op: 'delete', key: '/missing' }], code: 'SKIFF_ERR_NOT_FOUND', at: 1 },
        { name: 'a delete with a stale modRevision', ops: (r) => [{ op: 'delete', key: '/exists', expectedModRevision: r(5) }], code: 'SKIFF_ERR_CONFLICT', at: 0 },
      ];
      it.each(refusals)('$name: $code naming the op, and nothing is written, watched or counted', ({ ops, code, at }) =>
        withStore(async (s, r) => {
          await s.create('/exists', 'original');
          const w = watchInto(s, '/', undefined);
          await expect(s.txn(ops(r))).rejects.toMatchObject({ name: 'SkiffError', code, details: [expect.objectContaining({ field: `ops[${at}]` })] });
          expect(await s.revision()).toBe(r(1));
          expect((await s.list('')).entries).toEqual([{ key: '/exists', value: 'original', createRevision: r(1), modRevision: r(1) }]);
          await s.create('/marker', 1);
          expect((await w.until(1)).map((e) => e.key)).toEqual(['/marker']);
          w.watch.close();
        }));

      const bad: [string, () => TxnOp[]][] = [
        ['no ops', () => []],
        [`more than ${maxTxnOps} ops`, () => Array.from({ length: maxTxnOps + 1 }, (_, i) => ({ op: 'create' as const, key: `/many/${i}`, value: i }))],
        ['two ops on one key', () => [{ op: 'create', key: '/d', value: 1 }, { op: 'delete', key: '/d' }]],
        ['a key that is not a path', () => [{ op: 'create', key: 'nope', value: 1 }]],
        ['an unknown op', () => [{ op: 'put', key: '/x', value: 1 } as unknown as TxnOp]],
        ['a value with no JSON form', () => [{ op: 'create', key: '/x', value: undefined }]],
        ['a negative expected revision', () => [{ op: 'update', key: '/exists', value: 1, expectedModRevision: -1 }]],
        [`values over ${maxTxnBytes} bytes`, () => [{ op: 'create', key: '/big1', value: 'x'.repeat(maxTxnBytes / 2) }, { op: 'create', key: '/big2', value: 'x'.repeat(maxTxnBytes / 2) }]],
      ];
      it.each(bad)('refuses %s with SKIFF_ERR_BAD_REQUEST before writing anything', (_, ops) =>
        withStore(async (s, r) => {
          await s.create('/exists', 'original');
          await expectCode(s.txn(ops()), 'SKIFF_ERR_BAD_REQUEST');
          expect(await s.revision()).toBe(r(1));
          expect((await s.list('')).entries).toHaveLength(1);
        }));

      it(`holds ${maxTxnOps} ops, and a watch from before it replays them from history with their one revision`, () =>
        withStore(async (s, r) => {
          await s.txn(Array.from({ length: maxTxnOps }, (_, i) => ({ op: 'create' as const, key: `/h/${String(i).padStart(3, '0')}`, value: i })));
          await s.create('/h/z', 'z');
          const w = watchInto(s, '/h/', r(0));
          const events = await w.until(maxTxnOps + 1);
          expect(events.slice(0, maxTxnOps).every((e) => e.revision === r(1) && e.created)).toBe(true);
          expect(events.slice(0, maxTxnOps).map((e) => e.value)).toEqual(Array.from({ length: maxTxnOps }, (_, i) => i));
          expect(events[maxTxnOps]).toMatchObject({ key: '/h/z', revision: r(2) });
          w.watch.close();
        }));

      it('N parallel transactions expecting one revision of a shared key: exactly one applies, wholly', () =>
        withStore(async (s) => {
          const { modRevision } = await s.create('/race', 0);
          const results = await Promise.allSettled(
            Array.from({ length: 10 }, (_, i) => s.txn([{ op: 'update', key: '/race', value: i, expectedModRevision: modRevision }, { op: 'create', key: `/won/${i}`, value: i }])),
          );
          const won = results.flatMap((x, i) => (x.status === 'fulfilled' ? [i] : []));
          expect(won).toHaveLength(1);
          for (const x of results) if (x.status === 'rejected') expect((x.reason as SkiffError).code).toBe('SKIFF_ERR_CONFLICT');
          expect((await s.get('/race'))!.value).toBe(won[0]);
          expect((await s.list('/won/')).entries.map((e) => e.key)).toEqual([`/won/${won[0]}`]);
        }));
    });

    describe('compaction', () => {
      it('a watch from before the compacted revision fails with CONFLICT "compacted"; from it, it replays the rest', () =>
        withStore(async (s, r) => {
          for (let i = 1; i <= 5; i++) await s.create(`/k${i}`, i);
          await s.compact(r(3));
          expect(() => s.watch('/', r(2), () => {})).toThrowError(expect.objectContaining({ code: 'SKIFF_ERR_CONFLICT', message: expect.stringContaining('compacted') }));
          const w = watchInto(s, '/', r(3));
          expect((await w.until(2)).map((e) => e.revision)).toEqual([r(4), r(5)]);
          w.watch.close();
          // Values stay; compacting an older revision again is a no-op.
          expect((await s.list('')).entries).toHaveLength(5);
          await s.compact(r(1));
          expect(() => s.watch('/', r(2), () => {})).toThrowError(/compacted/);
        }));
    });

    describe('concurrency', () => {
      it('N parallel updates with the same expected revision: exactly one wins', () =>
        withStore(async (s) => {
          const { modRevision } = await s.create('/race', 0);
          const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.update('/race', i, modRevision)));
          const won = results.filter((r) => r.status === 'fulfilled');
          expect(won).toHaveLength(1);
          for (const r of results) if (r.status === 'rejected') expect((r.reason as SkiffError).code).toBe('SKIFF_ERR_CONFLICT');
          expect((await s.get('/race'))!.value).toBe((won[0] as PromiseFulfilledResult<{ value: number }>).value.value);
        }));

      it('N parallel creates of one key: exactly one wins', () =>
        withStore(async (s, r) => {
          const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.create('/once', i)));
          expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
          expect(await s.revision()).toBe(r(1));
        }));
    });

    describe('closed store', () => {
      it('rejects reads, writes and watches after close with SKIFF_ERR_UNAVAILABLE', async () => {
        const s = await open();
        await s.close();
        await expectCode(s.get('/k'), 'SKIFF_ERR_UNAVAILABLE');
        await expectCode(s.create('/k', 1), 'SKIFF_ERR_UNAVAILABLE');
        await expectCode(s.list('/'), 'SKIFF_ERR_UNAVAILABLE');
        await expectCode(s.txn([{ op: 'create', key: '/k', value: 1 }]), 'SKIFF_ERR_UNAVAILABLE');
        expect(() => s.watch('/', undefined, () => {})).toThrowError(expect.objectContaining({ code: 'SKIFF_ERR_UNAVAILABLE' }));
        await s.close(); // closing twice is fine
      });
    });

    describe.skipIf(!reopen)('persistence', () => {
      it('close + reopen keeps keys, revisions, history and the compaction mark', async () => {
        const first = await open();
        const base = await first.revision();
        const r = (n: number) => base + n;
        await first.create('/p/a', { n: 1 }); // 1
        await first.create('/p/b', { n: 1 }); // 2
        await first.update('/p/a', { n: 2 }); // 3
        await first.delete('/p/b'); //          4
        await first.compact(r(1));
        await first.close();

        const s = await reopen!(first);
        try {
          expect(await s.revision()).toBe(r(4));
          expect(await s.list('/p/')).toEqual({ entries: [{ key: '/p/a', value: { n: 2 }, createRevision: r(1), modRevision: r(3) }], revision: r(4) });
          expect((await s.create('/p/c', 1)).modRevision).toBe(r(5));
          expect(() => s.watch('/p/', r(0), () => {})).toThrowError(/compacted/);
          const w = watchInto(s, '/p/', r(1));
          expect((await w.until(4)).map((e) => [e.type, e.key, e.revision])).toEqual([
            ['put', '/p/b', r(2)],
            ['put', '/p/a', r(3)],
            ['delete', '/p/b', r(4)],
            ['put', '/p/c', r(5)],
          ]);
          w.watch.close();
        } finally {
          await s.close();
        }
      });
    });
  });
}
