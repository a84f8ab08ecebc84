/**
 * CPU per write and event-loop stalls of the SQLite store's write path, as a rollout drives it: PODS pods each
 * created, then updated 3 times (bind, ContainerCreating, Running) by 64 concurrent writers that each `get` the
 * object before updating it, with one watcher on everything (as the informer) that reads values and never
 * prevValue. Prints the MAIN THREAD's CPU per write (what bounds the master's pods/s in a rollout: /proc's count for
 * this thread), the process's (the threadpool, the checkpoint and deflate workers too), the event-loop delay
 * (monitorEventLoopDelay) and the wall time. STORE_FROM=<a dist dir> measures another build's store (e.g. the
 * baseline's dist), DEFLATE_IN=loop|worker this build's store with values deflated on the loop or in the worker.
 * With BENCH_VARIANTS (a comma list of dist dirs, or "loop"/"worker" for this build) it runs each variant in a child
 * process, ROUNDS (3) times alternately, and prints them side by side:
 *   npm run build && BENCH_VARIANTS=/base/dist,loop,worker node dist/bench/store-cpu.js
 * Env: PODS (5000).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Store } from '../master/store/types.js';
import { benchPod } from './store-pod.js';

const PODS = Number(process.env.PODS ?? 5000);
if (process.env.BENCH_VARIANTS) {
  await sideBySide(process.env.BENCH_VARIANTS.split(','), Number(process.env.ROUNDS ?? 3));
  process.exit(0);
}
const from = process.env.STORE_FROM ? resolve(process.env.STORE_FROM) : resolve(import.meta.dirname, '..');
const deflateStats = process.env.STORE_FROM ? undefined : (await import('../master/store/deflate-worker.js')).deflateWorkerStats;
const { openSqliteStore } = (await import(pathToFileURL(join(from, 'master', 'store', 'sqlite.js')).href)) as {
  openSqliteStore: (path: string, options?: { deflateIn?: 'worker' | 'loop' }) => Promise<Store & { close(): Promise<void> }>;
};
const deflateIn = process.env.DEFLATE_IN === 'loop' ? 'loop' : 'worker';

const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-store-cpu-'));
const store = await openSqliteStore(join(dir, 'skiff.db'), { deflateIn });
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
const main0 = mainThreadCpuMs();
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    for (let i = next++; i < PODS; i = next++) await lifecycle(i);
  }),
);
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const mainMs = mainThreadCpuMs() - main0;
loop.disable();
const writes = PODS * 4;
while (seen < writes) await new Promise((r) => setTimeout(r, 10));
watch.close();
const commits = (store as { commitStats?: () => { batches: number; syncs: number } }).commitStats?.();
await store.close();
rmSync(dir, { recursive: true, force: true });
const ms = (cpu.user + cpu.system) / 1000;
const result = {
  mainUsPerWrite: (mainMs / writes) * 1000,
  processUsPerWrite: (ms / writes) * 1000,
  wallS: wall / 1000,
  loopP99Ms: loop.percentile(99) / 1e6,
  loopMaxMs: loop.max / 1e6,
};
console.log(
  `${from}${process.env.STORE_FROM ? '' : ` (deflate in ${deflateIn})`}: ${writes} writes (${PODS} pods × 4, each update after a get) in ${result.wallS.toFixed(1)} s: ` +
    `main thread ${result.mainUsPerWrite.toFixed(0)} µs/write, process ${result.processUsPerWrite.toFixed(0)} µs/write (${(ms / PODS).toFixed(2)} ms/pod), ` +
    `loop delay p99 ${result.loopP99Ms.toFixed(0)} ms, max ${result.loopMaxMs.toFixed(0)} ms` +
    (commits ? `, ${(writes / commits.batches).toFixed(0)} writes per transaction` : '') +
    (deflateStats && deflateIn === 'worker' ? `, ${deflateStats().values} values in ${deflateStats().messages} messages to the deflate worker` : ''),
);
console.log(JSON.stringify(result));

/** This thread's CPU time in ms (utime + stime of /proc/self/task/<pid>/stat: the main thread's id is the pid). */
function mainThreadCpuMs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // fields 14 and 15 of stat(5), in USER_HZ (100)
}

/** Runs each variant in a child, `rounds` times alternately, and prints the medians side by side. */
async function sideBySide(variants: string[], rounds: number): Promise<void> {
  const runs = new Map<string, { mainUsPerWrite: number; processUsPerWrite: number; wallS: number; loopP99Ms: number }[]>(variants.map((v) => [v, []]));
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const env = { ...process.env, BENCH_VARIANTS: '', PODS: String(PODS) } as NodeJS.ProcessEnv;
      delete env.BENCH_VARIANTS;
      if (v === 'loop' || v === 'worker') env.DEFLATE_IN = v;
      else env.STORE_FROM = v;
      const out = execFileSync(process.execPath, [import.meta.filename], { env, encoding: 'utf8' });
      process.stdout.write(out.split('\n')[0] + '\n');
      runs.get(v)!.push(JSON.parse(out.trim().split('\n').pop()!));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`\nmedians of ${rounds} runs, ${PODS * 4} writes each:`);
  console.log(`${'variant'.padEnd(40)} ${'main µs/write'.padStart(14)} ${'process µs/write'.padStart(17)} ${'wall s'.padStart(7)} ${'loop p99 ms'.padStart(12)}`);
  for (const [v, rs] of runs) {
    console.log(
      `${v.padEnd(40)} ${median(rs.map((x) => x.mainUsPerWrite)).toFixed(0).padStart(14)} ${median(rs.map((x) => x.processUsPerWrite)).toFixed(0).padStart(17)} ` +
        `${median(rs.map((x) => x.wallS)).toFixed(1).padStart(7)} ${median(rs.map((x) => x.loopP99Ms)).toFixed(0).padStart(12)}`,
    );
  }
}
