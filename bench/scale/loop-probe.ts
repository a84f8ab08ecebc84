/**
 * Preloaded into the master under test (`node --import`, master-proc.ts) when SKIFF_BENCH_LOOP_FILE is set: once a
 * second it appends one JSON line to that file with the event loop's delay over the last second — p50/p99/max from
 * perf_hooks' monitorEventLoopDelay — and every stall over 20 ms (a 10 ms timer that fired that much late: a task
 * that held the master's only thread). The harness reads the lines of the rollout's window (loop.ts). Nothing here
 * changes the master; it only costs a 10 ms timer and the histogram's own 10 ms timer — ~1 % of a core on the bench
 * box, as much as a fifth of what an idle master may spend (issue 16: < 5 %). So while the file `${file}.paused`
 * exists (the harness's idle windows: loop.ts pauseLoopProbe) both are off and only the 1 s line goes on, empty.
 * Each line also says what the master's memory was made of at that second (`mem`: process.memoryUsage() and the young
 * generation's committed size), so the harness can break its peak RSS down (loop.ts memAtPeak).
 */
import { appendFileSync, existsSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';

/** A stall is a 10 ms tick this much later than asked for, ms (issue 16's "long task": an API get waits behind it). */
const stallMs = 20;
const tickMs = 10;

const file = process.env.SKIFF_BENCH_LOOP_FILE;
if (file) {
  const h = monitorEventLoopDelay({ resolution: tickMs });
  h.enable();
  let stalls: number[] = [];
  // Each stall's window on the monotonic clock, µs: from when the tick was due to when it ran (bench/stall-parts.ts
  // cuts the master's .cpuprofile to these windows to say what held the thread).
  let windows: [number, number][] = [];
  let expected = performance.now() + tickMs;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const now = performance.now();
    const late = now - expected;
    if (late > stallMs) {
      stalls.push(Math.round(late));
      const mono = Number(process.hrtime.bigint() / 1000n);
      windows.push([mono - Math.round(late * 1000) - tickMs * 1000, mono]);
    }
    expected = now + tickMs;
    timer = setTimeout(tick, tickMs).unref();
  };
  timer = setTimeout(tick, tickMs).unref();
  const ns = (v: number) => Math.round(v / 1e4) / 100;
  const paused = `${file}.paused`;
  setInterval(() => {
    if (existsSync(paused) !== (timer === undefined)) {
      if (timer) (clearTimeout(timer), (timer = undefined), h.disable());
      else ((expected = performance.now() + tickMs), (timer = setTimeout(tick, tickMs).unref()), h.enable());
    }
    // mono: the monotonic clock in µs, the clock of V8's .cpuprofile timestamps (profile.ts cuts the rollout's window with it).
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
    const mem = { rss, heapTotal, heapUsed, external, arrayBuffers, young };
    const line = { at: Date.now(), mono: Number(process.hrtime.bigint() / 1000n), p50: ns(h.percentile(50)), p99: ns(h.percentile(99)), max: ns(h.max), stalls, windows, mem };
    stalls = [];
    windows = [];
    h.reset();
    try {
      appendFileSync(file, JSON.stringify(line) + '\n');
    } catch {
      // the harness removed the directory at its end
    }
  }, 1000).unref();
}
