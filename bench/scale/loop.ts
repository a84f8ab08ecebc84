/**
 * The master's event-loop delay during a window, from the lines loop-probe.ts appended (one a second): the
 * worst and the median second's p99, the longest stall, and every stall over 20 ms — how long an API request
 * could have waited behind whatever task held the master's one thread.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pct } from './stats.js';

/** One second of the probe. */
interface LoopLine {
  at: number;
  mono: number;
  p50: number;
  p99: number;
  max: number;
  stalls: number[];
  /** The master's memory at that second (loop-probe.ts; absent in lines of older probes). */
  mem?: MemLine;
}

/** What the master's memory was made of at one second, bytes: process.memoryUsage() and the young generation's size. */
export interface MemLine {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  /** V8's new space, committed (the young generation's semi-spaces): part of heapTotal. */
  young: number;
}

/** The loop's delay over a window, ms. */
export interface LoopSummary {
  seconds: number;
  /** Median and worst per-second p99 of the loop delay. */
  p99Median: number;
  p99Worst: number;
  /** Stalls over 20 ms: how many, their sum, the longest. */
  stalls: number;
  stalledMs: number;
  longestMs: number;
}

function readLines(file: string): LoopLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LoopLine);
}

/** The master's monotonic clock (µs, as in its .cpuprofile) at wall time `wallMs`, from the probe line nearest to it. */
export function monoAt(file: string, wallMs: number): number | undefined {
  let best: LoopLine | undefined;
  for (const l of readLines(file)) if (!best || Math.abs(l.at - wallMs) < Math.abs(best.at - wallMs)) best = l;
  return best && best.mono + (wallMs - best.at) * 1000;
}

/** Summarises the probe's lines with `from ≤ at ≤ to` (epoch ms); undefined without a probe file. */
export function loopSummary(file: string, from: number, to: number): LoopSummary | undefined {
  const lines = readLines(file).filter((l) => l.at >= from && l.at <= to + 1000);
  if (lines.length === 0) return undefined;
  const stalls = lines.flatMap((l) => l.stalls);
  return {
    seconds: lines.length,
    p99Median: pct(lines.map((l) => l.p99), 50),
    p99Worst: Math.max(...lines.map((l) => l.p99)),
    stalls: stalls.length,
    stalledMs: stalls.reduce((a, b) => a + b, 0),
    longestMs: Math.max(0, ...lines.map((l) => l.max)),
  };
}

/** The probe's second with the highest RSS (the master's peak as the probe saw it), or undefined without memory lines. */
export function memAtPeak(file: string): MemLine | undefined {
  let best: MemLine | undefined;
  for (const l of readLines(file)) if (l.mem && (!best || l.mem.rss > best.rss)) best = l.mem;
  return best;
}

/**
 * A peak second's memory as one table cell, MB (of 1024 × 1024 bytes, as the bench's other RSS rows): the V8 heap
 * (used, and the young generation in it), memory outside it that V8 knows of (Buffers' and typed arrays' bytes in it),
 * and the rest of the RSS — code, thread stacks, OpenSSL's and SQLite's own allocations, Node's TLS buffers, the
 * allocator's free lists — as what remains.
 */
export function formatMem(m: MemLine | undefined): string {
  if (!m) return '—';
  const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
  const other = m.rss - m.heapTotal - m.external;
  return `RSS ${mb(m.rss)} = heap ${mb(m.heapTotal)} (used ${mb(m.heapUsed)}, young ${mb(m.young)}) + external ${mb(m.external)} (buffers ${mb(m.arrayBuffers)}) + other ${mb(other)}`;
}

/** The summary as one table cell. */
export function formatLoop(s: LoopSummary | undefined): string {
  if (!s) return '—';
  return `p99 ${s.p99Median.toFixed(0)} ms (worst s ${s.p99Worst.toFixed(0)}), longest ${s.longestMs.toFixed(0)} ms, ${s.stalls} stalls > 20 ms (${(s.stalledMs / 1000).toFixed(1)} s)`;
}

/**
 * Pauses (or resumes) the probe in the master (loop-probe.ts): its two 10 ms timers cost ~1 % of a core, which is the
 * harness's, not the master's; the idle windows are measured without them. It takes effect within a second.
 */
export function pauseLoopProbe(file: string, paused: boolean): void {
  if (paused) writeFileSync(`${file}.paused`, '');
  else rmSync(`${file}.paused`, { force: true });
}
