import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'skiff-iterations-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A .cpuprofile of the given samples (1 ms apart), each named by its stack's root and project function. */
function profile(samples: ('check' | 'ticks' | 'gc' | 'idle' | 'timers')[]): void {
  const frame = (functionName: string, url = '') => ({ functionName, url, lineNumber: 0, columnNumber: 0, scriptId: '0' });
  const nodes = [
    { id: 1, callFrame: frame('(root)'), children: [2, 4, 6, 7, 8] },
    { id: 2, callFrame: frame('processImmediate', 'node:internal/timers'), children: [3] },
    { id: 3, callFrame: frame('flush', 'file:///repo/dist/master/store/watch-hub.js') },
    { id: 4, callFrame: frame('processTicksAndRejections', 'node:internal/process/task_queues'), children: [5] },
    { id: 5, callFrame: frame('parse', 'file:///repo/dist/master/broker/frame-guard.js') },
    { id: 6, callFrame: frame('(garbage collector)') },
    { id: 7, callFrame: frame('(idle)') },
    { id: 8, callFrame: frame('processTimers', 'node:internal/timers') },
  ];
  const id = { check: 3, ticks: 5, gc: 6, idle: 7, timers: 8 };
  mkdirSync(join(dir, 'profile'), { recursive: true });
  const p = { nodes, startTime: 0, endTime: samples.length * 1000, samples: samples.map((s) => id[s]), timeDeltas: samples.map(() => 1000) };
  writeFileSync(join(dir, 'profile', 'CPU.test.cpuprofile'), JSON.stringify(p));
}

describe('bench/loop-iterations: a profile cut into loop iterations', () => {
  it('an iteration runs from one check phase to the next; GC counts in the phase it interrupts; the last, unended, is left out', () => {
    // Iteration 1: check 4 ms (a GC of 1 ms in it), reads 2, GC 1 → 8 ms. Iteration 2: check 3, timers 1, idle 2 → 6 ms.
    // Iteration 3: check 2, then the profile ends — no end, not counted.
    profile(['check', 'check', 'gc', 'check', 'check', 'ticks', 'ticks', 'gc', 'check', 'check', 'check', 'timers', 'idle', 'idle', 'check', 'check']);
    const out = execFileSync(process.execPath, [join(root, 'dist', 'bench', 'loop-iterations.js'), dir], { encoding: 'utf8' });
    expect(out).toContain('2 iterations in 14.0 ms: length p50 8.0, p90 8.0, p99 8.0, max 8.0 ms');
    expect(out).toContain('weighted by time (what a request arriving at random waits in): p50 8.0, p90 8.0, p99 8.0 ms');
    expect(out).toMatch(/check phase \(GC in it included\)\s+p50\s+5\.0\s+p90\s+5\.0/);
    expect(out).toMatch(/socket reads \(poll \+ their ticks\)\s+p50\s+2\.0/);
    expect(out).toMatch(/all iterations: 2 \(100 %\), mean 7\.0 ms/);
    expect(out).toMatch(/3\.50\s+check flush master\/store\/watch-hub\.js:1/);
    expect(out).not.toContain('iterations of 15 ms or more'); // none that long
  });

  it('reads only the window given (seconds of the profile), and refuses a window that is not a number', () => {
    profile(['check', 'check', 'gc', 'check', 'check', 'ticks', 'ticks', 'gc', 'check', 'check', 'check', 'timers', 'idle', 'idle', 'check', 'check']);
    // From 8.5 ms: the first iteration is cut off; the second (6 ms) is whole; the third has no end.
    const out = execFileSync(process.execPath, [join(root, 'dist', 'bench', 'loop-iterations.js'), dir, '0.0085', '1'], { encoding: 'utf8' });
    expect(out).toContain('1 iterations in 6.0 ms: length p50 6.0');
    expect(() => execFileSync(process.execPath, [join(root, 'dist', 'bench', 'loop-iterations.js'), dir, 'abc', '1'], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/FROM_S must be a number of seconds/);
  });

  it('says so when the window holds no whole iteration', () => {
    profile(['ticks', 'ticks', 'check']);
    expect(() => execFileSync(process.execPath, [join(root, 'dist', 'bench', 'loop-iterations.js'), dir], { encoding: 'utf8', stdio: 'pipe' })).toThrow(/no whole iteration/);
  });
});
