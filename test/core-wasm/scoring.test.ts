// NodeResourcesFit scoring strategies and resource weights, against both engines, with the
// scores worked out by hand from kube-scheduler's formulas (least_allocated.go, most_allocated.go,
// requested_to_capacity_ratio.go, helper/shape_score.go). Only the resource plugin is weighted, so
// a placement's score is the NodeResourcesFit score itself.
import { describe, expect, it } from 'vitest';
import { createEngine, type EngineOptions } from '../../core-wasm/index.js';
import { nodeWith, podWith } from './builders.js';

const impls = ['wasm', 'reference'] as const;
const onlyResources = { resources: 1, balancedAllocation: 0, nodeAffinity: 0, taintToleration: 0, topologySpread: 0, imageLocality: 0 };
const packing = [{ utilization: 0, score: 0 }, { utilization: 100, score: 10 }];
const spreading = [{ utilization: 0, score: 10 }, { utilization: 100, score: 0 }];

/** The score of a pod (cpu 3 of 4, memory 2Gi of 8Gi: utilization 75 % and 25 %, unless told) on one node. */
async function scoreOf(impl: 'wasm' | 'reference', opts: Partial<EngineOptions>, node = nodeWith({ name: 'a', cpu: '4', memory: '8Gi' }), pod = podWith({ cpu: '3', memory: '2Gi' })): Promise<number> {
  const e = await createEngine({ impl, ...opts, weights: onlyResources });
  e.upsertNode(node);
  const [p] = e.schedule([pod]);
  expect(p.node).toBe(node.name);
  return p.score;
}

describe.each(impls)('NodeResourcesFit scoring (%s)', (impl) => {
  it.each([
    // LeastAllocated: cpu (4000 − 3000) × 100 / 4000 = 25, memory (8 − 2) × 100 / 8 = 75.
    ['LeastAllocated, cpu 1 memory 1: (25 + 75) / 2', { resourceStrategy: 'LeastAllocated' }, 50],
    ['LeastAllocated, cpu 3 memory 1: (3×25 + 75) / 4 = 37.5, truncated', { resourceStrategy: 'LeastAllocated', resourceWeights: { cpu: 3 } }, 37],
    // MostAllocated: cpu 75, memory 25.
    ['MostAllocated, cpu 3 memory 1: (3×75 + 25) / 4 = 62.5, truncated', { resourceStrategy: 'MostAllocated', resourceWeights: { cpu: 3 } }, 62],
    ['MostAllocated, memory only', { resourceStrategy: 'MostAllocated', resourceWeights: { cpu: 0 } }, 25],
    // RequestedToCapacityRatio, shape 0→0, 100→10 (×10): cpu 75, memory 25; rounded to nearest.
    ['RequestedToCapacityRatio packing, cpu 3 memory 1: 62.5 rounds to 63', { resourceStrategy: 'RequestedToCapacityRatio', shape: packing, resourceWeights: { cpu: 3 } }, 63],
    // Shape 0→10, 100→0: cpu 100 − 75 = 25, memory 75.
    ['RequestedToCapacityRatio spreading, cpu 3 memory 1: 37.5 rounds to 38', { resourceStrategy: 'RequestedToCapacityRatio', shape: spreading, resourceWeights: { cpu: 3 } }, 38],
    // Shape 0→10, 30→0: memory at 25 % is 100 + trunc(−100 × 25 / 30) = 100 − 83 = 17 (toward zero, not 16);
    // cpu at 75 % is past the last point: 0, and a 0 is left out of the average (weight too).
    ['RequestedToCapacityRatio, negative slope truncates toward zero, zeros left out', { resourceStrategy: 'RequestedToCapacityRatio', shape: [{ utilization: 0, score: 10 }, { utilization: 30, score: 0 }], resourceWeights: { cpu: 3 } }, 17],
    // One point: its score everywhere.
    ['RequestedToCapacityRatio, one point', { resourceStrategy: 'RequestedToCapacityRatio', shape: [{ utilization: 50, score: 5 }] }, 50],
    // Between points: 0→0, 50→2, 100→10: cpu 75 → 20 + (100 − 20) × 25 / 50 = 60; memory 25 → 0 + 20 × 25 / 50 = 10 → (60 + 10) / 2 = 35.
    ['RequestedToCapacityRatio, three points', { resourceStrategy: 'RequestedToCapacityRatio', shape: [{ utilization: 0, score: 0 }, { utilization: 50, score: 2 }, { utilization: 100, score: 10 }] }, 35],
  ] as [string, Partial<EngineOptions>, number][])('%s', async (_what, opts, want) => {
    expect(await scoreOf(impl, opts)).toBe(want);
  });

  it('scores ephemeral storage on the actual requests when weighted, and skips a resource with allocatable 0', async () => {
    const opts: Partial<EngineOptions> = { resourceStrategy: 'LeastAllocated', resourceWeights: { ephemeralStorage: 1 } };
    const pod = () => podWith({ cpu: '3', memory: '2Gi', ephemeral: '10Gi' });
    // ephemeral (100 − 10) × 100 / 100 = 90: (25 + 75 + 90) / 3 = 63.
    expect(await scoreOf(impl, opts, nodeWith({ name: 'a', cpu: '4', memory: '8Gi', ephemeral: '100Gi' }), pod())).toBe(63);
    // allocatable ephemeral 0 (a pod without ephemeral requests fits): left out, (25 + 75) / 2.
    expect(await scoreOf(impl, opts, nodeWith({ name: 'a', cpu: '4', memory: '8Gi', ephemeral: 0 }), podWith({ cpu: '3', memory: '2Gi' }))).toBe(50);
  });

  it('counts a pod without requests as 100m and 200 MiB for cpu and memory', async () => {
    // cpu (4000 − 100) × 100 / 4000 = 97, memory (8192 − 200) × 100 / 8192 = 97.
    expect(await scoreOf(impl, {}, undefined, podWith())).toBe(97);
  });

  it.each([
    ['MostAllocated packs onto the fuller node', { resourceStrategy: 'MostAllocated' }, 'b'],
    ['RequestedToCapacityRatio with a rising shape packs', { resourceStrategy: 'RequestedToCapacityRatio', shape: packing }, 'b'],
    ['RequestedToCapacityRatio with a falling shape spreads', { resourceStrategy: 'RequestedToCapacityRatio', shape: spreading }, 'a'],
    ['LeastAllocated spreads', {}, 'a'],
  ] as [string, Partial<EngineOptions>, string][])('%s', async (_what, opts, want) => {
    const e = await createEngine({ impl, ...opts });
    e.upsertNode(nodeWith({ name: 'a' }));
    e.upsertNode(nodeWith({ name: 'b' }));
    e.bindPod('b', podWith({ cpu: '1', memory: '1Gi' }));
    const out = e.schedule([podWith({ cpu: '500m', memory: '512Mi' }), podWith({ cpu: '500m', memory: '512Mi' })]);
    expect(out.map((p) => p.node)).toEqual([want, want]);
  });
});

