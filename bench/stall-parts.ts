/**
 * What held the master's thread when its loop stalled. The scale bench's loop probe (bench/scale/loop-probe.ts) writes,
 * each second, the window of every stall over 20 ms on the monotonic clock (from the tick before it to the late tick);
 * this cuts the master's .cpuprofile (`--profile --keep` leaves both in /tmp/skiff-scale-…/) to those windows and
 * prints where their samples went, beside where the busy samples of the same seconds went overall: work that is a
 * larger share of the stalls than of the busy time is what makes them (an API get waits behind a stall).
 *
 *   node dist/bench/stall-parts.js /tmp/skiff-scale-XXX [FROM_S TO_S]   # seconds of the profile, as cut-profile prints
 *
 * A sample is charged to its entry: the stack's root (processImmediate: the check phase; processTicksAndRejections:
 * microtasks; onStreamRead: a socket read) and the outermost function of the project under it (else the outermost
 * with a file), so the watch hub's turn, a commit turn and a desired flush are told apart. GC is its own entry.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { keptRun, type ProfileNode } from './scale/profile.js';

const { dir, profile: p, fromUs: from, toUs: to } = keptRun('stall-parts');
const windows: [number, number][] = [];
for (const line of readFileSync(join(dir, 'loop.jsonl'), 'utf8').split('\n')) {
  if (!line) continue;
  const l = JSON.parse(line) as { windows?: [number, number][] };
  for (const w of l.windows ?? []) windows.push(w);
}
windows.sort((a, b) => a[0] - b[0]);

const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const where = (url: string) => url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^dist\//, '');
const entryCache = new Map<number, string>();
function entryOf(id: number): string {
  let e = entryCache.get(id);
  if (e !== undefined) return e;
  const chain: ProfileNode['callFrame'][] = [];
  for (let n = byId.get(id); n; n = byId.get(parent.get(n.id) ?? -1)) chain.unshift(n.callFrame);
  const frames = chain.slice(1); // without (root)
  const top = frames[0];
  if (!top) e = '?';
  else if (top.functionName.startsWith('(')) e = top.functionName;
  else {
    const own = frames.find((f) => f.url.includes('/dist/') && !f.url.includes('node_modules'));
    const any = frames.find((f, i) => i > 0 && f.url && !f.url.startsWith('node:'));
    const f = own ?? any;
    e = `${top.functionName || '(anonymous)'} > ${f ? `${f.functionName || '(anonymous)'} ${where(f.url)}:${f.lineNumber + 1}` : '-'}`;
  }
  entryCache.set(id, e);
  return e;
}

const busy = new Map<string, number>();
const inStalls = new Map<string, number>();
let busyUs = 0;
let stallUs = 0;
let stallBusyUs = 0;
const perStall: { from: number; ms: number; parts: Map<string, number> }[] = [];
let w = 0;
let at = p.startTime;
p.samples.forEach((id, i) => {
  const us = p.timeDeltas[i] ?? 0;
  at += us;
  const rel = at - p.startTime;
  if (rel < from || rel > to) return;
  const e = entryOf(id);
  if (e !== '(idle)') {
    busy.set(e, (busy.get(e) ?? 0) + us);
    busyUs += us;
  }
  while (w < windows.length && windows[w]![1] < at) w++;
  const win = windows[w];
  if (!win || at < win[0]) return;
  let s = perStall[perStall.length - 1];
  if (!s || s.from !== win[0]) {
    s = { from: win[0], ms: (win[1] - win[0]) / 1000, parts: new Map() };
    perStall.push(s);
    stallUs += win[1] - win[0];
  }
  s.parts.set(e, (s.parts.get(e) ?? 0) + us);
  if (e !== '(idle)') {
    inStalls.set(e, (inStalls.get(e) ?? 0) + us);
    stallBusyUs += us;
  }
});

const ms = (us: number) => (us / 1000).toFixed(0);
const pct = (a: number, b: number) => (b ? ((a / b) * 100).toFixed(1) : '0.0');
process.stdout.write(
  `${perStall.length} stalls > 20 ms in the window (${ms(stallUs)} ms from the tick before each to the late tick; ${ms(stallBusyUs)} ms of busy samples), busy samples in the window ${ms(busyUs)} ms\n`,
);
process.stdout.write('  in stalls ms   share   busy share   ratio  entry\n');
const top = Number(process.env.TOP ?? 30);
for (const [e, us] of [...inStalls].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  const share = us / stallBusyUs;
  const overall = (busy.get(e) ?? 0) / busyUs;
  process.stdout.write(`  ${ms(us).padStart(11)}  ${pct(us, stallBusyUs).padStart(5)} %  ${pct(busy.get(e) ?? 0, busyUs).padStart(8)} %  ${(overall ? share / overall : 0).toFixed(2).padStart(6)}  ${e}\n`);
}
process.stdout.write('the longest stalls (window ms: its largest parts):\n');
for (const s of [...perStall].sort((a, b) => b.ms - a.ms).slice(0, Number(process.env.STALLS ?? 12))) {
  const parts = [...s.parts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([e, us]) => `${ms(us)} ${e}`);
  process.stdout.write(`  ${s.ms.toFixed(0).padStart(4)} ms at ${((s.from - p.startTime) / 1e6).toFixed(1)} s: ${parts.join(' | ')}\n`);
}
