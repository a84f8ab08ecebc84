/**
 * One kind's cache (master/informer-bucket.ts), table by table: a namespace lists its own objects only, the key order is
 * the store's (`namespace/name` as strings, '/' sorting after '-'), changes keep the order without repeats, deletes and
 * re-adds between two ordered lists come out once, and the kept order does not grow with churn nobody lists.
 */
import { describe, expect, it } from 'vitest';
import { KindBucket } from '../../master/informer-bucket.js';
import { cacheKey } from '../../master/informer.js';
import type { KObject } from '../../protocol/index.js';

const obj = (namespace: string | undefined, name: string, v = 1): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(namespace ? { namespace } : {}) }, data: { v: String(v) } }) as KObject;

type Op = ['put', string | undefined, string, number?] | ['del', string | undefined, string];

function run(ops: Op[], b = new KindBucket()): KindBucket {
  for (const op of ops) {
    const key = cacheKey(op[1], op[2]);
    if (op[0] === 'put') b.set(key, obj(op[1], op[2], op[3]));
    else b.delete(key);
  }
  return b;
}

const names = (os: KObject[]) => os.map((o) => cacheKey(o.metadata.namespace, o.metadata.name));

describe('informer bucket', () => {
  const cases: { name: string; ops: Op[]; ns?: string; listed: string[]; ordered: string[] }[] = [
    { name: 'one namespace lists its own objects', ops: [['put', 'a', 'x'], ['put', 'b', 'y'], ['put', 'a', 'w']], ns: 'a', listed: ['a/w', 'a/x'], ordered: ['a/w', 'a/x'] },
    { name: 'every namespace in store key order', ops: [['put', 'b', 'y'], ['put', 'a', 'x'], ['put', 'a-b', 'z']], listed: ['a-b/z', 'a/x', 'b/y'], ordered: ['a-b/z', 'a/x', 'b/y'] },
    { name: 'an unknown namespace is empty', ops: [['put', 'a', 'x']], ns: 'zz', listed: [], ordered: [] },
    { name: 'cluster-scoped objects are not in a namespace', ops: [['put', undefined, 'n2'], ['put', undefined, 'n1']], ns: 'default', listed: [], ordered: [] },
    { name: 'cluster-scoped objects in name order', ops: [['put', undefined, 'n2'], ['put', undefined, 'n1']], listed: ['n1', 'n2'], ordered: ['n1', 'n2'] },
    { name: 'a change keeps one entry', ops: [['put', 'a', 'x', 1], ['put', 'a', 'x', 2], ['put', 'a', 'x', 3]], ns: 'a', listed: ['a/x'], ordered: ['a/x'] },
    { name: 'a delete leaves the namespace and the order', ops: [['put', 'a', 'x'], ['put', 'a', 'y'], ['del', 'a', 'x']], listed: ['a/y'], ordered: ['a/y'] },
    { name: 'deleted then added again: once', ops: [['put', 'a', 'x'], ['del', 'a', 'x'], ['put', 'a', 'x', 2]], ns: 'a', listed: ['a/x'], ordered: ['a/x'] },
    { name: 'the last of a namespace deleted', ops: [['put', 'a', 'x'], ['del', 'a', 'x']], ns: 'a', listed: [], ordered: [] },
    { name: 'deleting what is not there', ops: [['del', 'a', 'x'], ['put', 'a', 'y']], listed: ['a/y'], ordered: ['a/y'] },
  ];
  it.each(cases)('$name', ({ ops, ns, listed, ordered }) => {
    const b = run(ops);
    expect(names(b.list(ns)).sort()).toEqual(listed);
    expect(names(b.ordered(ns))).toEqual(ordered);
    expect(b.size).toBe(new Set(names(b.list())).size);
  });

  it('hands out the current object of each key, in order, across changes between lists', () => {
    const b = run([['put', 'a', 'c'], ['put', 'a', 'a'], ['put', 'b', 'b']]);
    expect(names(b.ordered())).toEqual(['a/a', 'a/c', 'b/b']);
    // Between two lists: a change, an add (appended to the kept order), a delete and a delete-then-add.
    run([['put', 'a', 'a', 7], ['put', 'a', 'b'], ['del', 'a', 'c'], ['del', 'b', 'b'], ['put', 'b', 'b', 9]], b);
    const second = b.ordered();
    expect(names(second)).toEqual(['a/a', 'a/b', 'b/b']);
    expect(second.map((o) => (o.data as Record<string, string>).v)).toEqual(['7', '1', '9']);
    expect(names(b.ordered('a'))).toEqual(['a/a', 'a/b']);
    for (const o of second) expect(b.get(cacheKey(o.metadata.namespace, o.metadata.name))).toBe(o);
  });

  it('keeps a random history in the order a sort from scratch gives', () => {
    const b = new KindBucket();
    const truth = new Map<string, KObject>();
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let step = 0; step < 5000; step++) {
      const ns = ['a', 'b', 'a-b', 'c.d'][rand(4)]!;
      const name = `p${rand(300)}`;
      const key = cacheKey(ns, name);
      if (rand(3) === 0) {
        b.delete(key);
        truth.delete(key);
      } else {
        const o = obj(ns, name, step);
        b.set(key, o);
        truth.set(key, o);
      }
      if (rand(50) === 0) {
        const want = [...truth.keys()].sort();
        expect(names(b.ordered())).toEqual(want);
        expect(names(b.ordered('a'))).toEqual(want.filter((k) => k.startsWith('a/')));
      }
    }
    expect(b.ordered()).toEqual([...truth.keys()].sort().map((k) => truth.get(k)));
  });

  it('does not keep removed keys without bound when nobody lists again', () => {
    const b = new KindBucket();
    b.ordered(); // from now on the bucket keeps an order
    for (let i = 0; i < 50_000; i++) {
      b.set(cacheKey('a', `p${i}`), obj('a', `p${i}`));
      b.delete(cacheKey('a', `p${i}`));
    }
    const kept = (b as unknown as { all: { order: string[] } }).all.order;
    expect(kept.length).toBeLessThanOrEqual(2 * b.size + 1024 + 1);
    expect(b.ordered()).toEqual([]);
  });
});
