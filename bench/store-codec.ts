/**
 * The SQLite store's value codec per call, before and after reusing one zlib stream (zlib-reuse.ts): a Pod's
 * JSON (~1 KB) deflated against dictionary 1 with the one-shot deflateRawSync / inflateRawSync (the previous
 * release) and with encodeValue / decodeValue. In-memory, one process: `npm run build && node dist/bench/store-codec.js`.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { decodeValue, dictionary1, encodeValue } from '../master/store/sqlite-codec.js';

const pod = (i: number) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-7d9f8c-${i}`,
      generateName: 'web-7d9f8c-',
      namespace: 'default',
      labels: { app: 'web', 'pod-template-hash': '7d9f8c' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8c', uid: '1b2c3d4e-aaaa-bbbb-cccc-1234567890ab', controller: true, blockOwnerDeletion: true }],
      uid: `9f8e7d6c-aaaa-bbbb-cccc-${String(i).padStart(12, '0')}`,
      creationTimestamp: '2026-12-02T02:10:00Z',
    },
    spec: { containers: [{ name: 'main', image: 'nginx:1.25', resources: { requests: { cpu: '100m', memory: '64Mi' } } }], nodeName: `node-${i % 1000}`, restartPolicy: 'Always' },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-02T02:10:01Z' }], hostIP: '10.0.0.42', podIP: `10.1.${i % 250}.7`, startTime: '2026-12-02T02:10:00Z' },
  });

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
