/** The scale bench's /proc readings (bench/scale/procfs.ts) and its event-loop probe's pause (bench/scale/loop.ts), on this process. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatMem, memAtPeak, pauseLoopProbe, type MemLine } from '../../bench/scale/loop.js';
import { requireBuild, root } from '../helpers/procs.js';
import { boxShare, cpuShare, machineBusy, machineSteal, runQueueSeconds, runWaitShare, sampleProc, stealShare, type ProcSample } from '../../bench/scale/procfs.js';

describe('procfs', () => {
  it.runIf(process.platform === 'linux')('reads the main thread apart from the whole process', () => {
    const s = sampleProc(process.pid)!;
    expect(s.cpuSeconds).toBeGreaterThan(0);
    expect(s.mainCpuSeconds).toBeGreaterThan(0);
    expect(s.mainCpuSeconds).toBeLessThanOrEqual(s.cpuSeconds);
  });

  it('gives the share of a core of all threads or of the main thread alone', () => {
    const a: ProcSample = { at: 0, cpuSeconds: 10, mainCpuSeconds: 8, rssBytes: 0, writeBytes: 0 };
    const b: ProcSample = { at: 50_000, cpuSeconds: 13, mainCpuSeconds: 9, rssBytes: 0, writeBytes: 0 };
    expect(cpuShare(a, b)).toBeCloseTo(0.06);
    expect(cpuShare(a, b, 'main')).toBeCloseTo(0.02);
    expect(cpuShare(a, a)).toBe(0);
  });

  it("reads the machine's steal from /proc/stat's cpu line, and its share of a CPU between two readings", () => {
    expect(machineSteal('cpu  1279052 110 236692 1857447 7186 0 14534 91008 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n')).toBeCloseTo(910.08);
    expect(machineSteal('cpu  1 2 3 4\n')).toBeNaN(); // an old kernel without the column
    expect(machineSteal('intr 1 2 3 4 5 6 7 8 9\n')).toBeNaN();
    const a: ProcSample = { at: 0, cpuSeconds: 0, mainCpuSeconds: 0, rssBytes: 0, writeBytes: 0, stealSeconds: 100 };
    const b: ProcSample = { ...a, at: 20_000, stealSeconds: 106 };
    expect(stealShare(a, b)).toBeCloseTo(0.3);
    expect(stealShare(a, { ...b, stealSeconds: undefined })).toBeNaN();
  });

  it.runIf(process.platform === 'linux')('samples the steal with the process', () => {
    expect(sampleProc(process.pid)!.stealSeconds).toBeGreaterThanOrEqual(0);
  });

  it("reads the machine's busy time (user nice system irq softirq, not idle, iowait or steal) and the shares between two readings", () => {
    expect(machineBusy('cpu  1000 10 200 5000 70 3 7 900 0 0\n')).toBeCloseTo(12.2);
    expect(machineBusy('cpu  1 2 3 4\n')).toBeNaN();
    expect(machineBusy('')).toBeNaN();
    const a: ProcSample = { at: 0, cpuSeconds: 0, mainCpuSeconds: 0, rssBytes: 0, writeBytes: 0, busySeconds: 50, harnessCpuSeconds: 4 };
    const b: ProcSample = { ...a, at: 10_000, busySeconds: 66, harnessCpuSeconds: 8.5 };
    expect(boxShare(a, b, 'busy')).toBeCloseTo(1.6);
    expect(boxShare(a, b, 'harness')).toBeCloseTo(0.45);
    expect(boxShare(a, { ...b, busySeconds: undefined }, 'busy')).toBeNaN();
    expect(boxShare(a, a, 'busy')).toBeNaN();
  });

  it("reads a thread's run-queue wait from its schedstat line, and its share of the wall time between two readings", () => {
    expect(runQueueSeconds('451367252 146372453 1005\n')).toBeCloseTo(0.146372453);
    expect(runQueueSeconds('451367252\n')).toBeNaN();
    expect(runQueueSeconds('')).toBeNaN();
    const a: ProcSample = { at: 0, cpuSeconds: 0, mainCpuSeconds: 0, rssBytes: 0, writeBytes: 0, mainRunWaitSeconds: 2 };
    const b: ProcSample = { ...a, at: 10_000, mainRunWaitSeconds: 3.5 };
    expect(runWaitShare(a, b)).toBeCloseTo(0.15);
    expect(runWaitShare(a, { ...b, mainRunWaitSeconds: undefined })).toBeNaN();
  });

  it.runIf(process.platform === 'linux')("samples the machine's busy time and this process's CPU with the process", () => {
    const s = sampleProc(process.pid)!;
    expect(s.busySeconds).toBeGreaterThan(0);
    expect(s.harnessCpuSeconds).toBeGreaterThan(0);
    if (existsSync(`/proc/${process.pid}/schedstat`)) expect(s.mainRunWaitSeconds).toBeGreaterThanOrEqual(0); // a kernel with schedstat
  });
});

describe('the loop probe pause', () => {
  it('is a file beside the probe’s lines, there while paused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-loop-'));
    try {
      const file = join(dir, 'loop.jsonl');
      pauseLoopProbe(file, true);
      expect(existsSync(`${file}.paused`)).toBe(true);
      pauseLoopProbe(file, false);
      pauseLoopProbe(file, false); // resuming twice is harmless
      expect(existsSync(`${file}.paused`)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the master's memory at its peak second", () => {
  const mem = (rss: number, heapTotal = 0, heapUsed = 0, external = 0, arrayBuffers = 0, young = 0): MemLine => ({ rss, heapTotal, heapUsed, external, arrayBuffers, young });
  const line = (at: number, m?: MemLine) => JSON.stringify({ at, mono: at * 1000, p50: 10, p99: 11, max: 12, stalls: [], windows: [], ...(m ? { mem: m } : {}) });

  it('is the probe line with the highest RSS; lines without memory (older probes) are passed over', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-loop-'));
    try {
      const file = join(dir, 'loop.jsonl');
      expect(memAtPeak(file)).toBeUndefined(); // no probe file
      writeFileSync(file, [line(1), line(2)].join('\n') + '\n');
      expect(memAtPeak(file)).toBeUndefined();
      writeFileSync(file, [line(1, mem(300e6)), line(2), line(3, mem(480e6, 290e6)), line(4, mem(470e6))].join('\n') + '\n');
      expect(memAtPeak(file)).toEqual(mem(480e6, 290e6));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is one cell in MB: the heap (used, young), external (buffers) and the rest of the RSS', () => {
    expect(formatMem(undefined)).toBe('—');
    const M = 1024 * 1024;
    expect(formatMem(mem(483 * M, 300 * M, 200 * M, 26 * M, 20 * M, 16 * M))).toBe('RSS 483 = heap 300 (used 200, young 16) + external 26 (buffers 20) + other 157');
  });

  it('is what the probe writes each second in a real process', () => {
    requireBuild();
    const dir = mkdtempSync(join(tmpdir(), 'skiff-loop-'));
    try {
      const file = join(dir, 'loop.jsonl');
      const probe = join(root, 'dist', 'bench', 'scale', 'loop-probe.js');
      execFileSync(process.execPath, ['--import', probe, '-e', 'globalThis.keep = Buffer.alloc(8e6, 1); setTimeout(() => {}, 2300)'], { env: { ...process.env, SKIFF_BENCH_LOOP_FILE: file } });
      const m = memAtPeak(file)!;
      expect(readFileSync(file, 'utf8').trim().split('\n').length).toBeGreaterThanOrEqual(2);
      expect(m.rss).toBeGreaterThan(m.heapUsed);
      expect(m.heapUsed).toBeLessThanOrEqual(m.heapTotal);
      expect(m.young).toBeGreaterThan(0);
      expect(m.young).toBeLessThan(m.heapTotal);
      expect(m.arrayBuffers).toBeGreaterThanOrEqual(8e6); // the 8 MB Buffer the process holds
      expect(m.external).toBeGreaterThanOrEqual(m.arrayBuffers);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