describe('scoring options are checked once, naming the field', () => {
  it.each([
    [{ resourceStrategy: 'Packed' }, 'resourceStrategy: must be one of LeastAllocated, MostAllocated, RequestedToCapacityRatio, got "Packed"'],
    [{ resourceStrategy: 'RequestedToCapacityRatio' }, 'shape: at least one point is required'],
    [{ resourceStrategy: 'RequestedToCapacityRatio', shape: [] }, 'shape: at least one point is required'],
    [{ resourceStrategy: 'RequestedToCapacityRatio', shape: [{ utilization: 50, score: 1 }, { utilization: 50, score: 2 }] }, 'shape[1].utilization: must be greater than the previous point'],
    [{ resourceStrategy: 'RequestedToCapacityRatio', shape: [{ utilization: 101, score: 1 }] }, 'shape[0].utilization: must be an integer in 0..100, got 101'],
    [{ resourceStrategy: 'RequestedToCapacityRatio', shape: [{ utilization: 10, score: 11 }] }, 'shape[0].score: must be an integer in 0..10, got 11'],
    [{ resourceStrategy: 'MostAllocated', shape: packing }, 'shape: only with RequestedToCapacityRatio'],
    [{ resourceWeights: { cpu: 101 } }, 'resourceWeights.cpu: must be an integer in 0..100, got 101'],
    [{ resourceWeights: { gpu: 1 } }, 'resourceWeights.gpu: unknown, expected one of cpu, memory, ephemeralStorage'],
    [{ weights: { topologySpread: 1.5 } }, 'weights.topologySpread: must be an integer in 0..100, got 1.5'],
  ])('%j', async (opts, message) => {
    await expect(createEngine({ impl: 'reference', ...(opts as Partial<EngineOptions>) })).rejects.toThrow(`EngineOptions: ${message}`);
  });
});
