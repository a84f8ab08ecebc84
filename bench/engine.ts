// npm run bench:engine [-- --json] [-- --nodes N --pods P --batch B --runs R --shuffle]
// Places P pods onto N nodes (every filter and score on) with the wasm engine and its reference
// twin side by side, R times (medians reported), in two shapes of the same workload:
// - the master's shape (the headline): a fresh Pod object per pod, converted by
//   master/scheduler/convert.ts inside the timed section, as the scheduler driver does per batch;
// - shared templates: one engine record object per template shared by its replicas, which lets
//   the engine encode a template once per batch (its replica fast path).
// Then times Maglev builds and measures Maglev disruption. Prints a table and the targets
// (judged on the headline); with --json, one JSON object on the last line. Rates are judged per
// CPU second (process.cpuUsage around each timed batch): this box is shared with other test
// suites, so wall-clock rates swing with the load. Exits 1 when the two engines place differently
// (or the two shapes do): a benchmark, but parity is checked on every run.
import os from 'node:os';
import { createBalancer, type EnginePod } from '../core-wasm/index.js';
import { engineNode, enginePod } from '../master/scheduler/convert.js';
import { benchNodes, benchPods, rng } from './engine-cluster.js';
import { benchNodeObjects, benchPodObjects, shapeMismatch } from './engine-objects.js';
import { cpuSince, placeBoth, summarise, type Impl, type Run, type Workload } from './engine-place.js';

const args = process.argv.slice(2);
const flag = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const json = args.includes('--json');
const NODES = flag('nodes', 5000);
const PODS = flag('pods', 10000);
const BATCH = flag('batch', 1000);
const RUNS = flag('runs', 3);
// Interleave the templates (seeded shuffle): no pod follows a replica of itself, the worst case for the replica path.
const SHUFFLE = args.includes('--shuffle');

/** Medians of `runs` timings of fn, in ms: wall clock and CPU time of this process. */
function median(runs: number, fn: () => void): { wall: number; cpu: number } {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    cpu.push(cpuSince(c0) * 1000);
  }
  const mid = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(runs / 2)];
  return { wall: mid(wall), cpu: mid(cpu) };
}

async function maglev(impl: 'wasm' | 'reference'): Promise<{ buildMs: number; buildCpuMs: number; disruption: number; pickNs: number }> {
  const b = await createBalancer({ impl, algorithm: 'maglev', tableSize: 65537 });
  const thousand = Array.from({ length: 1000 }, (_, i) => ({ id: `10.1.${i >> 8}.${i & 255}:8080` }));
  // A proxy rebuilds on every endpoint change: time warm builds (the first ones include compiling setEndpoints).
  for (let i = 0; i < 3; i++) b.setEndpoints(thousand.slice(i));
  const build = median(15, () => b.setEndpoints(thousand));
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
  let sink = 0;
  for (const h of hashes) sink += b.pick(h); // warm-up: let V8 optimise the call path first
  const pickNs = (median(5, () => {
    for (const h of hashes) sink += b.pick(h);
  }).cpu * 1e6) / hashes.length + (sink < 0 ? 1 : 0);
  return { buildMs: build.wall, buildCpuMs: build.cpu, disruption: moved / slots.length, pickNs };
}

