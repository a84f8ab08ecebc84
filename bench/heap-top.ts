/**
 * The top allocation sites of a sampling heap profile (bench/heap-sample.ts): bytes sampled by function (self), by
 * file, and inclusive (each function once per sample's stack) — shares of all sampled bytes, and MB over the window.
 *
 *   node dist/bench/heap-top.js FILE.heapprofile   (TOP=, TOPI= for more rows; UNDER=NAME: only under that function)
 */
import { readFileSync } from 'node:fs';
import { frameLabel, shortUrl as where } from './scale/profile.js';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children?: HeapNode[];
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/bench/heap-top.js FILE.heapprofile\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as { head: HeapNode };
const key = (n: HeapNode) => frameLabel(n.callFrame);
const self = new Map<string, number>();
const files = new Map<string, number>();
const incl = new Map<string, number>();
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const under = process.env.UNDER;
let total = 0;

function walk(n: HeapNode, stack: string[], inside: boolean): void {
  const k = key(n);
  const now = inside || under === undefined || n.callFrame.functionName === under;
  stack.push(k);
  if (n.selfSize > 0 && now) {
    total += n.selfSize;
    add(self, k, n.selfSize);
    add(files, where(n.callFrame.url) || n.callFrame.functionName, n.selfSize);
    for (const s of new Set(stack)) add(incl, s, n.selfSize);
  }
  for (const c of n.children ?? []) walk(c, stack, now);
  stack.pop();
}
walk(profile.head, [], false);

const row = ([k, v]: [string, number]) => `${((100 * v) / total).toFixed(1).padStart(5)}% ${(v / 1e6).toFixed(1).padStart(7)} MB ${k}\n`;
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(row).join('');
process.stdout.write(`${(total / 1e6).toFixed(1)} MB sampled${under ? ` under ${under}` : ''}\n`);
process.stdout.write(`--- self\n${top(self, Number(process.env.TOP ?? 40))}--- by file (self)\n${top(files, 25)}--- inclusive\n${top(incl, Number(process.env.TOPI ?? 50))}`);
