/**
 * What one iteration of the master's event loop is made of. An API request is read in the poll phase and answered
 * there (master/broker/fast-api.ts), so a get waits for the rest of the iteration it arrives in: the iterations' lengths,
 * weighted by time (what a request arriving at a random moment sees), are what the get's tail is made of. This cuts the
 * master's .cpuprofile (`--profile --keep`; sample finely: SKIFF_BENCH_MASTER_NODE_FLAGS="--cpu-prof-interval 250") into
 * iterations and prints their lengths and their parts.
 *
 *   node dist/bench/loop-iterations.js /tmp/skiff-scale-XXX FROM_S TO_S   # seconds of the profile, as cut-profile prints
 *
 * An iteration begins where a run of check-phase samples begins (a stack rooted in processImmediate: the setImmediate
 * turns, with the microtasks each wakes) and lasts to the next such run; everything between two runs is the rest of the
 * loop — the poll phase's socket reads (their 'readable' handlers run as ticks: processTicksAndRejections), the timers,
 * idle time (so an idle loop's iterations are long: read a busy window, the rollout's). GC samples belong to the phase
 * they interrupt. A sample is also charged to its entry: the outermost
 * function of the project on its stack (else the root's name), as bench/stall-parts.ts does.
 */
import { keptRun, type ProfileNode } from './scale/profile.js';

const { profile: p, fromUs: from, toUs: to } = keptRun('loop-iterations');

/** Where a sample ran: the loop's phase and the entry it is charged to. */
type Phase = 'check' | 'ticks' | 'poll' | 'timers' | 'gc' | 'idle' | 'program';
interface Kind {
  phase: Phase;
  entry: string;
}

