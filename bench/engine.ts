// npm run bench:engine [-- --json] [-- --nodes N --pods P]
// Places P pods onto N nodes (every filter and score on) with the wasm engine and its reference
// twin side by side, times Maglev builds and measures Maglev disruption. Prints a table; with
// --json, one JSON object on the last line. A benchmark, not a test: it asserts nothing but parity.
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { createBalancer, createEngine, type Engine, type EngineNode, type EnginePod, type Placement } from '../core-wasm/index.js';
import { benchNodes, benchPods } from './engine-cluster.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const json = args.includes('--json');
const NODES = flag('nodes', 5000);
const PODS = flag('pods', 10000);
const BATCH = flag('batch', 1000);

/**
 * Places all pods in batches on a wasm and a reference engine, alternating batch by batch so both
 * see the same machine load (this is a shared 2-core box). Each engine first schedules and unbinds
 * one pod per template, so dictionaries and columns are sized before timing.
 */
async function placeBoth(nodes: EngineNode[], pods: EnginePod[]): Promise<Record<'wasm' | 'reference', { out: Placement[]; seconds: number; cpuSeconds: number }>> {
  const run = { wasm: { out: [] as Placement[], seconds: 0, cpuSeconds: 0 }, reference: { out: [] as Placement[], seconds: 0, cpuSeconds: 0 } };
  const engines: Record<'wasm' | 'reference', Engine> = {
    wasm: await createEngine({ impl: 'wasm', maxNodes: nodes.length }),
    reference: await createEngine({ impl: 'reference', maxNodes: nodes.length }),
  };
  const seen = new Set<string>();
  const warm = pods.filter((p) => !seen.has(p.labels.app) && seen.add(p.labels.app)).map((p) => ({ ...p, key: `warm/${p.key}` }));
  for (const e of Object.values(engines)) {
    for (const n of nodes) e.upsertNode(n);
    for (const pl of e.schedule(warm)) if (pl.node) e.unbindPod(pl.node, pl.pod);
  }
  for (let i = 0, k = 0; i < pods.length; i += BATCH, k++) {
    const batch = pods.slice(i, i + BATCH);
    const order: ('wasm' | 'reference')[] = k % 2 ? ['reference', 'wasm'] : ['wasm', 'reference'];
    for (const impl of order) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = engines[impl].schedule(batch);
      run[impl].seconds += (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      run[impl].cpuSeconds += (c.user + c.system) / 1e6;
      run[impl].out.push(...out);
    }
  }
  return run;
}

/** Median of `runs` timings of fn, in ms. */
function median(runs: number, fn: () => void): number {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

async function maglev(impl: 'wasm' | 'reference'): Promise<{ buildMs: number; disruption: number; pickNs: number }> {
  const b = await createBalancer({ impl, algorithm: 'maglev', tableSize: 65537 });
  const thousand = Array.from({ length: 1000 }, (_, i) => ({ id: `10.1.${i >> 8}.${i & 255}:8080` }));
  const buildMs = median(9, () => b.setEndpoints(thousand));
  const hundred = thousand.slice(0, 100);
  b.setEndpoints(hundred);
  // Every table slot is an equal share of the key space: hash h lands on slot h mod M.
  const slots = Uint32Array.from({ length: 65537 }, (_, i) => i);
  const before = [...b.pickBatch(slots)].map((i) => b.endpoints[i].id);
  const gone = hundred[42].id;
  b.setEndpoints(hundred.filter((e) => e.id !== gone));
  const after = [...b.pickBatch(slots)].map((i) => b.endpoints[i].id);
  let moved = 0;
  before.forEach((id, k) => {
    if (id !== gone && after[k] !== id) moved++;
  });
  const keys = Array.from({ length: 100000 }, (_, i) => `192.168.${(i >> 8) & 255}.${i & 255}:${i % 60000}`);
  const hashes = keys.map((k) => b.hashKey(k));
  const t0 = performance.now();
  let sink = 0;
  for (const h of hashes) sink += b.pick(h);
  const pickNs = ((performance.now() - t0) * 1e6) / hashes.length + (sink < 0 ? 1 : 0);
  return { buildMs, disruption: moved / slots.length, pickNs };
}

const nodes = benchNodes(NODES);
const pods = benchPods(PODS);
const both = await placeBoth(nodes, pods);
const w = both.wasm;
const ref = both.reference;
const identical = JSON.stringify(w.out) === JSON.stringify(ref.out);
const placed = w.out.filter((p) => p.node).length;
const mw = await maglev('wasm');
const mr = await maglev('reference');
const result = {
  nodes: NODES,
  pods: PODS,
  batch: BATCH,
  placed,
  identical,
  wasmSeconds: +w.seconds.toFixed(3),
  referenceSeconds: +ref.seconds.toFixed(3),
  wasmPlacementsPerSec: Math.round(PODS / w.seconds),
  referencePlacementsPerSec: Math.round(PODS / ref.seconds),
  ratio: +(ref.seconds / w.seconds).toFixed(2),
  // The same per CPU second of this process: steadier than wall time when the box is shared.
  wasmPlacementsPerCpuSec: Math.round(PODS / w.cpuSeconds),
  referencePlacementsPerCpuSec: Math.round(PODS / ref.cpuSeconds),
  cpuRatio: +(ref.cpuSeconds / w.cpuSeconds).toFixed(2),
  loadAverage: +os.loadavg()[0].toFixed(2),
  maglevBuildMs: +mw.buildMs.toFixed(3),
  maglevBuildMsReference: +mr.buildMs.toFixed(3),
  maglevDisruption: +mw.disruption.toFixed(5),
  maglevPickNs: +mw.pickNs.toFixed(1),
  node: process.version,
};
console.log(`engine: ${NODES} nodes, ${PODS} pods in batches of ${BATCH}, every filter and score on (${placed} placed, wasm = reference: ${identical}; load average ${result.loadAverage})`);
console.log('| measure | wasm | reference | ratio |');
console.log('| --- | ---: | ---: | ---: |');
console.log(`| placements/s (wall) | ${result.wasmPlacementsPerSec} | ${result.referencePlacementsPerSec} | ${result.ratio}× |`);
console.log(`| placements per CPU second | ${result.wasmPlacementsPerCpuSec} | ${result.referencePlacementsPerCpuSec} | ${result.cpuRatio}× |`);
console.log(`| Maglev build, 65537 slots × 1000 backends (ms) | ${result.maglevBuildMs} | ${result.maglevBuildMsReference} | ${(mr.buildMs / mw.buildMs).toFixed(2)}× |`);
console.log(`| Maglev pick (ns, incl. call) | ${result.maglevPickNs} | ${mr.pickNs.toFixed(1)} | |`);
console.log(`| Maglev disruption, 1 of 100 removed (beyond its share) | ${(mw.disruption * 100).toFixed(3)}% | ${(mr.disruption * 100).toFixed(3)}% | |`);
if (json) console.log(JSON.stringify(result));
