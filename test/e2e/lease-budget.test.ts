/**
 * The lease budget end to end, with real processes: a `skiff master` with a tiny budget assigns a longer lease
 * interval than a real `skiff-agent` process asks for; the agent adopts it and says so in its leases (seen by an
 * administrator watching lease topics, which also sends leases back through the broker's queue); a silent agent
 * (SIGSTOP: its connection stays open, nothing is sent) turns NotReady only after the grace scaled to that interval,
 * not after --node-monitor-grace. An older agent, which never reads the interval (the bench's simulated agent with a
 * fixed lease), stays Ready all along at its own 500 ms.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { decode, readyCondition, topics, type Node } from '../../protocol/index.js';
import { startSimAgent, type SimAgent } from '../../bench/scale/sim-agent.js';
import { startMasterProcess, type MasterProcess } from '../helpers/master-process.js';
import { agentBin, startProcess, stopProcess } from '../helpers/procs.js';
import { eventually, tempDir } from '../helpers/wait.js';

describe('e2e: the lease interval a master assigns', () => {
  let dir: string;
  let master: MasterProcess;
  let agent: ChildProcess | undefined;
  let old: SimAgent | undefined;
  let watcher: MqttClient | undefined;
  const node = async (name: string) => (await master.api.request<Node>('get', { kind: 'Node', name }).catch(() => undefined)) as Node | undefined;
  const readyOf = async (name: string) => readyCondition(await node(name));

  beforeAll(async () => {
    dir = await tempDir('skiff-lease-');
    // 2 leases/s for the fleet: two nodes → 1 s (whole seconds); grace: 5 × 1 s = 5 s, against the monitor's 2 s.
    master = await startMasterProcess(join(dir, 'master'), ['--max-leases-per-second', '2', '--lease-interval-min', '500ms', '--lease-interval-max', '3s', '--node-monitor-grace', '2s'], join(dir, 'master.log'));
    old = await startSimAgent({ url: master.url, joinToken: master.joinToken, name: 'old-agent', dataDir: join(dir, 'old-agent'), leaseIntervalMs: 500, fixedLease: true });
    agent = startProcess([agentBin, 'join', '--master', master.url, '--token', master.joinToken, '--name', 'new-agent', '--data-dir', join(dir, 'new-agent'), '--address', '127.0.0.1', '--lease-interval', '500ms', '--container-endpoint', 'none'], join(dir, 'new-agent.log'));
    await eventually(async () => (await readyOf('new-agent'))?.status === 'True' && (await readyOf('old-agent'))?.status === 'True', 'both nodes Ready', 60_000, 200);
  }, 90_000);

  afterAll(async () => {
    agent?.kill('SIGCONT');
    await watcher?.endAsync().catch(() => undefined);
    await old?.stop();
    if (agent) await stopProcess(agent);
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the agent adopts the assigned interval; silent, it turns NotReady after the scaled grace; the old agent stays Ready', async () => {
    const agentLog = () => (existsSync(join(dir, 'new-agent.log')) ? readFileSync(join(dir, 'new-agent.log'), 'utf8') : '');
    await eventually(() => /leasing every 1000 ms \(the master assigned 1000 ms; --lease-interval 500 ms\)/.test(agentLog()), 'the agent adopting 1 s', 15_000);
    expect(master.log()).toMatch(/lease interval assigned intervalMs=1000 /);

    // Watching lease topics sends leases through the broker's queue again (fast-lease.ts): they arrive, and say 1 s.
    watcher = await master.connect('admin', master.adminToken, 'lease-watcher');
    const seen: { at: number; intervalMs?: number }[] = [];
    watcher.on('message', (topic, payload) => topic === topics.nodeLease('new-agent') && seen.push({ at: Date.now(), ...(decode(payload).value as { intervalMs?: number }) }));
    await watcher.subscribeAsync(topics.nodeLease('+'), { qos: 0 });
    await eventually(() => seen.length >= 3, 'three leases of the new agent', 15_000);
    expect(seen.every((l) => l.intervalMs === 1000)).toBe(true);
    const gaps = seen.slice(1).map((l, i) => l.at - seen[i].at);
    expect(Math.max(...gaps)).toBeGreaterThan(700); // its own 500 ms would never leave such a gap
    await watcher.unsubscribeAsync(topics.nodeLease('+'));

    const oldSince = (await readyOf('old-agent'))?.lastTransitionTime;
    agent!.kill('SIGSTOP');
    const stopped = Date.now();
    // Ready throughout --node-monitor-grace (2 s) plus a lease interval: a fixed grace would have marked it by then.
    while (Date.now() - stopped < 3_500) {
      expect((await readyOf('new-agent'))?.status).toBe('True');
      await new Promise((r) => setTimeout(r, 100));
    }
    const unknown = await eventually(async () => {
      const c = await readyOf('new-agent');
      return c?.status === 'Unknown' && c;
    }, 'the silent agent NotReady', 15_000, 100);
    const took = Date.now() - stopped;
    expect(took).toBeGreaterThanOrEqual(3_500);
    expect(took).toBeLessThan(9_000); // 5 s after its last lease, plus the second-by-second check
    expect(unknown.message).toMatch(/grace 5s for its lease interval/);
    // The old agent never read the interval: it kept leasing every 500 ms against the 2 s grace, Ready throughout.
    expect(await readyOf('old-agent')).toMatchObject({ status: 'True', lastTransitionTime: oldSince });
    agent!.kill('SIGCONT');
    await eventually(async () => (await readyOf('new-agent'))?.status === 'True', 'Ready again once it leases', 15_000, 100);
  }, 60_000);
});
