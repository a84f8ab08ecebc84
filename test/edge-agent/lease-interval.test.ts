/**
 * The agent follows the lease interval the master assigns on `cluster/lease` (protocol/lease.ts): it leases every
 * max(its own --lease-interval, the assigned one), says so in each lease, and ignores a bad value with a line naming
 * the field. Against a bare broker (FakeMaster) playing the master's side.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { encode, topics } from '../../protocol/index.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, tempDir, until } from './helpers.js';

describe('edge agent: the assigned lease interval', () => {
  let master: FakeMaster;
  let agent: Agent;
  let log: ReturnType<typeof memoryLogger>;
  /** Arrival time and message of every lease. */
  let leases: { at: number; intervalMs?: number }[];
  const node = 'pi-lease';
  beforeEach(async () => {
    master = await new FakeMaster().start();
    leases = [];
    master.on('nodeLease', (m: { intervalMs?: number }) => leases.push({ at: Date.now(), intervalMs: m.intervalMs }));
    log = memoryLogger();
    agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir: tempDir(), address: '127.0.0.1', logger: log, leaseIntervalMs: 100, reconnect: { initialMs: 20, maxMs: 50 } });
    await until(() => agent.connected, 'connected');
  });
  afterEach(async () => {
    await agent.stop();
    await master.close();
  });

  /** Gaps between the leases that say `intervalMs`, from the second such lease on (the first follows the switch). */
  const gaps = (intervalMs: number) => {
    const at = leases.filter((l) => l.intervalMs === intervalMs).map((l) => l.at);
    return at.slice(2).map((t, i) => t - at[i + 1]);
  };

  it('leases at its own interval and says so; adopts a longer assigned one, and returns to its own when the assignment shrinks', async () => {
    await until(() => gaps(100).length >= 3, 'leases every 100 ms saying intervalMs 100');
    await master.raw(topics.leaseConfig, encode({ intervalMs: 600 }), true);
    await until(() => gaps(600).length >= 3, 'three gaps between leases saying intervalMs 600', 15_000);
    // Never later than the interval, drawn up to 15 % early (and the agent's pods messages count too: none here).
    for (const g of gaps(600)) expect(g).toBeGreaterThanOrEqual(600 * 0.85 * 0.95 - 20);
    expect(log.lines).toContainEqual(expect.stringMatching(/leasing every 600 ms \(the master assigned 600 ms; --lease-interval 100 ms\)/));
    await master.raw(topics.leaseConfig, encode({ intervalMs: 100 }), true);
    await until(() => gaps(100).length >= 6, 'back to its own 100 ms');
  });

  it('ignores a bad interval with a line naming the field, and keeps leasing at its own', async () => {
    await master.raw(topics.leaseConfig, encode({ intervalMs: '10s' }), true);
    await until(() => log.lines.find((l) => l.includes("ignored the master's lease interval: cluster/lease: intervalMs: must be a whole number of ms from 100 to 300000, got \"10s\"")), 'the refusal naming the field');
    await master.raw(topics.leaseConfig, encode({ intervalMs: 10 ** 9 }), true);
    await until(() => log.lines.find((l) => l.includes('intervalMs: must be a whole number of ms from 100 to 300000, got 1000000000')), 'the refusal of an out-of-bounds value');
    const n = leases.length;
    await until(() => leases.length >= n + 3, 'three more leases');
    expect(leases.slice(n).every((l) => l.intervalMs === 100)).toBe(true);
    expect(agent.connected).toBe(true);
  });
});
