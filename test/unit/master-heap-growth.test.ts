/**
 * `skiff master` pins V8's old-generation growth (master/main.ts heapGrowingPercent) unless node was started with
 * its own --heap-growing-percent on its command line (node refuses the flag in NODE_OPTIONS).
 */
import { describe, expect, it } from 'vitest';
import { heapGrowingPercent, heapGrowthFlag } from '../../master/main.js';

describe('the master’s heap growth flag', () => {
  it('is set when node was given none', () => {
    expect(heapGrowthFlag([])).toBe(`--heap-growing-percent=${heapGrowingPercent}`);
    expect(heapGrowthFlag(['--enable-source-maps', '--max-old-space-size=2048'])).toBe(`--heap-growing-percent=${heapGrowingPercent}`);
    expect(heapGrowingPercent).toBeGreaterThan(0);
  });

  it('is left to the operator who gave one', () => {
    expect(heapGrowthFlag(['--heap-growing-percent=150'])).toBeUndefined();
    expect(heapGrowthFlag(['--heap_growing_percent=150'])).toBeUndefined();
    expect(heapGrowthFlag(['--max-old-space-size=2048', '--heap-growing-percent=20'])).toBeUndefined();
    expect(heapGrowthFlag(['--heap-growing-percentage-of-nothing'])).toBe(`--heap-growing-percent=${heapGrowingPercent}`);
  });
});
