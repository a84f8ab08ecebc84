// Load balancer contract, run against both implementations.
import { describe, expect, it } from 'vitest';
import { createBalancer, type BalancerAlgorithm } from '../../core-wasm/index.js';

const impls = ['wasm', 'reference'] as const;
const eps = (n: number, weight?: (i: number) => number) => Array.from({ length: n }, (_, i) => ({ id: `10.0.${i >> 8}.${i & 255}:8080`, weight: weight?.(i) }));
const keys = (n: number) => Array.from({ length: n }, (_, i) => `192.168.${(i >> 8) & 255}.${i & 255}:${40000 + (i % 999)}`);

describe.each(impls)('balancers (%s)', (impl) => {
  it.each(['maglev', 'round-robin', 'least-connections', 'power-of-two'] as BalancerAlgorithm[])('%s returns -1 without endpoints or weight', async (algorithm) => {
    const b = await createBalancer({ impl, algorithm, tableSize: 251 });
    expect(b.pick('k')).toBe(-1);
    b.setEndpoints([{ id: 'a', weight: 0 }]);
    expect(b.pick('k')).toBe(-1);
    expect([...b.pickBatch(algorithm === 'maglev' ? ['x', 'y'] : 2)]).toEqual([-1, -1]);
  });

  it('maglev: a key sticks to its endpoint, load is even, and input order does not matter', async () => {
    const b = await createBalancer({ impl, algorithm: 'maglev' });
    b.setEndpoints(eps(10));
    const ks = keys(20000);
    const picks = b.pickBatch(ks);
    expect(ks.slice(0, 50).map((k) => b.pick(k))).toEqual([...picks.slice(0, 50)]);
    const counts = new Array(10).fill(0);
    for (const p of picks) counts[p]++;
    for (const c of counts) expect(c / ks.length).toBeGreaterThan(0.08), expect(c / ks.length).toBeLessThan(0.12);
    const r = await createBalancer({ impl, algorithm: 'maglev' });
    r.setEndpoints(eps(10).reverse());
    const ids = (bal: typeof b, ps: Int32Array) => [...ps].map((i) => bal.endpoints[i].id);
    expect(ids(r, r.pickBatch(ks))).toEqual(ids(b, picks));
  });

  it('maglev: removing one of 100 endpoints moves few keys beyond its own', async () => {
    const b = await createBalancer({ impl, algorithm: 'maglev' });
    const all = eps(100);
    b.setEndpoints(all);
    const ks = keys(30000);
    const before = [...b.pickBatch(ks)].map((i) => b.endpoints[i].id);
    b.setEndpoints(all.filter((_, i) => i !== 37));
    const after = [...b.pickBatch(ks)].map((i) => b.endpoints[i].id);
    let own = 0;
    let moved = 0;
    before.forEach((id, k) => {
      if (id === all[37].id) own++;
      else if (after[k] !== id) moved++;
    });
    expect(own).toBeGreaterThan(0);
    expect(after).not.toContain(all[37].id);
    expect(moved / ks.length).toBeLessThan(0.03);
  });

  it('maglev: weights give proportional shares', async () => {
    const b = await createBalancer({ impl, algorithm: 'maglev', tableSize: 65537 });
    b.setEndpoints([{ id: 'a', weight: 3 }, { id: 'b', weight: 1 }, { id: 'c', weight: 0 }]);
    const picks = b.pickBatch(keys(20000));
    const share = [...picks].filter((p) => b.endpoints[p].id === 'a').length / picks.length;
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.8);
    expect([...picks].some((p) => b.endpoints[p].id === 'c')).toBe(false);
  });

  it('smooth weighted round robin interleaves by weight (nginx: 5,1,1 → a a b a c a a)', async () => {
    const b = await createBalancer({ impl, algorithm: 'round-robin' });
    b.setEndpoints([{ id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }]);
    const seq = [...b.pickBatch(7), ...Array.from({ length: 7 }, () => b.pick())].map((i) => b.endpoints[i].id).join('');
    expect(seq).toBe('aabacaa'.repeat(2));
  });

  it('weighted least connections picks the least loaded per weight and releases', async () => {
    const b = await createBalancer({ impl, algorithm: 'least-connections' });
    b.setEndpoints([{ id: 'a', weight: 2 }, { id: 'b', weight: 1 }]);
    const picks = [...b.pickBatch(6)].map((i) => b.endpoints[i].id).join('');
    // a: 0/2, b: 0/1 → a (tie, lower index); a 1/2 < b 0/1? no, 0 < 1/2 → b; then a, a, b, a ...
    expect(picks).toBe('abaaba');
    expect([b.active(0), b.active(1)]).toEqual([4, 2]);
    b.release(1);
    b.release(1);
    expect(b.endpoints[b.pick()].id).toBe('b');
    b.setEndpoints([{ id: 'c' }, { id: 'a', weight: 2 }]);
    expect(b.active(1)).toBe(4);
  });

  it('power of two choices is seeded and keeps load level', async () => {
    const mk = async (seed: number) => {
      const b = await createBalancer({ impl, algorithm: 'power-of-two', seed });
      b.setEndpoints(eps(8));
      return b;
    };
    const [b1, b2, b3] = await Promise.all([mk(7), mk(7), mk(8)]);
    const s1 = [...b1.pickBatch(400)];
    expect([...b2.pickBatch(200), ...Array.from({ length: 200 }, () => b2.pick())]).toEqual(s1);
    expect([...b3.pickBatch(400)]).not.toEqual(s1);
    const loads = Array.from({ length: 8 }, (_, i) => b1.active(i));
    expect(loads.reduce((a, c) => a + c, 0)).toBe(400);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(4);
  });

  it('rejects bad options and endpoints naming the field', async () => {
    await expect(createBalancer({ impl, algorithm: 'maglev', tableSize: 65536 })).rejects.toThrow(/tableSize: must be a prime/);
    const b = await createBalancer({ impl, algorithm: 'round-robin' });
    expect(() => b.setEndpoints([{ id: 'a', weight: -1 }])).toThrow(/weight: must be an integer in 0\.\.65535/);
    expect(() => b.setEndpoints([{ id: 'a' }, { id: 'a' }])).toThrow(/appears twice/);
  });
});
