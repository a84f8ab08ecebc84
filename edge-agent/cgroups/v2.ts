/**
 * cgroup v2 (Raspberry Pi OS Bookworm, current Debian and Ubuntu): one unified tree. Controllers reach a
 * child only when its parent lists them in cgroup.subtree_control, and a cgroup with processes may not
 * delegate (the "no internal processes" rule), so processes live only in the container leaves.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readKey, readNumber, readValue, writeIfPresent, writeValue } from './files.js';
import { CFS_PERIOD_US, milliToQuota, milliToShares, sharesToWeight, type Flavor } from './flavor.js';
import type { CgroupUsage, ContainerLimits } from './types.js';

/** The controllers Skiff uses, in the order they are enabled. */
const wanted = ['memory', 'cpu', 'pids'] as const;

/** The v2 flavor over the unified mount `root`, using the controllers it offers (memory required). */
export function v2Flavor(root: string, available: readonly string[]): Flavor {
  const controllers = wanted.filter((c) => available.includes(c));
  const at = (rel: string, file: string) => path.join(root, rel, file);
  return {
    version: 'v2',
    controllers,
    dirs: (rel) => [path.join(root, rel)],
    openForChildren(rel: string) {
      const file = at(rel, 'cgroup.subtree_control');
      const enabled = (readValue(file) ?? '').split(/\s+/);
      const missing = controllers.filter((c) => !enabled.includes(c));
      if (missing.length) writeValue(file, missing.map((c) => `+${c}`).join(' '));
    },
    applyLimits(rel: string, l: ContainerLimits) {
      if (l.memoryBytes !== undefined) {
        writeValue(at(rel, 'memory.max'), l.memoryBytes);
        writeIfPresent(at(rel, 'memory.swap.max'), 0); // the limit is not bypassed by swapping out
      }
      if (!controllers.includes('cpu')) return;
      if (l.cpuMilli !== undefined) writeValue(at(rel, 'cpu.max'), `${milliToQuota(l.cpuMilli)} ${CFS_PERIOD_US}`);
      const request = l.cpuRequestMilli ?? l.cpuMilli; // Kubernetes defaults a missing request to the limit
      if (request !== undefined) writeValue(at(rel, 'cpu.weight'), sharesToWeight(milliToShares(request)));
    },
    applyPodPids(rel: string, n: number) {
      if (controllers.includes('pids')) writeValue(at(rel, 'pids.max'), n);
    },
    applyShares(rel: string, milli: number) {
      if (controllers.includes('cpu')) writeValue(at(rel, 'cpu.weight'), sharesToWeight(milliToShares(milli)));
    },
    oomKills: (rel) => readKey(at(rel, 'memory.events'), 'oom_kill') ?? 0,
    usage(rel: string): CgroupUsage | undefined {
      const used = readNumber(at(rel, 'memory.current'));
      if (used === undefined) return undefined;
      const inactive = readKey(at(rel, 'memory.stat'), 'inactive_file') ?? 0;
      const usec = readKey(at(rel, 'cpu.stat'), 'usage_usec');
      return { memoryBytes: Math.max(0, used - inactive), cpuNanos: usec === undefined ? undefined : usec * 1000 };
    },
    killAtOnce(rel: string) {
      // cgroup.kill (Linux 5.14+) SIGKILLs the whole cgroup, forks in flight included.
      const file = at(rel, 'cgroup.kill');
      if (!fs.existsSync(file)) return false;
      writeValue(file, 1);
      return true;
    },
  };
}
