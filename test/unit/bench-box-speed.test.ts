/** The scale bench's box-speed figure (bench/scale/box-speed.ts): each second's fastest burst, the window's median of them. */
import { describe, expect, it } from 'vitest';
import { BoxSpeed, windowSpeed, type SpeedSample } from '../../bench/scale/box-speed.js';

describe('box speed', () => {
  it("keeps each second's fastest burst (an interrupted one is slower) and gives the window's median of them", () => {
    const samples: SpeedSample[] = [
      [10_000, 9], // before the window
      [11_000, 3.1],
      [11_500, 8.0], // interrupted
      [12_100, 2.9],
      [12_900, 2.8],
      [13_200, 3.5],
      [14_000, 40], // after the window
    ];
    // Seconds 11, 12, 13: fastest 3.1, 2.8, 3.5 → median 3.1.
    expect(windowSpeed(samples, 11_000, 13_999)).toBe(3.1);
    expect(windowSpeed(samples, 12_000, 12_999)).toBe(2.8);
    expect(windowSpeed(samples, 20_000, 30_000)).toBeNaN();
  });

  it('times bursts in a thread of its own', async () => {
    const speed = new BoxSpeed();
    const from = Date.now();
    try {
      while (speed.samples.length < 3) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await speed.stop();
    }
    const us = speed.between(from, Date.now());
    expect(us).toBeGreaterThan(0);
    expect(us).toBeLessThan(1000); // a digest of 1 KiB takes microseconds, not a millisecond
  });
});
