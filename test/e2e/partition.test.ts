/**
 * A network partition with real hosts (issue 5): the master in one network namespace, two agents in two
 * others, linked by veth pairs (test/helpers/netns.ts). Cutting one agent's link (`ip link set ... down`)
 * leaves its pods running (same pids) while the master evicts and replaces them on the other agent; when the
 * link heals, the agent converges: the evicted pods stop there, no pod runs twice, and the agent reports its
 * time offline. Needs root and iproute2: fails with a clear message otherwise (CI runs as root).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Api } from '../../cli/types.js';
import type { EventMessage } from '../../protocol/index.js';
import {
  adminOf, alive, apiTo, idleDeployment, listNodes, listPods, processesWith, readyOf, recordedPids, runningReady, startAgentProc, startMasterProc, stopAgentProc, stopProc, waitFor,
} from '../../bench/cluster-selfheal.js';
import { testEngine } from '../helpers/cluster.js';
import { makeNetLab, relayInto, requireNetns, type NetLab } from '../helpers/netns.js';
import { requireBuild } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

describe('e2e: a partitioned agent (network namespaces)', () => {
  let dir: string;
  let lab: NetLab | undefined;
  let relay: Awaited<ReturnType<typeof relayInto>> | undefined;
  let master: ChildProcess | undefined;
  const agents: ChildProcess[] = [];
  let api: Api | undefined;
  const names = ['part-a', 'part-b'];
  const marker = `partition-${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    requireBuild();
    requireNetns();
    dir = await tempDir('skiff-partition-');
    lab = makeNetLab(2);
    master = startMasterProc({ dataDir: join(dir, 'master'), mqttPort: 1883, mqttsPort: 8883, bind: '0.0.0.0', grace: '2s', eviction: '2s', engine: testEngine, prefix: lab.exec(lab.hub) }, join(dir, 'master.log'));
    const { token, joinToken } = await waitFor(() => adminOf(join(dir, 'master')), 'the master config', 20_000, 100);
    relay = await relayInto(lab.hub, 1883, dir);
    api = await waitFor(() => apiTo(`mqtt://127.0.0.1:${relay!.port}`, token, 3000), 'the master API through the relay', 10_000, 100);
    lab.hosts.forEach((h, i) =>
      agents.push(startAgentProc({ master: `mqtts://${h.masterAddress}:8883`, token: joinToken, name: names[i], dataDir: join(dir, names[i]), address: h.address, prefix: lab!.exec(h.ns) }, join(dir, `${names[i]}.log`))),
    );
    await waitFor(async () => (await listNodes(api!)).filter((n) => readyOf(n) === 'True').length === 2, 'two Ready nodes across namespaces', 20_000, 100);
  }, 60_000);

  afterAll(async () => {
    await api?.close().catch(() => undefined);
    await Promise.all(agents.map((a, i) => stopAgentProc(a, join(dir, names[i]))));
    await stopProc(master);
    await relay?.close();
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    lab?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps the cut-off pods running, replaces them elsewhere, and converges without duplicates after healing', async () => {
    await api!.request('apply', { manifest: idleDeployment('island', 4, marker) });
    const pods = await waitFor(async () => {
      const ps = await listPods(api!, 'app=island');
      return ps.length === 4 && ps.every(runningReady) && ps;
    }, '4 running island pods', 30_000);
    const cut = pods.find((p) => p.spec.nodeName === 'part-a') ? 0 : 1;
    const [cutName, otherName] = cut === 0 ? names : [...names].reverse();
    const cutUids = pods.filter((p) => p.spec.nodeName === cutName).map((p) => p.metadata.uid!);
    const cutPids = await waitFor(() => {
      const m = recordedPids(join(dir, cutName));
      return cutUids.every((u) => m.has(u)) && cutUids.map((u) => m.get(u)![0]);
    }, 'pid files of the pods to cut off', 5000);

    lab!.cut(lab!.hosts[cut]);
    const t0 = Date.now();
    const replaced = await waitFor(async () => {
      const ps = await listPods(api!, 'app=island');
      return ps.length === 4 && ps.every((p) => p.spec.nodeName === otherName && runningReady(p)) && ps;
    }, `4 island pods running on ${otherName}`, 20_000, 100);
    console.log(`partition → replacements Running on ${otherName}: ${Date.now() - t0} ms (grace 2 s, toleration 2 s)`);
    expect(replaced.some((p) => cutUids.includes(p.metadata.uid!))).toBe(false);
    const node = (await listNodes(api!)).find((n) => n.metadata.name === cutName);
    expect(readyOf(node)).toBe('Unknown');
    // Offline autonomy: the cut-off board still runs its pods, the very same processes.
    expect(cutPids.every(alive)).toBe(true);
    expect(processesWith(marker)).toHaveLength(4 + cutPids.length);

    // Keep the link down until the agent itself notices (MQTT keep-alive: no PINGRESP within 1.5 × 10 s).
    const agentLog = join(dir, `${cutName}.log`);
    await waitFor(() => readFileSync(agentLog, 'utf8').includes('lost the connection'), 'the agent to notice the partition', 25_000, 200);
    expect(cutPids.every(alive)).toBe(true);

    lab!.heal(lab!.hosts[cut]);
    await waitFor(async () => {
      const n = (await listNodes(api!)).find((x) => x.metadata.name === cutName);
      return readyOf(n) === 'True' && !n?.spec?.taints?.length;
    }, 'the healed node Ready and untainted', 30_000, 200);
    // Converged: the evicted pods stopped on the healed board; every pod runs exactly once.
    await waitFor(() => cutPids.every((p) => !alive(p)), 'the evicted pods stopped on the healed board', 15_000);
    expect(processesWith(marker)).toHaveLength(4);
    const final = await listPods(api!, 'app=island');
    expect(final).toHaveLength(4);
    expect(final.every(runningReady)).toBe(true);
    // The agent reports what happened while it was offline, as an event on its node.
    const events = await waitFor(async () => {
      const d = await api!.request<{ events?: EventMessage[] }>('describe', { kind: 'Node', name: cutName });
      return d.events?.find((e) => e.reason === 'AgentReconnected') && d.events;
    }, 'an AgentReconnected event on the healed node', 10_000, 200);
    const reconnected = events.find((e) => e.reason === 'AgentReconnected')!;
    expect(reconnected.message).toMatch(new RegExp(`^Node ${cutName} was disconnected for \\d+(\\.\\d)? s`));
  }, 120_000);
});
