/**
 * Where the scale bench's gets went, get by get: run the bench with the master timing its answers and the probe
 * writing each get's parts —
 *
 *   SKIFF_API_TIMING=1 SKIFF_GET_TRACE=/tmp/gets.jsonl node dist/bench/scale/main.js --agents 1000 --pods 10000 [--tls]
 *   node dist/bench/get-parts.js /tmp/gets.jsonl [SLOW_MS]
 *
 * Per part (bench/scale/observe.ts `ListParts`: from the send until the master handled the request, the master's
 * handling, from there until the answer was in the client, the decode), p50 / p90 / p99 / max of every get and of the
 * slow ones (SLOW_MS or more in all, default 10): where a slow get waited. The rollout's and the burst's gets are in
 * one file (the burst's are the last 200 lines).
 */
import { readFileSync } from 'node:fs';
import { pct, table } from './scale/stats.js';

const file = process.argv[2];
const slowMs = Number(process.argv[3] ?? 10);
if (!file || !(slowMs >= 0)) {
  console.error('usage: node dist/bench/get-parts.js FILE.jsonl [SLOW_MS]');
  process.exit(2);
}
const gets = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number>);
const parts: [string, (g: Record<string, number>) => number][] = [
  ['total', (g) => g.totalMs!],
  ['to the master', (g) => g.toMasterMs!],
  ['the master', (g) => g.totalMs! - g.toMasterMs! - g.answerMs! - g.decodeMs!],
  ['answer to the client', (g) => g.answerMs!],
  ['decode', (g) => g.decodeMs!],
];
const cell = (xs: number[]) => (xs.length ? [50, 90, 99].map((p) => pct(xs, p).toFixed(1)).join(' / ') + ` / ${Math.max(...xs).toFixed(1)}` : '—');
const groups: [string, Record<string, number>[]][] = [
  ['every get', gets],
  [`≥ ${slowMs} ms`, gets.filter((g) => g.totalMs! >= slowMs)],
];
const rows = parts.map(([name, of]) => [name, ...groups.map(([, g]) => cell(g.map(of)))] as [string, ...string[]]);
console.log(table(rows, ['ms: p50 / p90 / p99 / max', ...groups.map(([name, g]) => `${name} (n=${g.length})`)]));