const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const where = (url: string) => url.replace(/^.*\/dist\//, '');
const kinds = new Map<number, Kind>();
function kindOf(id: number): Kind {
  let k = kinds.get(id);
  if (k) return k;
  const chain: ProfileNode['callFrame'][] = [];
  for (let n = byId.get(id); n; n = byId.get(parent.get(n.id) ?? -1)) chain.unshift(n.callFrame);
  const root = chain[1]?.functionName ?? '?';
  const phase: Phase =
    root === '(garbage collector)' ? 'gc'
    : root === '(idle)' ? 'idle'
    : root === '(program)' ? 'program'
    : root === 'processImmediate' ? 'check'
    : root === 'processTimers' || root === 'listOnTimeout' ? 'timers'
    : root === 'processTicksAndRejections' ? 'ticks'
    : 'poll';
  const own = chain.find((f) => f.url.includes('/dist/') && !f.url.includes('node_modules'));
  k = { phase, entry: `${phase} ${own ? `${own.functionName || '(anonymous)'} ${where(own.url)}:${own.lineNumber + 1}` : root}` };
  kinds.set(id, k);
  return k;
}

interface Iteration {
  start: number;
  len: number;
  /** µs by part: the phases, GC split by the phase it interrupted. */
  parts: Map<string, number>;
  entries: Map<string, number>;
}

const iterations: Iteration[] = [];
let current: Iteration | undefined;
let last: Phase = 'idle'; // the last phase that was not GC or native code
let at = p.startTime;
p.samples.forEach((id, i) => {
  at += p.timeDeltas[i] ?? 0;
  const rel = at - p.startTime;
  if (rel < from || rel > to) return;
  const us = p.timeDeltas[i + 1] ?? 0; // the time until the next sample is this one's
  const k = kindOf(id);
  const between = k.phase === 'gc' || k.phase === 'program';
  if (k.phase === 'check' && last !== 'check') {
    if (current) current.len = at - current.start;
    current = { start: at, len: 0, parts: new Map(), entries: new Map() };
    iterations.push(current);
  }
  if (!between) last = k.phase;
  if (!current) return;
  const part = between ? `${k.phase} (in ${last === 'check' ? 'check' : 'the rest'})` : k.phase;
  current.parts.set(part, (current.parts.get(part) ?? 0) + us);
  current.entries.set(k.entry, (current.entries.get(k.entry) ?? 0) + us);
});
iterations.pop(); // the last one has no end in the window
if (iterations.length === 0) {
  process.stderr.write('loop-iterations: no whole iteration in the window\n');
  process.exit(1);
}

const ms = (us: number) => (us / 1000).toFixed(1);
const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const lens = iterations.map((x) => x.len).sort((a, b) => a - b);
const total = lens.reduce((a, b) => a + b, 0);
// Time-weighted: the length of the iteration a moment picked at random falls in.
const weighted = (q: number) => {
  let acc = 0;
  for (const l of lens) if ((acc += l) >= q * total) return l;
  return lens[lens.length - 1]!;
};
const out = (s: string) => process.stdout.write(`${s}\n`);
out(`${iterations.length} iterations in ${ms(total)} ms: length p50 ${ms(quantile(lens, 0.5))}, p90 ${ms(quantile(lens, 0.9))}, p99 ${ms(quantile(lens, 0.99))}, max ${ms(lens[lens.length - 1]!)} ms`);
out(`  weighted by time (what a request arriving at random waits in): p50 ${ms(weighted(0.5))}, p90 ${ms(weighted(0.9))}, p99 ${ms(weighted(0.99))} ms`);

const partOf = (x: Iteration, ...names: string[]) => names.reduce((s, n) => s + (x.parts.get(n) ?? 0), 0);
const spread = (label: string, values: number[]) => {
  const v = values.sort((a, b) => a - b);
  out(`  ${label.padEnd(34)} p50 ${ms(quantile(v, 0.5)).padStart(5)}  p90 ${ms(quantile(v, 0.9)).padStart(5)}  p99 ${ms(quantile(v, 0.99)).padStart(5)}  max ${ms(v[v.length - 1]!).padStart(5)} ms`);
};
out('per iteration:');
spread('check phase (GC in it included)', iterations.map((x) => partOf(x, 'check', 'gc (in check)')));
spread('socket reads (poll + their ticks)', iterations.map((x) => partOf(x, 'poll', 'ticks')));
spread('GC', iterations.map((x) => partOf(x, 'gc (in check)', 'gc (in the rest)')));

const longMs = Number(process.env.LONG_MS ?? 15);
const top = Number(process.env.TOP ?? 15);
function composition(label: string, set: Iteration[]): void {
  if (set.length === 0) return;
  const parts = new Map<string, number>();
  const entries = new Map<string, number>();
  for (const x of set) {
    for (const [k, v] of x.parts) parts.set(k, (parts.get(k) ?? 0) + v);
    for (const [k, v] of x.entries) entries.set(k, (entries.get(k) ?? 0) + v);
  }
  const each = (us: number) => (us / set.length / 1000).toFixed(2).padStart(6);
  out(`${label}: ${set.length} (${((set.length / iterations.length) * 100).toFixed(0)} %), mean ${ms(set.reduce((s, x) => s + x.len, 0) / set.length)} ms — ms per iteration:`);
  out(`  ${[...parts].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${each(v).trim()}`).join(', ')}`);
  for (const [k, v] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) out(`  ${each(v)}  ${k}`);
}
composition('all iterations', iterations);
const long = iterations.filter((x) => x.len >= longMs * 1000);
composition(`iterations of ${longMs} ms or more`, long);
if (long.length > 0) {
  const share = (pred: (x: Iteration) => boolean) => `${((long.filter(pred).length / long.length) * 100).toFixed(0)} %`;
  out(
    `  of them: check phase ≥ 10 ms ${share((x) => partOf(x, 'check') >= 10_000)}, socket reads ≥ 5 ms ${share((x) => partOf(x, 'poll', 'ticks') >= 5000)}, GC ≥ 5 ms ${share((x) => partOf(x, 'gc (in check)', 'gc (in the rest)') >= 5000)}`,
  );
}
