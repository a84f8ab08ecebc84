/**
 * Where the scale bench's `list pods` went, list by list: run the bench with the master timing its lists and the
 * probe writing their parts —
 *
 *   SKIFF_API_TIMING=1 SKIFF_LIST_TRACE=/tmp/lists.jsonl node dist/bench/scale/main.js --agents 1000 --pods 10000
 *   node dist/bench/list-parts.js /tmp/lists.jsonl
 *
 * (bench/scale/observe.ts `ListParts`: the wait until the master read the request, the wait for the informers, the
 * budgeted turns making the changed objects' bytes, the splice + write + transfer, the client's decode).
 */
import { readFileSync } from 'node:fs';
import { listPartsTable, pct, table } from './scale/stats.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/bench/list-parts.js FILE.jsonl');
  process.exit(2);
}
const parts = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number>);
console.log(listPartsTable(parts));

// With the master warming listed objects' bytes (master/api/list-warm.ts) a rollout's list may make none itself: the
// same parts by whether pods changed since the last list (bytes made by the list or warmed ahead of it) or not.
if (parts.some((p) => p.objectsWarmed !== undefined)) {
  const names = ['totalMs', 'toMasterMs', 'waitMs', 'behind', 'prepareMs', 'answerMs', 'encodeMs', 'writeMs', 'decodeMs', 'objectsEncoded', 'objectsWarmed', 'resultBytes'];
  const changed = (p: Record<string, number>) => (p.objectsEncoded ?? 0) + (p.objectsWarmed ?? 0) > 0;
  const groups: [string, Record<string, number>[]][] = [
    ['changed since the last list', parts.filter(changed)],
    ['unchanged', parts.filter((p) => !changed(p))],
  ];
  const cell = (xs: number[]) => (xs.length ? `${pct(xs, 50).toFixed(0)} / ${Math.max(...xs).toFixed(0)}` : '—');
  // encodeMs / writeMs (part of answerMs: the splice, and the write until the socket took it all) only where known.
  const rows = names.map((k) => [k, ...groups.map(([, g]) => cell(g.filter((p) => p[k] !== undefined).map((p) => p[k]!)))] as [string, ...string[]]);
  console.log('\n' + table(rows, ['median / max', ...groups.map(([name, g]) => `${name} (n=${g.length})`)]));
}
