/**
 * How many helper threads the master's V8 gets (protocol/v8-pool.ts), table by table: CPUs − 1, at least one,
 * nothing to say from Node's default (4) on, and a pool size given on node's command line or in NODE_OPTIONS wins.
 */
import { describe, expect, it } from 'vitest';
import { hasV8PoolFlag, v8PoolFlag, v8PoolSize } from '../../protocol/index.js';

describe('the V8 pool of the master', () => {
  it.each([
    [1, 1],
    [2, 1],
    [3, 2],
    [4, 3],
    [5, undefined],
    [64, undefined],
    [0, 1], // a machine that reports nothing still gets one helper
  ])('%i CPUs → %s', (cpus, size) => {
    expect(v8PoolSize(cpus)).toBe(size);
    expect(v8PoolFlag(cpus)).toBe(size === undefined ? undefined : `--v8-pool-size=${size}`);
  });

  it.each([
    [['--v8-pool-size=8'], '', true],
    [['--v8-pool-size', '8'], '', true],
    [['--v8_pool_size=2'], '', true],
    [[], '--max-old-space-size=512 --v8-pool-size=3', true],
    [['--v8-pool-sizes=2'], '', false],
    [['--heap-growing-percent=100'], '--trace-gc', false],
  ])('execArgv %j, NODE_OPTIONS %j: given %s', (execArgv, nodeOptions, given) => {
    expect(hasV8PoolFlag(execArgv, nodeOptions)).toBe(given);
    expect(v8PoolFlag(2, execArgv, nodeOptions)).toBe(given ? undefined : '--v8-pool-size=1');
  });
});
