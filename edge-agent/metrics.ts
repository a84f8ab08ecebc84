/**
 * Samples for `nodes/{node}/metrics`: node cpu (millicores busy since the last sample, and busy seconds
 * since boot) and memory in use, and per pod and per container the cpu and resident memory of their
 * process trees (every descendant of each container's process, and anything left in its process group),
 * read from /proc. Cumulative cpu seconds are what Prometheus' `*_cpu_usage_seconds_total` counters need.
 */
import type { ContainerSample } from '../protocol/messages.js';
import type { FullSample } from './telemetry.js';
import type { PodManager } from './pods/manager.js';
import { CLOCK_TICKS_PER_S, PAGE_BYTES, readAllStats, readHostCpu, readHostMemoryUsed, type ProcStat } from './procfs.js';
import os from 'node:os';

/** The pids of the trees rooted at `roots` (and their process groups). */
export function treeOf(stats: ProcStat[], roots: number[]): ProcStat[] {
  const children = new Map<number, ProcStat[]>();
  for (const s of stats) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const out = new Map<number, ProcStat>();
  const stack = roots.map((r) => byPid.get(r)).filter((s): s is ProcStat => s !== undefined);
  for (const s of stats) if (roots.includes(s.pgrp)) stack.push(s);
  while (stack.length) {
    const s = stack.pop() as ProcStat;
    if (out.has(s.pid)) continue;
    out.set(s.pid, s);
    stack.push(...(children.get(s.pid) ?? []));
  }
  return [...out.values()];
}

/** Turns cumulative cpu ticks into millicores between two samples. */
export class MetricsSampler {
  private lastTs = 0;
  private lastHost?: { busy: number; total: number };
  private readonly lastPod = new Map<string, number>();

  constructor(private readonly pods: PodManager) {}

  /** One sample (the first one reports 0 cpu: there is no interval yet). */
  sample(now = Date.now()): FullSample {
    const dtS = this.lastTs ? (now - this.lastTs) / 1000 : 0;
    const host = readHostCpu();
    let nodeCpu = 0;
    if (host && this.lastHost && host.total > this.lastHost.total)
      nodeCpu = Math.round(((host.busy - this.lastHost.busy) / (host.total - this.lastHost.total)) * os.cpus().length * 1000);
    this.lastHost = host;
    const stats = readAllStats();
    const pods: FullSample['pods'] = [];
    const seen = new Set<string>();
    for (const r of this.pods.all()) {
      const containers: ContainerSample[] = [];
      for (const c of r.containers) if (c.pid !== undefined) containers.push({ name: c.name, ...usage(treeOf(stats, [c.pid])) });
      const roots = r.containers.map((c) => c.pid).filter((p): p is number => p !== undefined);
      const tree = treeOf(stats, roots);
      const ticks = tree.reduce((a, s) => a + s.cpuTicks, 0);
      const prev = this.lastPod.get(r.uid);
      const cpuMilli = prev !== undefined && dtS > 0 && ticks >= prev ? Math.round(((ticks - prev) / CLOCK_TICKS_PER_S / dtS) * 1000) : 0;
      this.lastPod.set(r.uid, ticks);
      seen.add(r.uid);
      pods.push({ namespace: r.namespace, name: r.name, uid: r.uid, cpuMilli, ...usage(tree), containers });
    }
    for (const uid of this.lastPod.keys()) if (!seen.has(uid)) this.lastPod.delete(uid);
    this.lastTs = now;
    const node = { cpuMilli: nodeCpu, memoryBytes: readHostMemoryUsed() ?? os.totalmem() - os.freemem(), ...(host ? { cpuSeconds: host.busy / CLOCK_TICKS_PER_S } : {}) };
    return { ts: now, node, pods };
  }
}

/** Cumulative cpu seconds and resident bytes of a process tree. */
function usage(tree: ProcStat[]): { cpuSeconds: number; memoryBytes: number } {
  return { cpuSeconds: tree.reduce((a, s) => a + s.cpuTicks, 0) / CLOCK_TICKS_PER_S, memoryBytes: tree.reduce((a, s) => a + s.rssPages * PAGE_BYTES, 0) };
}
