/** The container driver's usage figures from the engine's stats answers (cgroup v1 and v2 shapes, Docker and Podman). */
import { describe, expect, it } from 'vitest';
import { usageOf, type EngineStatsAnswer } from '../../edge-agent/drivers/container/stats.js';

describe('engine stats → the contract\'s usage', () => {
  it.each<[string, EngineStatsAnswer | undefined, ReturnType<typeof usageOf>]>([
    ['cgroup v2: the working set leaves out inactive file cache', { cpu_stats: { cpu_usage: { total_usage: 2_500_000_000 } }, memory_stats: { usage: 10_000_000, stats: { inactive_file: 4_000_000 } } }, { cpuNanos: 2_500_000_000, memoryBytes: 6_000_000 }],
    ['cgroup v1 names it total_inactive_file', { cpu_stats: { cpu_usage: { total_usage: 7 } }, memory_stats: { usage: 9_000, stats: { total_inactive_file: 1_000 } } }, { cpuNanos: 7, memoryBytes: 8_000 }],
    ['no cache figures: the usage as it is', { memory_stats: { usage: 5_000 } }, { memoryBytes: 5_000 }],
    ['a cache figure above the usage (racing counters) is not subtracted', { memory_stats: { usage: 5_000, stats: { inactive_file: 6_000 } } }, { memoryBytes: 5_000 }],
    ['an ended container answers without memory figures: none', { cpu_stats: {}, memory_stats: {} }, undefined],
    ['no answer', undefined, undefined],
  ])('%s', (_what, answer, want) => {
    expect(usageOf(answer)).toEqual(want);
  });
});
