/**
 * `list` from the informers' cache (master/api/list-index.ts, handlers/objects.ts): the index gives exactly what a
 * sort of the cache would, in the store's key order, through adds, replacements, deletes and re-adds, by namespace;
 * and a list answered from the cache reflects every write acknowledged before it — with the store telling its revealed
 * revision without waiting (SQLite), and with a store that cannot (the store's revision, as etcd).
 */
import { describe, expect, it } from 'vitest';
import type { ApiContext } from '../../master/api/types.js';
import { KindIndex, listIndex, orderKey } from '../../master/api/list-index.js';
import { list } from '../../master/api/handlers/objects.js';
import { Informers } from '../../master/informer.js';
import { Objects } from '../../master/objects.js';
import { DelegatingStore } from '../../master/store/delegating.js';
import { openSqliteStore } from '../../master/store/sqlite.js';
import { silentLogger, type ApiRequest, type KObject } from '../../protocol/index.js';

const obj = (namespace: string | undefined, name: string, v = 0): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(namespace === undefined ? {} : { namespace }) }, data: { v: String(v) } }) as KObject;

/** What the cache holds, sorted as the store lists: the reference the index must match. */
function naive(cache: Map<string, KObject>, namespace?: string): KObject[] {
  return [...cache.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace).sort((a, b) => (orderKey(a) < orderKey(b) ? -1 : orderKey(a) > orderKey(b) ? 1 : 0));
}

type Op = ['put', string | undefined, string] | ['del', string | undefined, string] | ['list', string | undefined];

/** Runs ops on an index and on a plain map; every `list` must give the same objects (the very same, by identity). */
function run(ops: Op[]): void {
  const index = new KindIndex();
  const cache = new Map<string, KObject>();
  let v = 0;
  for (const op of ops) {
    if (op[0] === 'list') {
      const got = index.list(op[1]);
      const want = naive(cache, op[1]);
      expect(got.map(orderKey)).toEqual(want.map(orderKey));
      expect(got.every((o, i) => o === want[i])).toBe(true);
      continue;
    }
    const key = `${op[1] ?? ''}/${op[2]}`;
    const old = cache.get(key);
    if (op[0] === 'put') {
      const o = obj(op[1], op[2], ++v);
      cache.set(key, o);
      index.onChange(o, old, o);
    } else if (old) {
      cache.delete(key);
      index.onChange(undefined, old, old);
    }
  }
  expect(index.size).toBe(cache.size);
}

