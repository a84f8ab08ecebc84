/**
 * CPU per write and event-loop stalls of the SQLite store's write path, as a rollout drives it: PODS pods each
 * created, then updated 3 times (bind, ContainerCreating, Running) by 64 concurrent writers that each `get` the
 * object before updating it, with one watcher on everything (as the informer) that reads values and never
 * prevValue. Prints the process CPU per write (this thread, libuv's threadpool and the checkpoint worker all
 * count), the longest event-loop delay (monitorEventLoopDelay) and the wall time. STORE_FROM=<a dist dir>
 * measures another build's store (e.g. /work/main/dist), so before and after run side by side on one box:
 *   npm run build && node dist/bench/store-cpu.js && STORE_FROM=/other/checkout/dist node dist/bench/store-cpu.js
 * Env: PODS (5000).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Store } from '../master/store/types.js';
import { benchPod } from './store-pod.js';

const PODS = Number(process.env.PODS ?? 5000);
const from = process.env.STORE_FROM ? resolve(process.env.STORE_FROM) : resolve(import.meta.dirname, '..');
const { openSqliteStore } = (await import(pathToFileURL(join(from, 'master', 'store', 'sqlite.js')).href)) as {
  openSqliteStore: (path: string) => Promise<Store & { close(): Promise<void> }>;
};

const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-store-cpu-'));
const store = await openSqliteStore(join(dir, 'skiff.db'));
let seen = 0;
const watch = store.watch<{ metadata: { name: string } }>('/registry/', undefined, (e) => {
  if (e.value.metadata.name) seen++;
});
const key = (i: number) => `/registry/pods/default/web-7d9f8c-${i}`;

async function lifecycle(i: number): Promise<void> {
  await store.create(key(i), benchPod(i, 'Pending'));
  for (const [phase, node] of [['Pending', `node-${i % 1000}`], ['ContainerCreating', `node-${i % 1000}`], ['Running', `node-${i % 1000}`]] as const) {
    const cur = await store.get(key(i));
    await store.update(key(i), benchPod(i, phase, node), cur!.modRevision);
  }
}

const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    for (let i = next++; i < PODS; i = next++) await lifecycle(i);
  }),
);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
loop.disable();
const writes = PODS * 4;
while (seen < writes) await new Promise((r) => setTimeout(r, 10));
watch.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
const ms = (cpu.user + cpu.system) / 1000;
console.log(
  `${from}: ${writes} writes (${PODS} pods × 4, each update after a get) in ${(wall / 1000).toFixed(1)} s: ` +
    `CPU ${((ms / writes) * 1000).toFixed(0)} µs/write (${(ms / PODS).toFixed(2)} ms/pod), ` +
    `loop delay p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms, max ${(loop.max / 1e6).toFixed(0)} ms`,
);
