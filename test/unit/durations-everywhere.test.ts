/** One duration rule (protocol/duration.ts) behind every flag that takes one: master, agent and CLI agree. */
import { describe, expect, it } from 'vitest';
import { parseMasterArgs } from '../../master/main.js';
import { parseArgs as parseAgentArgs } from '../../edge-agent/main.js';
import { resolveConnection } from '../../cli/config.js';

const master = (v: string) => (parseMasterArgs([`--node-monitor-grace=${v}`]) as { nodeMonitorGraceMs?: number }).nodeMonitorGraceMs;
const agent = (v: string) => (parseAgentArgs(['join', `--lease-interval=${v}`]) as { options: { leaseIntervalMs?: number } }).options.leaseIntervalMs;
const cli = (v: string) => resolveConnection({ server: 'mqtt://127.0.0.1:1883', 'request-timeout': v }, { HOME: '/nonexistent-skiff-home' }).timeoutMs;

describe('durations on every command line', () => {
  it.each([
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['300ms', 300],
    ['2m3s', 123_000],
    ['10', 10_000],
  ])('%s is %i ms for skiff master, skiff-agent and skiff', (v, ms) => {
    expect(master(v)).toBe(ms);
    expect(agent(v)).toBe(ms);
    expect(cli(v)).toBe(ms);
  });

  it.each(['1h30', 'ten', '-1s'])('%s is refused by all three, naming the flag', (v) => {
    expect(() => master(v)).toThrow(/--node-monitor-grace: must be a duration/);
    expect(() => agent(v)).toThrow(/--lease-interval must be a duration/);
    expect(() => cli(v)).toThrow(/--request-timeout: must be a duration/);
  });
});
