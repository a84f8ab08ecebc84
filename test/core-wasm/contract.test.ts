// The engine contract, run against both implementations (wasm and the reference twin).
import { describe, expect, it } from 'vitest';
import { createEngine, type Engine, type EngineNode, type EngineOptions } from '../../core-wasm/index.js';
import { nodeWith, podWith } from './builders.js';

const impls = ['wasm', 'reference'] as const;

async function engineWith(impl: EngineOptions['impl'], nodes: EngineNode[], opts: Partial<EngineOptions> = {}): Promise<Engine> {
  const e = await createEngine({ impl, ...opts });
  for (const n of nodes) e.upsertNode(n);
  return e;
}

describe.each(impls)('engine contract (%s)', (impl) => {
  it('reports its impl and node names', async () => {
    const e = await engineWith(impl, [nodeWith({ name: 'a' }), nodeWith({ name: 'b' })]);
    expect(e.impl).toBe(impl);
    expect(e.nodeNames().sort()).toEqual(['a', 'b']);
    e.removeNode('a');
    expect(e.nodeNames()).toEqual(['b']);
  });

  it('says 0/0 nodes are available with no nodes', async () => {
    const e = await engineWith(impl, []);
    const [p] = e.schedule([podWith({ cpu: '1' })]);
    expect(p).toMatchObject({ node: null, score: 0, reasons: {}, message: '0/0 nodes are available.' });
  });

  it('places on the least allocated node and counts placed pods for the next one', async () => {
    const e = await engineWith(impl, [nodeWith({ name: 'a', cpu: '4', memory: '8Gi' }), nodeWith({ name: 'b', cpu: '4', memory: '8Gi' })]);
    e.bindPod('a', podWith({ cpu: '2', memory: '4Gi' }));
    const out = e.schedule([podWith({ cpu: '1', memory: '1Gi' }), podWith({ cpu: '1', memory: '1Gi' }), podWith({ cpu: '1', memory: '1Gi' })]);
    // b is emptier twice; for the third, a scores (25+37)/2 + 93 = 124 and b (25+62)/2 + 81 = 124:
    // a tie, which goes to the lower slot, a.
    expect(out.map((p) => p.node)).toEqual(['b', 'b', 'a']);
    // least_allocated: b after the first pod: cpu (4000-1000)*100/4000 = 75, mem (8-1)*100/8 = 87 → (75+87)/2 = 81.
    // balanced: fractions .25 and .125 → std .0625 → 93. taint: no PreferNoSchedule anywhere → 100 × 3.
    expect(out[0].score).toBe(81 + 93 + 300);
  });

  it('bin-packs with MostAllocated', async () => {
    const e = await engineWith(impl, [nodeWith({ name: 'a' }), nodeWith({ name: 'b' })], { resourceStrategy: 'MostAllocated' });
    e.bindPod('b', podWith({ cpu: '1', memory: '1Gi' }));
    expect(e.schedule([podWith({ cpu: '1', memory: '1Gi' })])[0].node).toBe('b');
  });

  it('breaks ties to the first node', async () => {
    const e = await engineWith(impl, [nodeWith({ name: 'x' }), nodeWith({ name: 'y' }), nodeWith({ name: 'z' })]);
    expect(e.schedule([podWith({ cpu: '1' })])[0].node).toBe('x');
  });

  it('explains insufficient resources per node, kube-scheduler style', async () => {
    const e = await engineWith(impl, [
      nodeWith({ name: 'small-mem-1', cpu: '8', memory: '1Gi' }),
      nodeWith({ name: 'small-mem-2', cpu: '8', memory: '1Gi' }),
      nodeWith({ name: 'small-mem-3', cpu: '8', memory: '1Gi' }),
      nodeWith({ name: 'gpu-1', cpu: '8', memory: '64Gi', taints: [{ key: 'gpu', effect: 'NoSchedule' }] }),
      nodeWith({ name: 'gpu-2', cpu: '8', memory: '64Gi', taints: [{ key: 'gpu', effect: 'NoSchedule' }] }),
    ]);
    const [p] = e.schedule([podWith({ cpu: '1', memory: '2Gi' })]);
    expect(p.node).toBeNull();
    expect(p.reasons).toEqual({ InsufficientMemory: 3, UntoleratedTaint: 2 });
    expect(p.message).toBe('0/5 nodes are available: 3 Insufficient memory, 2 node(s) had untolerated taint {gpu: NoSchedule}.');
  });

  it.each([
    ['cpu', { cpu: '5' }, 'InsufficientCPU', 'Insufficient cpu'],
    ['memory', { memory: '9Gi' }, 'InsufficientMemory', 'Insufficient memory'],
    ['ephemeral', { ephemeral: '101Gi' }, 'InsufficientEphemeralStorage', 'Insufficient ephemeral-storage'],
  ] as const)('rejects on %s', async (_name, req, code, text) => {
    const e = await engineWith(impl, [nodeWith({ name: 'a' })]);
    const [p] = e.schedule([podWith(req)]);
    expect(p.reasons).toEqual({ [code]: 1 });
    expect(p.message).toBe(`0/1 nodes are available: 1 ${text}.`);
  });

  it('fills a node exactly to its allocatable, then says Insufficient', async () => {
    const e = await engineWith(impl, [nodeWith({ name: 'a', cpu: '1', memory: '3Gi' })]);
    const out = e.schedule([podWith({ cpu: '500m', memory: '1Gi' }), podWith({ cpu: '500m', memory: '2Gi' }), podWith({ cpu: '1m' })]);
    expect(out.map((p) => p.node)).toEqual(['a', 'a', null]);
    expect(out[2].reasons).toEqual({ InsufficientCPU: 1 });
  });

  it('counts pods against allocatable pods (Too many pods)', async () => {
    const e = await engineWith(impl, [nodeWith({ name: 'a', pods: 2 })]);
    const out = e.schedule([podWith(), podWith(), podWith()]);
    expect(out.map((p) => p.node)).toEqual(['a', 'a', null]);
    expect(out[2].message).toBe('0/1 nodes are available: 1 Too many pods.');
  });

  it('frees resources on unbind and forgets pods of a removed node', async () => {
    const e = await engineWith(impl, [nodeWith({ name: 'a', cpu: '1' })]);
    const big = podWith({ cpu: '1' });
    e.bindPod('a', big);
    expect(e.schedule([podWith({ cpu: '1' })])[0].node).toBeNull();
    e.unbindPod('a', big.key);
    const p = podWith({ cpu: '1' });
    expect(e.schedule([p])[0].node).toBe('a');
    e.removeNode('a');
    e.upsertNode(nodeWith({ name: 'a', cpu: '1' }));
    expect(e.schedule([podWith({ cpu: '1' })])[0].node).toBe('a');
  });

  it('keeps bound pods when a node is updated', async () => {
    const e = await engineWith(impl, [nodeWith({ name: 'a', cpu: '2' })]);
    e.bindPod('a', podWith({ cpu: '2' }));
    e.upsertNode(nodeWith({ name: 'a', cpu: '3', labels: { zone: 'z1' } }));
    expect(e.schedule([podWith({ cpu: '2' })])[0].reasons).toEqual({ InsufficientCPU: 1 });
    expect(e.schedule([podWith({ cpu: '1' })])[0].node).toBe('a');
  });

  it('rejects bad input naming the field, before changing anything', async () => {
    const e = await engineWith(impl, [nodeWith({ name: 'a' })]);
    const bad = podWith({ cpu: 1 });
    (bad.requests as { cpuMilli: number }).cpuMilli = -1;
    expect(() => e.schedule([podWith({ cpu: '1' }), bad])).toThrow(/requests\.cpuMilli: must be an integer ≥ 0/);
    expect(() => e.upsertNode({ ...nodeWith({ name: 'b' }), allocatable: { cpuMilli: 1.5, memoryBytes: 1, pods: 1, ephemeralBytes: 1 } })).toThrow(/allocatable\.cpuMilli/);
    expect(e.nodeNames()).toEqual(['a']);
  });
});
