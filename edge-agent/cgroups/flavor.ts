/**
 * What differs between cgroup v1 and v2, behind one small interface (v1.ts, v2.ts); tree.ts does the rest
 * (making, emptying and removing the per-pod, per-container directories) the same way for both.
 */
import type { CgroupUsage, ContainerLimits } from './types.js';

/** Kubernetes' CFS period: 100 ms (the kernel default); a quota of milli × 100 µs per period is milli/1000 cores. */
export const CFS_PERIOD_US = 100_000;
/** The smallest quota the kernel takes: 1 ms. */
export const MIN_QUOTA_US = 1000;

/** cpu.shares for a request in millicores, as kubelet's MilliCPUToShares: 1024 a core, at least 2. */
export function milliToShares(milli: number): number {
  return Math.max(2, Math.floor((milli * 1024) / 1000));
}

/** The CFS quota in µs per CFS_PERIOD_US for a limit in millicores, as kubelet's MilliCPUToQuota (at least 1 ms). */
export function milliToQuota(milli: number): number {
  return Math.max(MIN_QUOTA_US, Math.floor((milli * CFS_PERIOD_US) / 1000));
}

/** cpu.weight (v2) for cpu.shares (v1), the conversion runc and kubelet use: [2, 262144] → [1, 10000]. */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** One cgroup version's file layout. Paths are relative (`skiff/<uid>/<container>`). */
export interface Flavor {
  readonly version: 'v1' | 'v2';
  /** Controllers limits are set through. */
  readonly controllers: readonly string[];
  /** The directories that make up one cgroup: one per v1 hierarchy, one in v2. */
  dirs(rel: string): string[];
  /** Before a child of `rel` is made: v2 delegates the controllers to children (cgroup.subtree_control). */
  openForChildren(rel: string): void;
  /** Sets a container's limits on its fresh cgroup. */
  applyLimits(rel: string, limits: ContainerLimits): void;
  /** Sets the pod-wide pids limit (pids.max) on the pod's cgroup. */
  applyPodPids(rel: string, pids: number): void;
  /** Sets the cpu share of a whole subtree (the pods' part of the node, as kubelet weighs /kubepods by allocatable cpu). */
  applyShares(rel: string, milli: number): void;
  /** OOM kills counted in the cgroup. */
  oomKills(rel: string): number;
  /** Usage of the cgroup, undefined when it is gone. */
  usage(rel: string): CgroupUsage | undefined;
  /** Kills every process in the cgroup at once where the kernel can (v2 cgroup.kill); false to kill pid by pid. */
  killAtOnce(rel: string): boolean;
}

/** Opens `rel` and every level above it for children (v2 subtree_control, top down); a no-op on v1. */
export function openDown(flavor: Flavor, rel: string): void {
  const parts = rel.split('/').filter(Boolean);
  for (let i = 0; i <= parts.length; i++) flavor.openForChildren(parts.slice(0, i).join('/'));
}
