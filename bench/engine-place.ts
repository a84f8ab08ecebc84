// The engine bench's placement runs: one workload placed in batches by a wasm and a reference
// engine side by side, timed per batch in CPU and wall time, with the kernel's share metered.
import { performance } from 'node:perf_hooks';
import { createEngine, type Engine, type EngineNode, type EnginePod, type Placement } from '../core-wasm/index.js';

/** The two implementations. */
export type Impl = 'wasm' | 'reference';
/** One engine's totals over a run: wall and CPU seconds of a batch's scheduling, CPU seconds inside the kernel call. */
export interface Run { out: Placement[]; seconds: number; cpuSeconds: number; kernelCpuSeconds: number }

/**
 * A workload: nodes for the table, and per batch what the timed section does to get engine pods.
 * The master's shape converts fresh Pod objects (convert.ts) inside the timed section, as the
 * scheduler driver does per batch; the shared-template shape hands the engine ready records.
 */
export interface Workload {
  nodes: EngineNode[];
  /** Pods in placement order, as the timed section receives them. */
  count: number;
  /** Engine pods of pods [from, to): called inside the timed section. */
  batch(from: number, to: number): EnginePod[];
  /** One engine pod per template (untimed warm-up, keys of their own). */
  warm(): EnginePod[];
}

/** CPU seconds (user + system, every thread of this process) since `from`. */
export const cpuSince = (from: NodeJS.CpuUsage): number => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1e6;
};

/** Wraps the engine's kernel call to add its CPU time to `run` (a benchmark's look inside HostEngine). */
function meterKernel(engine: Engine, run: Run): void {
  const kernel = (engine as unknown as { kernel: { placeBatch: (...a: number[]) => number } }).kernel;
  const place = kernel.placeBatch;
  kernel.placeBatch = (...a: number[]) => {
    const c0 = process.cpuUsage();
    const r = place(...a);
    run.kernelCpuSeconds += cpuSince(c0);
    return r;
  };
}

/**
 * Places the workload in batches of `batchSize` on a wasm and a reference engine, alternating
 * which goes first batch by batch so both see the same machine load (a shared 2-core box). Each
 * engine first schedules and unbinds one pod per template, so dictionaries and columns are sized
 * before timing.
 */
export async function placeBoth(w: Workload, batchSize: number): Promise<Record<Impl, Run>> {
  const fresh = (): Run => ({ out: [], seconds: 0, cpuSeconds: 0, kernelCpuSeconds: 0 });
  const run: Record<Impl, Run> = { wasm: fresh(), reference: fresh() };
  const engines: Record<Impl, Engine> = {
    wasm: await createEngine({ impl: 'wasm', maxNodes: w.nodes.length }),
    reference: await createEngine({ impl: 'reference', maxNodes: w.nodes.length }),
  };
  for (const e of Object.values(engines)) {
    for (const n of w.nodes) e.upsertNode(n);
    for (const pl of e.schedule(w.warm())) if (pl.node) e.unbindPod(pl.node, pl.pod);
  }
  meterKernel(engines.wasm, run.wasm);
  meterKernel(engines.reference, run.reference);
  for (let i = 0, k = 0; i < w.count; i += batchSize, k++) {
    const order: Impl[] = k % 2 ? ['reference', 'wasm'] : ['wasm', 'reference'];
    for (const impl of order) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const out = engines[impl].schedule(w.batch(i, Math.min(i + batchSize, w.count)));
      run[impl].seconds += (performance.now() - t0) / 1000;
      run[impl].cpuSeconds += cpuSince(c0);
      run[impl].out.push(...out);
    }
  }
  return run;
}

/** Medians over runs of one workload, per engine, and whether every run of both engines placed alike. */
export function summarise(runs: Record<Impl, Run>[], pods: number) {
  const med = (f: (r: Record<Impl, Run>) => number): number => {
    const xs = runs.map(f).sort((a, b) => a - b);
    return xs[Math.floor(xs.length / 2)];
  };
  const first = JSON.stringify(runs[0].wasm.out);
  return {
    placements: first,
    identical: runs.every((r) => JSON.stringify(r.wasm.out) === first && JSON.stringify(r.reference.out) === first),
    placed: runs[0].wasm.out.filter((p) => p.node).length,
    wasmPlacementsPerSec: Math.round(med((r) => pods / r.wasm.seconds)),
    referencePlacementsPerSec: Math.round(med((r) => pods / r.reference.seconds)),
    ratio: +med((r) => r.reference.seconds / r.wasm.seconds).toFixed(2),
    // Per CPU second of this process (every thread: GC and wasm tier-up count): what the targets are judged by.
    wasmPlacementsPerCpuSec: Math.round(med((r) => pods / r.wasm.cpuSeconds)),
    referencePlacementsPerCpuSec: Math.round(med((r) => pods / r.reference.cpuSeconds)),
    cpuRatio: +med((r) => r.reference.cpuSeconds / r.wasm.cpuSeconds).toFixed(2),
    // Where a placement's CPU time goes: inside the kernel call vs the host (conversion, validation, encoding, Placement objects).
    wasmKernelUsPerPod: +med((r) => (r.wasm.kernelCpuSeconds * 1e6) / pods).toFixed(1),
    wasmHostUsPerPod: +med((r) => ((r.wasm.cpuSeconds - r.wasm.kernelCpuSeconds) * 1e6) / pods).toFixed(1),
    referenceKernelUsPerPod: +med((r) => (r.reference.kernelCpuSeconds * 1e6) / pods).toFixed(1),
    referenceHostUsPerPod: +med((r) => ((r.reference.cpuSeconds - r.reference.kernelCpuSeconds) * 1e6) / pods).toFixed(1),
  };
}
