/**
 * The profile summary: the master runs under `node --cpu-prof` (V8's sampling profiler, written as a .cpuprofile
 * when it exits) and the harness adds up self time per function (the time of each sample goes to the function on
 * top of the stack), grouped by function name and file, so "34 % committing SQLite transactions" reads directly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** One function's share of the samples. */
export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

/** The newest .cpuprofile in `dir`, if any. */
export function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  return files.length ? join(dir, files[files.length - 1]) : undefined;
}

/** The `top` functions by self time in a .cpuprofile; paths shown relative to `root`. */
export function topSelfTime(file: string, root: string, top = 12): { totalMs: number; hot: HotFunction[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, HotFunction>();
  let totalUs = 0;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    totalUs += us;
    const n = byId.get(id);
    if (!n) return;
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || (url ? '(anonymous)' : '(program)');
    const where = url ? `${relative(root, url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
    const key = `${name}\u0000${where}`;
    const h = self.get(key) ?? { name, where, selfMs: 0, share: 0 };
    h.selfMs += us / 1000;
    self.set(key, h);
  });
  const hot = [...self.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top);
  for (const h of hot) h.share = totalUs ? h.selfMs / (totalUs / 1000) : 0;
  return { totalMs: totalUs / 1000, hot };
}

/** The summary as lines: share, ms, function, file. */
export function formatProfile(s: { totalMs: number; hot: HotFunction[] }): string {
  const lines = [`profile: ${(s.totalMs / 1000).toFixed(1)} s sampled; top self time:`];
  for (const h of s.hot) lines.push(`  ${(h.share * 100).toFixed(1).padStart(5)} %  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}  ${h.where}`);
  return lines.join('\n');
}
