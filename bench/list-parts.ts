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
import { listPartsTable } from './scale/stats.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/bench/list-parts.js FILE.jsonl');
  process.exit(2);
}
const parts = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, number>);
console.log(listPartsTable(parts));
