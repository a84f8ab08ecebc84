// Replicas of a template take the kernels' incremental path: only the node the previous replica
// was bound to, and its topology domains, are updated; soft spread on a hostname-like key is scored
// from the node's own counter. That must give exactly what placing each pod from scratch gives
// (one pod per schedule() call always takes the full path), in both twins. Static and resource
// columns are also cached per pod shape (an LRU of 32 column sets, resource columns caught up from
// a bind log), so interleaved templates are checked against placing each pod after a no-op node
// update, which empties that cache.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createEngine, type EnginePod, type EngineOptions, type Placement } from '../../core-wasm/index.js';
import { benchNodes, benchPods, randomNode, randomPod, rng } from '../../bench/engine-cluster.js';

const spreadKinds = ['none', 'host-soft', 'host-hard', 'zone-soft', 'both-soft'] as const;

/** `templates` random templates, `reps` replicas each, with an extra spread constraint of one kind per template. */
function replicaPods(seed: number, templates: number, reps: number): EnginePod[] {
  const r = rng(seed);
  const pods: EnginePod[] = [];
  for (let t = 0; t < templates; t++) {
    const tpl = randomPod(r, t, 3);
    const sel = { matchLabels: { app: tpl.labels.app } };
    const host = 'kubernetes.io/hostname';
    const kind = spreadKinds[Math.floor(r() * spreadKinds.length)];
    const table: Record<string, NonNullable<EnginePod['topologySpread']>> = {
      'none': [],
      'host-soft': [{ maxSkew: 1, topologyKey: host, whenUnsatisfiable: 'ScheduleAnyway', selector: sel }],
      'host-hard': [{ maxSkew: 1 + Math.floor(r() * 2), topologyKey: host, whenUnsatisfiable: 'DoNotSchedule', selector: sel }],
      'zone-soft': [{ maxSkew: 2, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', selector: sel }],
      'both-soft': [
        { maxSkew: 1, topologyKey: host, whenUnsatisfiable: 'ScheduleAnyway', selector: sel },
        { maxSkew: 3, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', selector: sel },
      ],
    };
    const extra = table[kind];
    tpl.topologySpread = [...(tpl.topologySpread ?? []), ...extra];
    for (let i = 0; i < reps; i++) pods.push({ ...tpl, key: `${tpl.namespace}/t${t}-${i}` });
    // A rollout that only changes requests: the same shape with other resource columns.
    const requests = { ...tpl.requests, cpuMilli: tpl.requests.cpuMilli + 100 };
    if (r() < 0.3) for (let i = 0; i < reps; i++) pods.push({ ...tpl, requests, key: `${tpl.namespace}/t${t}b-${i}` });
  }
  return pods;
}

/**
 * Places pods on a fresh engine over `nodes`: all in one batch, or one pod per call (`cold`: after
 * re-sending a node unchanged, which empties the static cache). Halfway, one node changes its
 * zone, taints and cordon (cached static columns must be dropped).
 */
async function place(impl: 'wasm' | 'reference', opts: Partial<EngineOptions>, seed: number, nodes: number, pods: EnginePod[], oneByOne: boolean, cold = false): Promise<Placement[]> {
  const e = await createEngine({ impl, maxNodes: 4, ...opts });
  const r = rng(seed ^ 0x5eed);
  const list = Array.from({ length: nodes }, (_, i) => randomNode(r, i));
  for (const n of list) e.upsertNode(n);
  const half = Math.floor(pods.length / 2);
  const change = (): void => {
    const n = list[list.length - 1];
    list[list.length - 1] = { ...n, labels: { ...n.labels, zone: 'z7' }, taints: n.taints.length ? [] : [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }], unschedulable: !n.unschedulable };
    e.upsertNode(list[list.length - 1]);
  };
  if (!oneByOne) {
    const out = e.schedule(pods.slice(0, half));
    change();
    return [...out, ...e.schedule(pods.slice(half))];
  }
  return pods.flatMap((p, k) => {
    if (k === half) change();
    if (cold) e.upsertNode(list[0]);
    return e.schedule([p]);
  });
}

/** The pods in a seeded random order: no template's replicas stay together. */
function shuffled(pods: EnginePod[], seed: number): EnginePod[] {
  const r = rng(seed);
  const out = [...pods];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe('replica path: a batch of replicas = the same pods one call at a time = the other twin', () => {
  it('agrees on random templates and clusters (fast-check)', async () => {
    let unplaced = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), async (seed, nodes, templates, reps, most) => {
        const opts = { resourceStrategy: most ? ('MostAllocated' as const) : ('LeastAllocated' as const) };
        const pods = replicaPods(seed, templates, reps);
        const batch = await place('wasm', opts, seed, nodes, pods, false);
        expect(batch).toEqual(await place('wasm', opts, seed, nodes, pods, true));
        expect(batch).toEqual(await place('reference', opts, seed, nodes, pods, false));
        // The master's pods: equal copies, no object shared (twins are found by equal labels and spec).
        expect(await place('wasm', opts, seed, nodes, structuredClone(pods), false)).toEqual(batch);
        unplaced += batch.filter((p) => !p.node).length;
      }),
      { numRuns: 60 },
    );
    // The runs must include replicas that find no node (the copied-answer path).
    expect(unplaced).toBeGreaterThan(0);
  });

  it('interleaved templates (more than the 32 cached shapes) = each pod placed with the cache emptied = the other twin (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 45 }), async (seed, nodes, templates) => {
        const pods = shuffled(replicaPods(seed, templates, 3), seed);
        const batch = await place('wasm', {}, seed, nodes, pods, false);
        expect(batch).toEqual(await place('wasm', {}, seed, nodes, pods, true, true));
        expect(batch).toEqual(await place('reference', {}, seed, nodes, pods, false));
        expect(await place('reference', {}, seed, nodes, structuredClone(pods), false)).toEqual(batch);
      }),
      { numRuns: 25 },
    );
  });

  it('places the benchmark workload identically in one batch and pod by pod (300 nodes, 600 pods)', async () => {
    for (const impl of ['wasm', 'reference'] as const) {
      const run = async (oneByOne: boolean) => {
        const e = await createEngine({ impl, maxNodes: 300 });
        for (const n of benchNodes(300)) e.upsertNode(n);
        const pods = benchPods(600);
        return oneByOne ? pods.flatMap((p) => e.schedule([p])) : e.schedule(pods);
      };
      const batch = await run(false);
      expect(batch.every((p) => p.node)).toBe(true);
      expect(batch).toEqual(await run(true));
    }
  });
});
