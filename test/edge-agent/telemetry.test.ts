/** Leases, metrics, the node status with its Will and its balancer engine, and the graceful offline status. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import type { MetricsMessage } from '../../protocol/messages.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, sh, tempDir, until } from './helpers.js';

describe('edge agent: leases, metrics, status', () => {
  let master: FakeMaster;
  let agent: Agent;
  const node = 'pi-tele';
  beforeEach(async () => {
    master = await new FakeMaster().start();
    agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir: tempDir(), address: '127.0.0.1', labels: { zone: 'attic' }, logger: memoryLogger(), leaseIntervalMs: 100, metricsIntervalMs: 300, reconnect: { initialMs: 20, maxMs: 50 } });
    await until(() => agent.connected, 'connected');
  });
  afterEach(async () => {
    await agent.stop();
    await master.close();
  });

  it('sends leases with the applied generation and metrics with per-pod cpu and memory', async () => {
    const busy = podWith('busy', sh('while true; do :; done'));
    await master.desire(node, { generation: 9, pods: [busy] });
    await until(() => master.leases.some((l) => l.generation === 9), 'a lease carrying generation 9');
    const m = await until(() => {
      const last = master.metrics.at(-1) as MetricsMessage | undefined;
      const p = last?.pods.find((x) => x.uid === busy.metadata.uid);
      return p && p.cpuMilli > 100 && p.memoryBytes > 0 && last;
    }, 'metrics showing the busy pod burning cpu');
    // Deltas leave the node sample out when it did not move: the latest one sent says the node is busy.
    const sample = (master.metrics as unknown as MetricsMessage[]).filter((x) => x.node).at(-1)!.node!;
    expect(sample.memoryBytes).toBeGreaterThan(0);
    expect(sample.cpuMilli).toBeGreaterThan(0);
    const p = m.pods.find((x) => x.uid === busy.metadata.uid)!;
    expect(p).toMatchObject({ namespace: 'default', name: 'busy' });
    expect(p.cpuMilli).toBeLessThan(1500); // one shell loop is at most about one core
  });

  it('publishes its status with labels, its Will marks it offline when the link dies, and it comes back online', async () => {
    const online = master.statuses.at(-1) as any;
    expect(online.labels).toMatchObject({ zone: 'attic', 'kubernetes.io/hostname': node });
    expect(online.conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
    const n = master.statuses.length;
    master.kick(`skiff-agent-${node}`);
    await until(() => master.statuses.slice(n).some((s) => s.online === false), 'the Will (online: false)');
    await until(() => master.statuses.slice(n).some((s) => s.online === true) && agent.connected, 'back online after reconnecting');
  });

  it('reports the balancer engine: the WasmBalancer condition is True and the metrics say wasm', async () => {
    // The default proxy asks for wasm: a silent fallback to the TS twin would fail here.
    expect(agent.balancer).toEqual({ impl: 'wasm' });
    const status = master.statuses.at(-1) as any;
    expect(status.conditions.find((c: any) => c.type === 'WasmBalancer')).toMatchObject({ status: 'True', reason: 'WasmLoaded' });
    const m = await until(() => master.metrics.at(-1) as MetricsMessage | undefined, 'a metrics message');
    expect(m.balancer).toBe('wasm');
  });

  it('a graceful stop publishes online: false itself', async () => {
    const n = master.statuses.length;
    await agent.stop();
    expect(master.statuses.slice(n)).toContainEqual(expect.objectContaining({ node, online: false }));
  });
});