describe('KindIndex', () => {
  const cases: { name: string; ops: Op[] }[] = [
    { name: 'empty', ops: [['list', undefined], ['list', 'default']] },
    { name: 'adds out of order', ops: [['put', 'default', 'c'], ['put', 'default', 'a'], ['put', 'default', 'b'], ['list', undefined], ['list', 'default']] },
    { name: 'adds after a list are merged in', ops: [['put', 'default', 'b'], ['put', 'default', 'd'], ['list', 'default'], ['put', 'default', 'a'], ['put', 'default', 'c'], ['put', 'default', 'e'], ['list', 'default']] },
    { name: 'a replaced object is the new one, in its place', ops: [['put', 'default', 'a'], ['put', 'default', 'b'], ['list', undefined], ['put', 'default', 'a'], ['list', undefined]] },
    { name: 'deletes', ops: [['put', 'default', 'a'], ['put', 'default', 'b'], ['put', 'default', 'c'], ['list', undefined], ['del', 'default', 'b'], ['list', undefined], ['del', 'default', 'a'], ['del', 'default', 'c'], ['list', undefined]] },
    { name: 'deleted and added again before a list: once', ops: [['put', 'default', 'a'], ['list', undefined], ['del', 'default', 'a'], ['put', 'default', 'a'], ['list', undefined]] },
    { name: 'added, deleted, added again, all between lists', ops: [['put', 'default', 'x'], ['del', 'default', 'x'], ['put', 'default', 'x'], ['put', 'default', 'w'], ['list', undefined]] },
    { name: 'added and deleted between lists: absent', ops: [['put', 'default', 'a'], ['list', undefined], ['put', 'default', 'b'], ['del', 'default', 'b'], ['list', undefined]] },
    {
      name: 'namespaces that share a prefix stay apart',
      ops: [['put', 'a', 'p'], ['put', 'a-b', 'p'], ['put', 'ab', 'p'], ['put', 'a.b', 'p'], ['put', 'a', 'q'], ['put', 'a0', 'p'], ['list', 'a'], ['list', 'a-b'], ['list', 'ab'], ['list', 'a0'], ['list', 'zz'], ['list', undefined]],
    },
    { name: 'cluster-scoped objects', ops: [['put', undefined, 'node-b'], ['put', undefined, 'node-a'], ['list', undefined], ['del', undefined, 'node-b'], ['list', undefined]] },
  ];
  for (const c of cases) it(c.name, () => run(c.ops));

  it('matches a sort of the cache through 3,000 random changes', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const namespaces = ['default', 'kube-system', 'a', 'a-b', 'ab'];
    const ops: Op[] = [];
    for (let i = 0; i < 3000; i++) {
      const r = rand(20);
      const ns = namespaces[rand(namespaces.length)];
      const name = `p${rand(300)}`;
      ops.push(r === 0 ? ['list', rand(2) ? ns : undefined] : r < 6 ? ['del', ns, name] : ['put', ns, name]);
    }
    ops.push(['list', undefined], ...namespaces.map((ns): Op => ['list', ns]));
    run(ops);
  });

  it('a list asked again while nothing changed is the same list; any change, a replacement too, makes a new one', () => {
    const index = new KindIndex();
    const a = obj('default', 'a');
    const b = obj('other', 'b');
    index.onChange(a, undefined, a);
    index.onChange(b, undefined, b);
    const first = index.list('default');
    expect(index.list('default')).toBe(first);
    // Another namespace, then the first again: each is right (the kept list is the last one's only).
    expect(index.list('other')).toEqual([b]);
    expect(index.list(undefined)).toEqual([a, b]);
    expect(index.list('default')).toEqual([a]);
    const kept = index.list('default');
    const a2 = obj('default', 'a', 2);
    index.onChange(a2, a, a2);
    const after = index.list('default');
    expect(after).not.toBe(kept);
    expect(after[0]).toBe(a2);
    expect(kept[0]).toBe(a); // a list already answered is never changed
    index.onChange(undefined, a2, a2);
    expect(index.list('default')).toEqual([]);
  });

  it('listIndex registers once per kind and starts from what the cache holds', () => {
    const handlers: [string, (o: KObject | undefined, old: KObject | undefined, latest: KObject) => void][] = [];
    const held = [obj('default', 'b'), obj('default', 'a')];
    const informers = {
      on: (kind: string, h: (o: KObject | undefined, old: KObject | undefined, latest: KObject) => void) => {
        handlers.push([kind, h]);
        for (const o of held) h(o, undefined, o);
      },
    };
    const index = listIndex(informers, 'ConfigMap');
    expect(listIndex(informers, 'ConfigMap')).toBe(index);
    expect(handlers.map(([k]) => k)).toEqual(['ConfigMap']);
    expect(index.list('default').map((o) => o.metadata.name)).toEqual(['a', 'b']);
  });
});

/** A store that cannot tell its revealed revision (as etcd): lists wait for `revision()`. */
class Unrevealing extends DelegatingStore {
  override revealedRevision(): undefined {
    return undefined;
  }
}

describe('list from the cache', () => {
  for (const backend of ['sqlite (revealed revision)', 'a store without it (its revision)'] as const)
    it(`reflects every write acknowledged before it: ${backend}`, async () => {
      const sqlite = await openSqliteStore(':memory:');
      const store = backend.startsWith('sqlite') ? sqlite : new Unrevealing(sqlite);
      const informers = new Informers(store, silentLogger);
      await informers.start();
      const objects = new Objects(store, { cache: informers });
      await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } } as KObject);
      const ctx = { objects, informers } as unknown as ApiContext;
      const req = (namespace: string): ApiRequest => ({ id: '1', verb: 'list', kind: 'ConfigMap', namespace });
      const names = async (ns: string) => (await list(ctx, req(ns))).items.map((o) => o.metadata.name);
      let behind = 0;
      try {
        for (let i = 0; i < 40; i++) {
          // Writers in flight at once (one group commit): each list right after its own write's answer.
          const made = await Promise.all([0, 1, 2].map((j) => objects.create({ ...obj('default', `cm-${i}-${j}`), metadata: { name: `cm-${i}-${j}`, namespace: 'default' } } as KObject)));
          if (informers.revision < Number(made[2]!.metadata.resourceVersion)) behind++;
          const listed = await names('default');
          for (const m of made) expect(listed).toContain(m.metadata.name);
          if (i % 4 === 3) {
            await objects.delete('ConfigMap', 'default', `cm-${i}-0`);
            expect(await names('default')).not.toContain(`cm-${i}-0`);
          }
        }
        const answer = await list(ctx, req('default'));
        expect(answer.items.map((o) => o.metadata.name)).toEqual([...answer.items.map((o) => o.metadata.name)].sort());
        expect(answer.items).toHaveLength(120 - 10);
        expect(Number(answer.metadata.resourceVersion)).toBe(informers.revision);
        // The cache was behind some acknowledged writes when their lists came: the lists waited for it.
        expect(behind).toBeGreaterThan(0);
      } finally {
        informers.stop();
        await sqlite.close();
      }
    });
});
