/**
 * The SQLite store's value codec per call, before and after reusing one zlib stream (zlib-reuse.ts): a Pod's
 * JSON (~1 KB) deflated against dictionary 1 with the one-shot deflateRawSync / inflateRawSync (the previous
 * release) and with encodeValue / decodeValue; then zlib's compression levels side by side on the same reused stream
 * (time and stored bytes of 1,000 pods in three phases: created, bound, running), rounds alternating so that a box
 * slowing down mid-run weighs on every level alike. In-memory, one process: `npm run build && node dist/bench/store-codec.js`.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodeValue, deflateLevel, dictionary1, encodeValue } from '../master/store/sqlite-codec.js';
import { reusableRaw } from '../master/store/zlib-reuse.js';
import { benchPod } from './store-pod.js';

const pod = (i: number) => JSON.stringify(benchPod(i, 'Running', `node-${i % 1000}`));

const N = 20_000;
const texts = Array.from({ length: 1000 }, (_, i) => pod(i));

function time(label: string, fn: (i: number) => unknown): void {
  for (let i = 0; i < 2000; i++) fn(i); // warm up
  const start = performance.now();
  for (let i = 0; i < N; i++) fn(i);
  console.log(`${label.padEnd(44)} ${(((performance.now() - start) / N) * 1000).toFixed(1)} µs/call`);
}

const stored = texts.map((t) => encodeValue(t) as Buffer);
const oneShot = texts.map((t) => deflateRawSync(t, { dictionary: dictionary1 }));
console.log(`a Pod: ${Buffer.byteLength(texts[0]!)} bytes of JSON → ${stored[0]!.length} stored (one-shot: ${oneShot[0]!.length + 1})`);
time('deflateRawSync (previous release)', (i) => deflateRawSync(texts[i % 1000]!, { dictionary: dictionary1 }));
time('encodeValue (reused stream)', (i) => encodeValue(texts[i % 1000]!));
time('inflateRawSync (previous release)', (i) => inflateRawSync(oneShot[i % 1000]!, { dictionary: dictionary1 }).toString('utf8'));
time('decodeValue (reused stream)', (i) => decodeValue(stored[i % 1000]!));

// Levels: the reused stream at each level, on pods as they are written in a rollout (created, bound, running).
const phases = Array.from({ length: 1000 }, (_, i) => [benchPod(i, 'Pending'), benchPod(i, 'Pending', `node-${i % 1000}`), benchPod(i, 'Running', `node-${i % 1000}`)].map((o) => Buffer.from(JSON.stringify(o)))).flat();
const levels = [1, 2, 3, 6, 9];
const deflaters = new Map(levels.map((l) => [l, reusableRaw('deflate', dictionary1, deflateRawSync, l)]));
const perCall = new Map<number, number[]>(levels.map((l) => [l, []]));
const rounds = 5;
for (let r = 0; r < rounds; r++)
  for (const l of levels) {
    const deflate = deflaters.get(l)!;
    for (let i = 0; i < 1000; i++) deflate(phases[i % phases.length]!, 1);
    const start = performance.now();
    for (let i = 0; i < N; i++) deflate(phases[i % phases.length]!, 1);
    perCall.get(l)!.push(((performance.now() - start) / N) * 1000);
  }
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const bytes = (l: number) => phases.reduce((n, p) => n + deflaters.get(l)!(p, 1).length, 0) / phases.length;
const base = { us: median(perCall.get(6)!), bytes: bytes(6) };
console.log(`\nlevels (${phases.length} pod values, mean ${(phases.reduce((n, p) => n + p.length, 0) / phases.length).toFixed(0)} bytes of JSON; median of ${rounds} rounds):`);
for (const l of levels) {
  const us = median(perCall.get(l)!);
  const b = bytes(l);
  console.log(
    `level ${l}${l === deflateLevel ? ' (the store)' : l === 6 ? ' (zlib default)' : ''}`.padEnd(24) +
      ` ${us.toFixed(1).padStart(5)} µs/value (${((100 * us) / base.us).toFixed(0)} %)   ${b.toFixed(0).padStart(4)} bytes stored (${((100 * b) / base.bytes).toFixed(1)} %)`,
  );
}
