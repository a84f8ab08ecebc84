/**
 * cgroup v1: one hierarchy per controller (or a few controllers sharing one, e.g. `cpu,cpuacct` on Raspberry
 * Pi OS before Bookworm), so one container's cgroup is the same relative path under each mount.
 */
import path from 'node:path';
import { readKey, readNumber, writeIfPresent, writeValue } from './files.js';
import { CFS_PERIOD_US, milliToQuota, milliToShares, type Flavor } from './flavor.js';
import type { CgroupUsage, ContainerLimits } from './types.js';

/** The v1 flavor over `mounts`: controller name → its hierarchy's mount point (memory required). */
export function v1Flavor(mounts: ReadonlyMap<string, string>): Flavor {
  const memory = mounts.get('memory') as string;
  const cpu = mounts.get('cpu');
  const cpuacct = mounts.get('cpuacct');
  const pids = mounts.get('pids');
  const under = (mount: string | undefined, rel: string, file: string) => (mount ? path.join(mount, rel, file) : undefined);
  return {
    version: 'v1',
    controllers: ['memory', ...(cpu ? ['cpu'] : []), ...(pids ? ['pids'] : [])],
    dirs: (rel) => [...new Set([memory, cpu, cpuacct, pids].filter((m): m is string => m !== undefined))].map((m) => path.join(m, rel)),
    openForChildren: () => undefined, // v1 children inherit nothing to enable
    applyLimits(rel: string, l: ContainerLimits) {
      if (l.memoryBytes !== undefined) {
        writeValue(path.join(memory, rel, 'memory.limit_in_bytes'), l.memoryBytes);
        // With swap accounting, memory+swap gets the same limit: the limit is not bypassed by swapping out.
        writeIfPresent(path.join(memory, rel, 'memory.memsw.limit_in_bytes'), l.memoryBytes);
      }
      if (cpu && l.cpuMilli !== undefined) {
        writeValue(path.join(cpu, rel, 'cpu.cfs_period_us'), CFS_PERIOD_US);
        writeValue(path.join(cpu, rel, 'cpu.cfs_quota_us'), milliToQuota(l.cpuMilli));
      }
      const request = l.cpuRequestMilli ?? l.cpuMilli; // Kubernetes defaults a missing request to the limit
      if (cpu && request !== undefined) writeValue(path.join(cpu, rel, 'cpu.shares'), milliToShares(request));
    },
    applyPodPids(rel: string, n: number) {
      if (pids) writeValue(path.join(pids, rel, 'pids.max'), n);
    },
    applyShares(rel: string, milli: number) {
      if (cpu) writeValue(path.join(cpu, rel, 'cpu.shares'), milliToShares(milli));
    },
    oomKills(rel: string) {
      // memory.oom_control has counted oom_kill since Linux 4.13; older kernels only say the limit was hit.
      const file = path.join(memory, rel, 'memory.oom_control');
      return readKey(file, 'oom_kill') ?? ((readKey(file, 'under_oom') ?? 0) > 0 ? 1 : 0);
    },
    usage(rel: string): CgroupUsage | undefined {
      const used = readNumber(path.join(memory, rel, 'memory.usage_in_bytes'));
      if (used === undefined) return undefined;
      const inactive = readKey(path.join(memory, rel, 'memory.stat'), 'total_inactive_file') ?? 0;
      const cpuFile = under(cpuacct, rel, 'cpuacct.usage');
      return { memoryBytes: Math.max(0, used - inactive), cpuNanos: cpuFile ? readNumber(cpuFile) : undefined };
    },
    killAtOnce: () => false,
  };
}
