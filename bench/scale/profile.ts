/**
 * The profile summary: the master runs under `node --cpu-prof` (V8's sampling profiler, written as a .cpuprofile
 * when it exits) and the harness adds up self time per function (the time of each sample goes to the function on
 * top of the stack), grouped by function name and file, so "34 % committing SQLite transactions" reads directly.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  startTime: number;
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

/** A script's URL from dist/ or node_modules/ on (a profile's frames carry absolute file URLs). */
export function shortUrl(url: string): string {
  return url.replace(/.*\/(dist|node_modules)\//, '$1/');
}

/** A profile frame as `name file:line` (CPU and heap profiles alike), the name `(anonymous)` when it has none. */
export function frameLabel(f: { functionName: string; url: string; lineNumber: number }): string {
  return `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
}

/** The newest .cpuprofile in `dir`, if any. */
export function newestProfile(dir: string): string | undefined {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort();
  return files.length ? join(dir, files[files.length - 1]) : undefined;
}

/**
 * For a tool that reads a run the bench kept (`--profile --keep`): its arguments `DIR [FROM_S TO_S]` (seconds of the
 * profile, as cut-profile prints them) and the run's newest profile. Prints the usage, or why there is no profile, and
 * exits 2 otherwise.
 */
export function keptRun(tool: string): { dir: string; profile: CpuProfile; fromUs: number; toUs: number } {
  const [dir, fromArg, toArg] = process.argv.slice(2);
  if (!dir) {
    process.stderr.write(`usage: node dist/bench/${tool}.js /tmp/skiff-scale-XXX [FROM_S TO_S]\n`);
    process.exit(2);
  }
  const file = existsSync(join(dir, 'profile')) ? newestProfile(join(dir, 'profile')) : undefined;
  if (!file) {
    process.stderr.write(`${tool}: no .cpuprofile in ${join(dir, 'profile')} (run the bench with --profile --keep)\n`);
    process.exit(2);
  }
  const seconds = (arg: string | undefined, name: string, none: number): number => {
    if (arg === undefined) return none;
    const s = Number(arg);
    if (arg.trim() === '' || !Number.isFinite(s) || s < 0) {
      process.stderr.write(`${tool}: ${name} must be a number of seconds ≥ 0 (got ${JSON.stringify(arg)})\n`);
      process.exit(2);
    }
    return s * 1e6;
  };
  const fromUs = seconds(fromArg, 'FROM_S', -Infinity);
  const toUs = seconds(toArg, 'TO_S', Infinity);
  return { dir, profile: JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, fromUs, toUs };
}

/**
 * The `top` functions by self time in a .cpuprofile; paths shown relative to `root`. With `window` (the master's
 * monotonic µs, as loop.ts monoAt gives it) only the samples taken in it: the idle windows' profiles.
 */
export function topSelfTime(file: string, root: string, top = 12, window?: { fromUs: number; toUs: number }): { totalMs: number; hot: HotFunction[] } {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, HotFunction>();
  let totalUs = 0;
  let at = p.startTime;
  p.samples.forEach((id, i) => {
    at += p.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) return;
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

/** Tasks that held the master's thread longer than a threshold, and the project functions they ran in. */
export interface LongTasks {
  thresholdMs: number;
  count: number;
  totalMs: number;
  longestMs: number;
  /** Project functions by time spent inside them (inclusive) during long tasks, and in how many tasks. */
  hot: { name: string; where: string; ms: number; tasks: number }[];
  /** Long tasks by entry: the outermost project function of most of a task's samples (a timer, an I/O callback). */
  entries: { entry: string; tasks: number; ms: number; longestMs: number }[];
}

/**
 * The long tasks of a .cpuprofile: runs of samples with no `(idle)` sample between them that last over
 * `thresholdMs` (within `window`, the master's monotonic µs, when given) (what a request arriving meanwhile waits behind). For each, every function of the project on the
 * sampled stacks (not node_modules, not node internals) is charged the sample's time once, so the list names both
 * the dispatcher (the router's message handler) and the work under it (a list answer, a commit, a sync).
 */
export function longTasks(file: string, root: string, window?: { fromUs: number; toUs: number }, thresholdMs = 20, top = 15): LongTasks {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const own = (url: string) => url.includes('/dist/') && !url.includes('node_modules');
  const hot = new Map<string, { name: string; where: string; ms: number; tasks: number; last: number }>();
  const out: LongTasks = { thresholdMs, count: 0, totalMs: 0, longestMs: 0, hot: [], entries: [] };
  const entries = new Map<string, { entry: string; tasks: number; ms: number; longestMs: number }>();
  let task: { us: number; samples: [number, number][] } = { us: 0, samples: [] };
  const close = () => {
    if (task.us / 1000 > thresholdMs) {
      out.count++;
      out.totalMs += task.us / 1000;
      out.longestMs = Math.max(out.longestMs, task.us / 1000);
      const outer = new Map<string, number>();
      for (const [id, us] of task.samples) {
        const seen = new Set<string>();
        let outermost = '';
        let outermostAny = byId.get(id)?.callFrame.functionName ?? '?';
        for (let n = byId.get(id); n; n = byId.get(parent.get(n.id) ?? -1)) {
          const { functionName, url, lineNumber } = n.callFrame;
          if (url) outermostAny = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '')}:${lineNumber + 1} (outside the project)`;
          if (!own(url)) continue;
          const where = `${relative(root, url.replace(/^file:\/\//, ''))}:${lineNumber + 1}`;
          const key = `${functionName}\u0000${where}`;
          outermost = `${functionName || '(anonymous)'} ${where}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const h = hot.get(key) ?? { name: functionName || '(anonymous)', where, ms: 0, tasks: 0, last: -1 };
          h.ms += us / 1000;
          if (h.last !== out.count) (h.tasks++, (h.last = out.count));
          hot.set(key, h);
        }
        outermost ||= outermostAny;
        outer.set(outermost, (outer.get(outermost) ?? 0) + us);
      }
      const entry = [...outer].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '?';
      const e = entries.get(entry) ?? { entry, tasks: 0, ms: 0, longestMs: 0 };
      e.tasks++;
      e.ms += task.us / 1000;
      e.longestMs = Math.max(e.longestMs, task.us / 1000);
      entries.set(entry, e);
    }
    task = { us: 0, samples: [] };
  };
  let at = p.startTime;
  p.samples.forEach((id, i) => {
    const us = p.timeDeltas[i] ?? 0;
    at += us;
    if (window && (at < window.fromUs || at > window.toUs)) return close();
    if (byId.get(id)?.callFrame.functionName === '(idle)') return close();
    task.us += us;
    task.samples.push([id, us]);
  });
  close();
  out.entries = [...entries.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
  out.hot = [...hot.values()].sort((a, b) => b.ms - a.ms).slice(0, top).map(({ last: _l, ...h }) => h);
  return out;
}

/** The long tasks as lines. */
export function formatLongTasks(t: LongTasks): string {
  const lines = [`long tasks (> ${t.thresholdMs} ms without an idle sample): ${t.count}, ${(t.totalMs / 1000).toFixed(1)} s in all, longest ${t.longestMs.toFixed(0)} ms; inside them:`];
  lines.push('  by entry (the outermost project function of most of the task):');
  for (const e of t.entries) lines.push(`  ${e.ms.toFixed(0).padStart(7)} ms  ${String(e.tasks).padStart(4)} tasks, longest ${e.longestMs.toFixed(0).padStart(5)} ms  ${e.entry}`);
  lines.push('  every project function on their stacks (inclusive):');
  for (const h of t.hot) lines.push(`  ${h.ms.toFixed(0).padStart(7)} ms  in ${String(h.tasks).padStart(4)} tasks  ${h.name}  ${h.where}`);
  return lines.join('\n');
}

/** The summary as lines: share, ms, function, file. */
export function formatProfile(s: { totalMs: number; hot: HotFunction[] }): string {
  const lines = [`profile: ${(s.totalMs / 1000).toFixed(1)} s sampled; top self time:`];
  for (const h of s.hot) lines.push(`  ${(h.share * 100).toFixed(1).padStart(5)} %  ${h.selfMs.toFixed(0).padStart(7)} ms  ${h.name}  ${h.where}`);
  return lines.join('\n');
}
