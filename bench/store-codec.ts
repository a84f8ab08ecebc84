/**
 * The SQLite store's value codec per call, before and after reusing one zlib stream (zlib-reuse.ts): a Pod's
 * JSON (~1 KB) deflated against dictionary 1 with the one-shot deflateRawSync / inflateRawSync (the previous
 * release) and with encodeValue / decodeValue. In-memory, one process: `npm run build && node dist/bench/store-codec.js`.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodeValue, dictionary1, encodeValue } from '../master/store/sqlite-codec.js';
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
