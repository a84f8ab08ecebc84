/**
 * A running container's usage from the engine's stats API (`docker stats --no-stream`): the cumulative cpu time
 * and the memory working set (usage minus inactive file cache, as the kubelet counts it). The contract's
 * `stats()` is synchronous (the metrics sampler reads every container in one pass), so the last answer is kept
 * and a read older than STALE_MS asks the engine again in the background.
 */
import type { CgroupUsage } from '../../cgroups/types.js';
import type { Engine } from './engine.js';

/** A cached answer older than this is refreshed on the next read; 1 s (the sampler reads every few seconds). */
const STALE_MS = 1000;

/** The part of the engine's stats answer read here (Docker API; Podman's compat API answers the same shape). */
export interface EngineStatsAnswer {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

/** The usage in the contract's terms; undefined when the answer has no memory figure (the container ended). */
export function usageOf(s: EngineStatsAnswer | undefined): CgroupUsage | undefined {
  const usage = s?.memory_stats?.usage;
  if (typeof usage !== 'number') return undefined;
  const st = s?.memory_stats?.stats ?? {};
  // cgroup v2 names it inactive_file, v1 total_inactive_file (docker CLI's working set rule).
  const inactive = st.inactive_file ?? st.total_inactive_file ?? 0;
  const cpu = s?.cpu_stats?.cpu_usage?.total_usage;
  return { memoryBytes: Math.max(0, usage - (inactive < usage ? inactive : 0)), ...(typeof cpu === 'number' ? { cpuNanos: cpu } : {}) };
}

/** The last known usage of one container, refreshed from the engine when read. */
export class EngineStats {
  private latest?: CgroupUsage;
  private at = 0;
  private pending = false;

  constructor(
    private readonly e: Engine,
    private readonly id: string,
  ) {}

  /** The last answer (undefined before the first); asks again when it is stale. */
  read(): CgroupUsage | undefined {
    if (!this.pending && Date.now() - this.at > STALE_MS) void this.refresh();
    return this.latest;
  }

  /** Asks the engine now; resolves with the answer (kept for `read`). */
  async refresh(): Promise<CgroupUsage | undefined> {
    this.pending = true;
    try {
      const s = (await this.e.docker.getContainer(this.id).stats({ stream: false })) as EngineStatsAnswer;
      this.latest = usageOf(s) ?? this.latest;
      this.at = Date.now();
    } catch {
      // the container ended or the engine is busy: the last figure stays until the handle ends
    } finally {
      this.pending = false;
    }
    return this.latest;
  }
}
