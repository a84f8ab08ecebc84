/**
 * Where a process allocates, over a time window: preloaded into the scale bench's master (`--import`), it samples
 * allocations with V8's sampling heap profiler — the objects young and old collections took included, so the profile
 * is the allocation *rate* by call site, not what is still live — from SKIFF_HEAP_FROM_S to SKIFF_HEAP_TO_S seconds
 * after start, and writes the profile to SKIFF_HEAP_SAMPLE (a .heapprofile Chrome's DevTools opens). Then
 * `node dist/bench/heap-top.js FILE` prints the top allocation sites.
 *
 *   SKIFF_HEAP_SAMPLE=/tmp/alloc.heapprofile SKIFF_HEAP_FROM_S=95 SKIFF_HEAP_TO_S=115 \
 *   SKIFF_BENCH_MASTER_NODE_FLAGS="--import $PWD/dist/bench/heap-sample.js" \
 *   node dist/bench/scale/main.js --agents 1000 --pods 10000
 *
 * (Find the window with a `--profile` run first: bench/cut-profile.ts prints the busy share of each second.)
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.SKIFF_HEAP_SAMPLE;
const fromS = Number(process.env.SKIFF_HEAP_FROM_S ?? 0);
const toS = Number(process.env.SKIFF_HEAP_TO_S ?? 60);
/** Bytes between samples on average (V8's default is 512 KiB; smaller sees more sites, at more cost). */
const intervalBytes = Number(process.env.SKIFF_HEAP_INTERVAL ?? 64 * 1024);

if (file) {
  const session = new Session();
  session.connect();
  setTimeout(() => {
    session.post('HeapProfiler.startSampling', { samplingInterval: intervalBytes, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, (err) => {
      if (err) process.stderr.write(`heap-sample: ${err.message}\n`);
    });
    setTimeout(
      () =>
        session.post('HeapProfiler.stopSampling', (err, result) => {
          if (err) return void process.stderr.write(`heap-sample: ${err.message}\n`);
          writeFileSync(file, JSON.stringify(result.profile));
          process.stderr.write(`heap-sample: wrote ${file} (${fromS}–${toS} s)\n`);
        }),
      (toS - fromS) * 1000,
    ).unref();
  }, fromS * 1000).unref();
}
