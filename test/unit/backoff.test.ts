/**
 * The agent's reconnect back-off (edge-agent/session.ts backoffDelay): full jitter, uniform in
 * [0, min(cap, initial × 2^attempt)], and what it means for a fleet whose master was down for a while.
 */
import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../edge-agent/session.js';
import { resolveOptions } from '../../edge-agent/config.js';

/** A small seeded PRNG (mulberry32), so the fleet simulation is the same on every run. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('backoffDelay (full jitter)', () => {
  it('spans [0, ceiling] where the ceiling doubles from initial up to the cap', () => {
    expect([0, 1, 2, 3, 4, 10, 100].map((a) => backoffDelay(a, 500, 5000, () => 0))).toEqual([0, 0, 0, 0, 0, 0, 0]);
    const top = () => 0.999999;
    expect([0, 1, 2, 3, 4, 10, 100].map((a) => backoffDelay(a, 500, 5000, top))).toEqual([500, 1000, 2000, 4000, 5000, 5000, 5000]);
    expect(backoffDelay(2, 500, 5000, () => 0.5)).toBe(1000);
  });

  it('defaults to 500 ms doubling to a 5 s cap', () => {
    const cfg = resolveOptions({ master: 'mqtt://127.0.0.1:1', name: 'n', dataDir: '/tmp/x', address: '127.0.0.1', logger: { debug() {}, info() {}, warn() {}, error() {} } });
    expect(cfg.reconnect).toEqual({ initialMs: 500, maxMs: 5000 });
  });

  it('brings 500 agents back within the cap once the master returns, spread over the window', () => {
    // Every agent lost the master at t=0; the master answers again at t=30 s. Each agent retries on its
    // own back-off schedule; it is back at its first attempt after 30 s.
    const random = seeded(42);
    const downMs = 30_000;
    const waits: number[] = [];
    for (let i = 0; i < 500; i++) {
      let t = 0;
      for (let attempt = 0; t < downMs; attempt++) t += backoffDelay(attempt, 500, 5000, random);
      waits.push(t - downMs);
    }
    const sorted = [...waits].sort((a, b) => a - b);
    expect(sorted[sorted.length - 1]).toBeLessThanOrEqual(5000);
    const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
    expect(mean).toBeGreaterThan(1000); // spread, not a stampede at t=30 s …
    expect(mean).toBeLessThan(2500); // … and about cap/3 on average
    // No 250 ms slice takes more than 15 % of the fleet: the wait (a residual life) has density 2(1 − w/cap)/cap,
    // so the first slice gets about twice the uniform 1/20 (≈ 50 agents), the last almost none.
    const slices = new Map<number, number>();
    for (const w of waits) slices.set(Math.floor(w / 250), (slices.get(Math.floor(w / 250)) ?? 0) + 1);
    expect(Math.max(...slices.values())).toBeLessThan(75);
  });
});
