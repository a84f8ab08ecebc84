/**
 * Cuts a V8 .cpuprofile (the scale bench's `--profile --keep` leaves the master's in /tmp/skiff-scale-…/profile) to a
 * time window and prints where the busy samples went: self time by function and by file, and inclusive time by
 * function (each function once per sample, however deep). Without a window it prints the busy share of each second
 * of the profile, to find the rollout (the seconds near 100 % after the idle minute).
 *
 *   node dist/bench/cut-profile.js FILE.cpuprofile              # busy % per second
 *   node dist/bench/cut-profile.js FILE.cpuprofile FROM_S TO_S  # the window's breakdown (TOP=, TOPI= for more rows)
 *
 * UNDER=NAME keeps only the samples with a function of that name on the stack (the percentages stay of the window's
 * busy samples): what, say, `flush` of the watch hub spends its time in.
 */
import { readFileSync } from 'node:fs';
import { frameLabel, shortUrl as where, type CpuProfile as Profile, type ProfileNode } from './scale/profile.js';

const [file, fromArg, toArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/cut-profile.js FILE.cpuprofile [FROM_S TO_S]\n');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
let t = 0;
const times = p.timeDeltas.map((d) => (t += d));
const idle = (n: ProfileNode) => n.callFrame.functionName === '(idle)';

if (fromArg === undefined) {
  const seconds = new Map<number, [number, number]>();
  p.samples.forEach((id, i) => {
    const s = Math.floor(times[i]! / 1e6);
    const e = seconds.get(s) ?? [0, 0];
    e[0]++;
    if (!idle(byId.get(id)!)) e[1]++;
    seconds.set(s, e);
  });
  for (const [s, [all, busy]] of [...seconds].sort((a, b) => a[0] - b[0])) process.stdout.write(`${s} ${((100 * busy) / all).toFixed(0)}%\n`);
} else {
  const from = Number(fromArg) * 1e6;
  const to = Number(toArg ?? Infinity) * 1e6;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let busy = 0;
  const key = (n: ProfileNode) => frameLabel(n.callFrame);
  const add = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  const under = process.env.UNDER;
  const within = (id: number) => {
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) if (byId.get(c)!.callFrame.functionName === under) return true;
    return false;
  };
  p.samples.forEach((id, i) => {
    if (times[i]! < from || times[i]! > to) return;
    total++;
    const n = byId.get(id)!;
    if (idle(n)) return;
    busy++;
    if (under !== undefined && !within(id)) return;
    add(self, key(n));
    add(files, where(n.callFrame.url) || n.callFrame.functionName);
    const seen = new Set<string>();
    for (let c: number | undefined = id; c !== undefined; c = parent.get(c)) {
      const k = key(byId.get(c)!);
      if (!seen.has(k)) {
        seen.add(k);
        add(incl, k);
      }
    }
  });
  const pct = (v: number) => `${((100 * v) / busy).toFixed(1).padStart(5)}%`;
  const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${pct(v)} ${k}\n`).join('');
  process.stdout.write(`window ${fromArg}-${toArg ?? 'end'} s: ${total} samples, busy ${((100 * busy) / Math.max(1, total)).toFixed(1)} %\n`);
  process.stdout.write(`--- self\n${top(self, Number(process.env.TOP ?? 40))}--- by file (self)\n${top(files, 30)}--- inclusive\n${top(incl, Number(process.env.TOPI ?? 60))}`);
}
