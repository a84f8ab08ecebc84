/**
 * Samples for `nodes/{node}/metrics`: node cpu (millicores busy since the last sample, and busy seconds
 * since boot) and memory in use, and per pod and per container the cpu and memory of its running containers:
 * from their cgroups where limits are enforced (cpu time, and the working set as kubelet's cAdvisor counts
 * it), else from /proc (every descendant of each container's process, and anything left in its process
 * group: resident memory). Cumulative cpu seconds are what Prometheus' `*_cpu_usage_seconds_total` counters need.
 */
import type { ContainerSample } from '../protocol/messages.js';
import type { FullSample } from './telemetry.js';
import type { PodManager } from './pods/manager.js';
import { CLOCK_TICKS_PER_S, readHostCpu, readHostMemoryUsed, treeOf } from './procfs.js';
import os from 'node:os';

/** Re-exported: the process trees the /proc figures add up (procfs.ts). */
export { treeOf };

/** Turns cumulative cpu time into millicores between two samples. */
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
    const pods: FullSample['pods'] = [];
    const seen = new Set<string>();
    for (const r of this.pods.all()) {
      const containers: ContainerSample[] = [];
      for (const c of r.allContainers()) {
        const u = c.stats();
        if (u) containers.push({ name: c.name, cpuSeconds: (u.cpuNanos ?? 0) / 1e9, memoryBytes: u.memoryBytes });
      }
      const cpuSeconds = containers.reduce((a, c) => a + c.cpuSeconds, 0);
      const prev = this.lastPod.get(r.uid);
      const cpuMilli = prev !== undefined && dtS > 0 && cpuSeconds >= prev ? Math.round(((cpuSeconds - prev) / dtS) * 1000) : 0;
      this.lastPod.set(r.uid, cpuSeconds);
      seen.add(r.uid);
      pods.push({ namespace: r.namespace, name: r.name, uid: r.uid, cpuMilli, cpuSeconds, memoryBytes: containers.reduce((a, c) => a + c.memoryBytes, 0), containers });
    }
    for (const uid of this.lastPod.keys()) if (!seen.has(uid)) this.lastPod.delete(uid);
    this.lastTs = now;
    const node = { cpuMilli: nodeCpu, memoryBytes: readHostMemoryUsed() ?? os.totalmem() - os.freemem(), ...(host ? { cpuSeconds: host.busy / CLOCK_TICKS_PER_S } : {}) };
    return { ts: now, node, pods };
  }
}
