/**
 * Resource limits through Linux control groups: what the pod lifecycle and the drivers see of them.
 *
 * One tree per node, `<cgroup mount>/skiff/<pod uid>/<container>` (on cgroup v1 the same path under each
 * controller's mount: memory, cpu, cpuacct, pids), detected once at agent start (detect.ts). A driver enters
 * the attempt's process into it before the command runs (the process driver's wrapper writes its own pid to
 * each `cgroup.procs`), reads OOM kills and usage from it, and the pod removes it when it goes.
 */

/** The limits of one container, in the kernel's units; a field left out is not limited. */
export interface ContainerLimits {
  /** resources.limits.memory in bytes: memory.limit_in_bytes (v1) / memory.max (v2); swap is not allowed beyond it. */
  memoryBytes?: number;
  /** resources.limits.cpu in millicores: a CFS quota of milli × 100 µs per 100 ms period. */
  cpuMilli?: number;
  /** resources.requests.cpu in millicores: the share under contention (cpu.shares v1, cpu.weight v2). */
  cpuRequestMilli?: number;
}

/** What a container's cgroup says it uses now. */
export interface CgroupUsage {
  /** Cumulative cpu time of every process that ran in it, in ns (cpuacct.usage v1, cpu.stat usage_usec v2); undefined without a cpu accounting controller. */
  cpuNanos?: number;
  /** The working set: usage minus inactive file cache, what Kubernetes' OOM decisions and `kubectl top` count. */
  memoryBytes: number;
}

/** One container's cgroup. */
export interface ContainerCgroup {
  /** `skiff/<pod uid>/<container>`, relative to each controller's mount. */
  readonly path: string;
  /**
   * Makes the cgroup afresh for a new attempt with these limits: whatever the previous attempt left in it is
   * killed (as a container's processes end with it), the directory made again so its counters start at 0.
   * Returns the `cgroup.procs` files a process writes its pid into to enter it. Throws when it cannot.
   */
  prepare(limits: ContainerLimits): Promise<string[]>;
  /** The `cgroup.procs` files of the existing cgroup (for a process that joins a running container: exec). */
  procsFiles(): string[];
  /** OOM kills in this cgroup since `prepare` (memory.oom_control v1, memory.events v2); 0 when unknown. */
  oomKills(): number;
  /** Usage now, or undefined when the cgroup is gone. */
  usage(): CgroupUsage | undefined;
  /** SIGKILLs every process left in it (those that left the attempt's process group too). */
  killAll(): void;
}

/** The node's cgroup tree. */
export interface Cgroups {
  readonly version: 'v1' | 'v2';
  /** The controllers limits are set through (memory, cpu, pids). */
  readonly controllers: readonly string[];
  /** A container's cgroup (nothing is created until `prepare`). */
  container(podUid: string, container: string): ContainerCgroup;
  /** Removes a pod's cgroups once its processes are gone (their leftovers are killed first). */
  removePod(podUid: string): Promise<void>;
  /** The pod uids that have a cgroup in the tree (to sweep those of pods no longer wanted). */
  podUids(): string[];
  /** Removes the agent's own directory when no pod is left in it (the agent stopped its pods). */
  dispose(): void;
}

/** What detection found: a usable tree, or why limits cannot be enforced and how to fix it. */
export type CgroupSupport =
  | { ok: true; cgroups: Cgroups; message: string }
  | { ok: false; reason: 'NoCgroups' | 'MemoryCgroupDisabled' | 'CgroupNotWritable'; message: string };