/** The placement order: creation order, or the templates interleaved by a seeded shuffle. */
function order(count: number): number[] {
  const idx = Array.from({ length: count }, (_, i) => i);
  if (!SHUFFLE) return idx;
  const r = rng(3);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

/** One engine pod per template (by its app label), with warm-up keys. */
function warmOf(pods: EnginePod[]): EnginePod[] {
  const seen = new Set<string>();
  return pods.filter((p) => !seen.has(p.labels.app) && seen.add(p.labels.app)).map((p) => ({ ...p, key: `warm/${p.key}` }));
}

const idx = order(PODS);
const templates = benchPods(PODS);
const objects = benchPodObjects(PODS);
const nodeObjects = benchNodeObjects(NODES);
const mismatch = shapeMismatch(templates, objects, benchNodes(NODES), nodeObjects);
if (mismatch) {
  console.error(`engine bench: the master's shape does not convert to the engine workload: ${mismatch}`);
  process.exit(1);
}
const shapes: Record<'master' | 'shared', Workload> = {
  master: {
    nodes: nodeObjects.map(engineNode),
    count: PODS,
    batch: (from, to) => idx.slice(from, to).map((i) => enginePod(objects[i])),
    warm: () => warmOf(objects.map((p) => enginePod(p))),
  },
  shared: {
    nodes: benchNodes(NODES),
    count: PODS,
    batch: (from, to) => idx.slice(from, to).map((i) => templates[i]),
    warm: () => warmOf(templates),
  },
};
const runs: Record<'master' | 'shared', Record<Impl, Run>[]> = { master: [], shared: [] };
for (let r = 0; r < RUNS; r++) {
  runs.master.push(await placeBoth(shapes.master, BATCH));
  runs.shared.push(await placeBoth(shapes.shared, BATCH));
}
const master = summarise(runs.master, PODS);
const shared = summarise(runs.shared, PODS);
const shapesAgree = master.placements === shared.placements;
const mw = await maglev('wasm');
const mr = await maglev('reference');
const strip = ({ placements: _p, ...rest }: ReturnType<typeof summarise>) => rest;
const result = {
  nodes: NODES,
  pods: PODS,
  batch: BATCH,
  runs: RUNS,
  shuffled: SHUFFLE,
  // The headline: pods in the master's shape.
  ...strip(master),
  identical: master.identical && shared.identical,
  shapesAgree,
  sharedTemplates: strip(shared),
  loadAverage: +os.loadavg()[0].toFixed(2),
  maglevBuildMs: +mw.buildMs.toFixed(3),
  maglevBuildCpuMs: +mw.buildCpuMs.toFixed(3),
  maglevBuildMsReference: +mr.buildMs.toFixed(3),
  maglevBuildCpuMsReference: +mr.buildCpuMs.toFixed(3),
  maglevDisruption: +mw.disruption.toFixed(5),
  maglevPickNs: +mw.pickNs.toFixed(1),
  node: process.version,
};
const r = result;
const yes = (ok: boolean): string => (ok ? 'met' : 'NOT met');
const rows = (label: string, x: ReturnType<typeof strip>): void => {
  console.log(`| ${label}: placements per CPU second | ${x.wasmPlacementsPerCpuSec} | ${x.referencePlacementsPerCpuSec} | ${x.cpuRatio}× |`);
  console.log(`| ${label}: placements/s (wall) | ${x.wasmPlacementsPerSec} | ${x.referencePlacementsPerSec} | ${x.ratio}× |`);
  console.log(`| ${label}: CPU µs per pod, kernel + host | ${x.wasmKernelUsPerPod} + ${x.wasmHostUsPerPod} | ${x.referenceKernelUsPerPod} + ${x.referenceHostUsPerPod} | |`);
};
console.log(`engine: ${NODES} nodes, ${PODS} pods in batches of ${BATCH}, every filter and score on${SHUFFLE ? ', templates interleaved' : ''}, median of ${RUNS} runs (${r.placed} placed; wasm = reference in every run: ${r.identical}; both shapes place alike: ${shapesAgree}; load average ${r.loadAverage})`);
console.log('Judged by CPU time (process.cpuUsage around each timed batch); wall-clock rates depend on what else this shared box runs.');
console.log('| measure | wasm | reference | ratio |');
console.log('| --- | ---: | ---: | ---: |');
rows("master's shape (fresh Pod objects through convert.ts)", r);
rows('shared templates (one record per template)', r.sharedTemplates);
console.log(`| Maglev build, 65537 slots × 1000 backends (CPU ms) | ${r.maglevBuildCpuMs} | ${r.maglevBuildCpuMsReference} | ${(mr.buildCpuMs / mw.buildCpuMs).toFixed(2)}× |`);
console.log(`| Maglev build (wall ms) | ${r.maglevBuildMs} | ${r.maglevBuildMsReference} | |`);
console.log(`| Maglev pick (CPU ns, incl. call; median of 5 × 100k) | ${r.maglevPickNs} | ${mr.pickNs.toFixed(1)} | |`);
console.log(`| Maglev disruption, 1 of 100 removed (beyond its share) | ${(mw.disruption * 100).toFixed(3)}% | ${(mr.disruption * 100).toFixed(3)}% | |`);
console.log(`targets (master's shape): wasm ≥ 20,000 placements per CPU second: ${yes(r.wasmPlacementsPerCpuSec >= 20000)}; wasm ≥ 3× reference (CPU): ${yes(r.cpuRatio >= 3)}; ` +
  `Maglev build < 5 ms (CPU): ${yes(r.maglevBuildCpuMs < 5)}; disruption < 2 %: ${yes(r.maglevDisruption < 0.02)}`);
if (json) console.log(JSON.stringify(result));
if (!r.identical || !shapesAgree) {
  console.error(`engine bench: ${!r.identical ? 'the wasm and reference engines placed differently' : "the master's shape and the shared templates placed differently"}`);
  process.exitCode = 1;
}
