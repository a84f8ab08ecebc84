/**
 * The agent's leases go at QoS 1 (edge-agent/telemetry.ts LEASE_QOS): the broker's PUBACK is the agent's proof the
 * master is alive, so mqtt.js defers its keep-alive PINGREQ on every acknowledgement and a leasing agent sends no
 * pings — at a master with 1,000 nodes each ping and its PINGRESP had cost as much as the lease itself. Against a
 * bare broker (FakeMaster) with a 1 s keep-alive: mqtt.js would ping every second if the leases went unacknowledged.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { METRICS_QOS } from '../../edge-agent/telemetry.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, tempDir, until } from './helpers.js';

describe('edge agent: leases at QoS 1 stand in for keep-alive pings', () => {
  let master: FakeMaster;
  let agent: Agent;
  beforeEach(async () => {
    master = await new FakeMaster().start();
    agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: 'pi-qos', dataDir: tempDir(), address: '127.0.0.1', logger: memoryLogger(), leaseIntervalMs: 200, metricsIntervalMs: 300, keepaliveSeconds: 1, reconnect: { initialMs: 20, maxMs: 50 } });
    await until(() => agent.connected, 'connected');
  });
  afterEach(async () => {
    await agent.stop();
    await master.close();
  });

  it('leases at QoS 1 and sends no PINGREQ over three keep-alive periods while leasing', async () => {
    const from = master.leaseQos.length;
    const pings = master.pings;
    const started = Date.now();
    // Three keep-alives (mqtt.js pings 1 s after the last acknowledgement) with leases every 200–400 ms.
    await until(() => Date.now() - started >= 3_000 && master.leaseQos.length - from >= 6, 'three seconds of leases', 10_000);
    expect(master.leaseQos.slice(from).every((q) => q === 1)).toBe(true);
    expect(master.pings - pings).toBe(0);
    expect(agent.connected).toBe(true);
  });

  it('sends its metrics at QoS 1 too (METRICS_QOS): a metrics message stands in for a lease, and its PUBACK defers the ping as a lease\'s does', async () => {
    await until(() => master.metricsQos.length >= 2, 'two metrics messages', 10_000);
    expect(master.metricsQos.every((q) => q === METRICS_QOS)).toBe(true);
    expect(METRICS_QOS).toBe(1);
  });
});
