/**
 * One kind's cache (master/informer-bucket.ts), table by table: a namespace lists its own objects only, cluster-scoped
 * objects are in no namespace, a change keeps one entry, deletes leave both the kind and the namespace, and a random
 * history lists what a scan of the kind filtered by namespace would.
 */
import { describe, expect, it } from 'vitest';
import { KindBucket } from '../../master/informer-bucket.js';
import { cacheKey } from '../../master/informer.js';
import type { KObject } from '../../protocol/index.js';

const obj = (namespace: string | undefined, name: string, v = 1): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(namespace ? { namespace } : {}) }, data: { v: String(v) } }) as KObject;

type Op = ['put', string | undefined, string, number?] | ['del', string | undefined, string];

function run(ops: Op[], b = new KindBucket()): KindBucket {
  for (const op of ops) {
    if (op[0] === 'put') b.set(obj(op[1], op[2], op[3]));
    else b.delete(op[1], op[2]);
  }
  return b;
}

const names = (os: KObject[]) => os.map((o) => cacheKey(o.metadata.namespace, o.metadata.name)).sort();

describe('informer bucket', () => {
  const cases: { name: string; ops: Op[]; ns?: string; listed: string[] }[] = [
    { name: 'one namespace lists its own objects', ops: [['put', 'a', 'x'], ['put', 'b', 'y'], ['put', 'a', 'w']], ns: 'a', listed: ['a/w', 'a/x'] },
    { name: 'every namespace', ops: [['put', 'b', 'y'], ['put', 'a', 'x'], ['put', 'a-b', 'z']], listed: ['a-b/z', 'a/x', 'b/y'] },
    { name: 'an unknown namespace is empty', ops: [['put', 'a', 'x']], ns: 'zz', listed: [] },
    { name: 'cluster-scoped objects are not in a namespace', ops: [['put', undefined, 'n2'], ['put', undefined, 'n1']], ns: 'default', listed: [] },
    { name: 'cluster-scoped objects in the whole kind', ops: [['put', undefined, 'n2'], ['put', undefined, 'n1']], listed: ['n1', 'n2'] },
    { name: 'a change keeps one entry', ops: [['put', 'a', 'x', 1], ['put', 'a', 'x', 2], ['put', 'a', 'x', 3]], ns: 'a', listed: ['a/x'] },
    { name: 'a delete leaves the kind', ops: [['put', 'a', 'x'], ['put', 'a', 'y'], ['del', 'a', 'x']], listed: ['a/y'] },
    { name: 'deleted then added again: once', ops: [['put', 'a', 'x'], ['del', 'a', 'x'], ['put', 'a', 'x', 2]], ns: 'a', listed: ['a/x'] },
    { name: 'the last of a namespace deleted', ops: [['put', 'a', 'x'], ['del', 'a', 'x']], ns: 'a', listed: [] },
    { name: 'deleting what is not there', ops: [['del', 'a', 'x'], ['put', 'a', 'y']], listed: ['a/y'] },
  ];
  it.each(cases)('$name', ({ ops, ns, listed }) => {
    const b = run(ops);
    expect(names(b.list(ns))).toEqual(listed);
    expect(b.size).toBe(b.list().length);
  });

  it('finds a cluster-scoped object by its name alone, with no namespace or an empty one, and by its cache key', () => {
    const b = run([['put', undefined, 'n1'], ['put', 'a', 'n1', 2]]);
    expect(b.get(undefined, 'n1')?.data).toEqual({ v: '1' });
    expect(b.get('', 'n1')?.data).toEqual({ v: '1' });
    expect(b.getKey('n1')?.data).toEqual({ v: '1' });
    expect(b.get('a', 'n1')?.data).toEqual({ v: '2' });
    expect(b.getKey('a/n1')?.data).toEqual({ v: '2' });
    b.delete(undefined, 'n1');
    expect([b.get(undefined, 'n1'), b.getKey('n1'), b.size]).toEqual([undefined, undefined, 1]);
  });

  it('hands out the current object of each key, and lists what a filtered scan of the kind would, through a random history', () => {
    const b = new KindBucket();
    const truth = new Map<string, KObject>();
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let step = 0; step < 5000; step++) {
      const ns = ['a', 'b', 'a-b', 'c.d'][rand(4)]!;
      const name = `p${rand(300)}`;
      const key = cacheKey(ns, name);
      if (rand(3) === 0) {
        b.delete(ns, name);
        truth.delete(key);
      } else {
        const o = obj(ns, name, step);
        b.set(o);
        truth.set(key, o);
      }
      if (rand(50) === 0)
        for (const n of ['a', 'b', 'a-b', 'c.d']) {
          const listed = b.list(n);
          expect(names(listed)).toEqual(names([...truth.values()].filter((o) => o.metadata.namespace === n)));
          // Each the key's current object, not an older version of it.
          for (const o of listed) expect(o).toBe(truth.get(cacheKey(o.metadata.namespace, o.metadata.name)));
        }
    }
    for (const [k, o] of truth) {
      expect(b.getKey(k)).toBe(o);
      expect(b.get(o.metadata.namespace, o.metadata.name)).toBe(o);
    }
    expect(b.size).toBe(truth.size);
    expect(new Map(b.entries())).toEqual(truth);
    expect([...b.values()].every((o) => truth.get(cacheKey(o.metadata.namespace, o.metadata.name)) === o)).toBe(true);
  });
});
