// The wasm engine and its reference twin must agree exactly: placements, scores, reasons,
// messages, and balancer picks, on random clusters and endpoint sets (fast-check).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createBalancer, createEngine, type BalancerAlgorithm, type Engine, type EngineOptions, type Placement, type ResourceStrategy } from '../../core-wasm/index.js';
import { randomNode, randomPod, rng } from '../../bench/engine-cluster.js';

/** Runs one random scenario on an engine: nodes, bindings, batches, node changes, more batches. */
function scenario(e: Engine, seed: number, nodes: number, pods: number): Placement[] {
  const r = rng(seed);
  const out: Placement[] = [];
  const nodeList = Array.from({ length: nodes }, (_, i) => randomNode(r, i));
  for (const n of nodeList) e.upsertNode(n);
  let k = 0;
  for (let b = 0; nodes > 0 && b < Math.min(3, Math.floor(pods / 10)); b++) {
    const n = nodeList[Math.floor(r() * nodes)];
    e.bindPod(n.name, randomPod(r, k++));
  }
  const batch = (count: number): void => {
    const placed = e.schedule(Array.from({ length: count }, () => randomPod(r, k++)));
    out.push(...placed);
    for (const p of placed) if (p.node && r() < 0.1) e.unbindPod(p.node, p.pod);
  };
  batch(Math.ceil(pods / 2));
  if (nodes > 2) {
    e.removeNode(nodeList[1].name);
    e.upsertNode({ ...nodeList[0], labels: { ...nodeList[0].labels, zone: 'z9' }, unschedulable: false });
    e.upsertNode(randomNode(r, nodes + 1));
  }
  batch(Math.floor(pods / 2));
  return out;
}

/** Random scoring settings: every strategy, random resource weights, random RequestedToCapacityRatio shapes. */
const scoring: fc.Arbitrary<Partial<EngineOptions>> = fc.record({
  strategy: fc.constantFrom('LeastAllocated', 'MostAllocated', 'RequestedToCapacityRatio') as fc.Arbitrary<ResourceStrategy>,
  utilizations: fc.uniqueArray(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 5 }),
  scores: fc.array(fc.integer({ min: 0, max: 10 }), { minLength: 5, maxLength: 5 }),
  resourceWeights: fc.option(fc.record({ cpu: fc.integer({ min: 0, max: 100 }), memory: fc.integer({ min: 0, max: 100 }), ephemeralStorage: fc.integer({ min: 0, max: 100 }) }), { nil: undefined }),
}).map(({ strategy, utilizations, scores, resourceWeights }) => ({
  resourceStrategy: strategy,
  resourceWeights,
  shape: strategy === 'RequestedToCapacityRatio' ? [...utilizations].sort((a, b) => a - b).map((utilization, k) => ({ utilization, score: scores[k] })) : undefined,
}));

describe('engine parity: wasm = reference', () => {
  it('agrees on random clusters and scoring settings (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 80 }), scoring, async (seed, nodes, pods, settings) => {
        const opts = { ...settings, maxNodes: 4 };
        const w = scenario(await createEngine({ impl: 'wasm', ...opts }), seed, nodes, pods);
        const ref = scenario(await createEngine({ impl: 'reference', ...opts }), seed, nodes, pods);
        expect(w).toEqual(ref);
      }),
      { numRuns: 90 },
    );
  });

  it('agrees on a 500-node cluster with 1000 pods, and places most of them', async () => {
    const w = scenario(await createEngine({ impl: 'wasm' }), 20261127, 500, 1000);
    const ref = scenario(await createEngine({ impl: 'reference' }), 20261127, 500, 1000);
    expect(w).toEqual(ref);
    expect(w.filter((p) => p.node).length).toBeGreaterThan(500);
    expect(w.some((p) => !p.node)).toBe(true);
  });
});

describe('balancer parity: wasm = reference', () => {
  const algorithms: BalancerAlgorithm[] = ['maglev', 'round-robin', 'least-connections', 'power-of-two'];
  it('agrees on random endpoint sets, keys, releases and changes (fast-check)', async () => {
    const endpoints = fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 12 }), weight: fc.integer({ min: 0, max: 5 }) }), { selector: (e) => e.id, maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...algorithms), endpoints, endpoints, fc.array(fc.string(), { maxLength: 60 }), fc.integer(), async (algorithm, first, second, keys, seed) => {
        const run = async (impl: 'wasm' | 'reference') => {
          const b = await createBalancer({ impl, algorithm, tableSize: 1009, seed });
          const picks: number[] = [];
          b.setEndpoints(first);
          for (const k of keys) picks.push(b.pick(k));
          picks.push(...b.pickBatch(algorithm === 'maglev' ? keys : keys.length));
          for (let i = 0; i < b.endpoints.length; i += 2) b.release(i);
          b.setEndpoints(second);
          picks.push(...b.pickBatch(algorithm === 'maglev' ? keys : keys.length));
          return { picks, active: b.endpoints.map((_, i) => b.active(i)) };
        };
        expect(await run('wasm')).toEqual(await run('reference'));
      }),
      { numRuns: 80 },
    );
  });
});
