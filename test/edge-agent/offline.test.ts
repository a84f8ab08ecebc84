/** Offline autonomy: the desired-set cache, restarts with the master away (adoption of running pods: adoption.test.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { decode } from '../../protocol/codec.js';
import { FakeMaster, JOIN_TOKEN, alive, memoryLogger, podWith, readText, sh, tempDir, until } from './helpers.js';

describe('edge agent: offline autonomy', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  const track = (a: Agent) => {
    cleanups.push(() => a.stop());
    return a;
  };

  /** A master, an agent running one pod that writes its pid to DATA/pid; returns them. */
  async function runningPod(node: string) {
    const master = await new FakeMaster().start();
    cleanups.push(() => master.close());
    const dataDir = tempDir();
    const pidFile = path.join(dataDir, 'pid');
    const agent = track(await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir, address: '127.0.0.1', logger: memoryLogger() }));
    await until(() => agent.connected, 'connected');
    const pod = podWith('keeper', sh(`echo $$ > ${pidFile}; exec sleep 1000`));
    await master.desire(node, { generation: 4, pods: [pod] });
    const pid = Number(await until(() => readText(pidFile), 'pod pid'));
    await until(() => agent.generation === 4, 'generation applied');
    return { master, agent, dataDir, pidFile, pid, pod };
  }

  it('caches the desired set atomically and restarts its pods from the cache with the master down', async () => {
    const { master, agent, dataDir, pidFile, pid, pod } = await runningPod('pi-off');
    // The cache is written after the pods started (queued, not awaited by the start).
    const cacheFile = path.join(dataDir, 'desired.msgpack');
    await until(() => fs.existsSync(cacheFile) && decode<any>(fs.readFileSync(cacheFile)).value.generation === 4, 'desired set cached');
    const cached = decode<any>(fs.readFileSync(cacheFile)).value;
    expect(cached.generation).toBe(4);
    expect(cached.pods[0].metadata.uid).toBe(pod.metadata.uid);
    expect(fs.readdirSync(dataDir).filter((f) => f.includes('.tmp'))).toEqual([]);

    await agent.stop({ stopPods: true });
    expect(alive(pid)).toBe(false);
    const port = master.port;
    const creds = new Map(master.credentials);
    await master.close();
    fs.rmSync(pidFile);

    // The board reboots while the master is away: the pod comes back from the cache alone.
    const logger = memoryLogger();
    const again = track(await startAgent({ master: `mqtt://127.0.0.1:${port}`, name: 'pi-off', dataDir, address: '127.0.0.1', logger, reconnect: { initialMs: 50, maxMs: 200 } }));
    const pid2 = Number(await until(() => readText(pidFile), 'pod restarted from the cache'));
    expect(pid2).not.toBe(pid);
    expect(alive(pid2)).toBe(true);
    expect(again.connected).toBe(false);
    expect(again.generation).toBe(4);
    expect(again.podReports()[0]).toMatchObject({ uid: pod.metadata.uid, status: { phase: 'Running' } });

    // The master comes back on the same port: the agent reconnects with its credential and reports in full.
    const back = new FakeMaster();
    for (const [k, v] of creds) back.credentials.set(k, v);
    await back.start(port);
    cleanups.push(() => back.close());
    await until(() => again.connected, 'reconnected with the credential', 15_000);
    const full = await until(() => back.podsMessages.find((m) => m.full), 'a full pods report');
    expect(full.pods.map((p) => p.uid)).toEqual([pod.metadata.uid]);
    expect(full.generation).toBe(4);
    expect(back.auths.filter((a) => a.clientId.startsWith('skiff-join-'))).toEqual([]);
  });

  it('a board that comes back with the master reachable runs the master set, never a cached pod evicted meanwhile', async () => {
    const { master, agent, dataDir, pidFile, pod } = await runningPod('pi-back');
    await agent.stop({ stopPods: true });
    fs.rmSync(pidFile);
    // While the board was away its pod was evicted (and replaced elsewhere); the master gave it another one.
    const newFile = path.join(dataDir, 'newcomer');
    const newcomer = podWith('newcomer', sh(`echo $$ > ${newFile}; exec sleep 1000`));
    await master.desire('pi-back', { generation: 6, pods: [newcomer] });
    const seen = master.podsMessages.length;
    const logger = memoryLogger();
    const again = track(await startAgent({ master: master.url, name: 'pi-back', dataDir, address: '127.0.0.1', logger }));
    expect(again.generation).toBe(6); // startAgent resolves once the master's set is applied
    await until(() => readText(newFile), 'the new pod running');
    expect(fs.existsSync(pidFile)).toBe(false); // the cached pod never started, not even for a moment
    expect(master.podsMessages.slice(seen).flatMap((m) => m.pods.map((p) => p.uid))).not.toContain(pod.metadata.uid);
    expect(logger.lines.some((l) => l.includes('cached generation 4 not used'))).toBe(true);
  });

  it('keeps counting restartCount across an agent restart', async () => {
    const master = await new FakeMaster().start();
    cleanups.push(() => master.close());
    const dataDir = tempDir();
    const tally = path.join(dataDir, 'tally');
    const opts = { master: master.url, token: JOIN_TOKEN, name: 'pi-count', dataDir, address: '127.0.0.1', logger: memoryLogger(), crashLoop: { initialMs: 50, maxMs: 100 } };
    const agent = track(await startAgent(opts));
    await until(() => agent.connected, 'connected');
    // Crashes twice (one immediate restart, one after back-off), then stays up.
    const pod = podWith('crashy', sh(`echo x >> ${tally}; [ $(wc -l < ${tally}) -ge 3 ] || exit 1; exec sleep 1000`));
    await master.desire('pi-count', { generation: 1, pods: [pod] });
    const count = (a: Agent) => a.podReports()[0]?.status.containerStatuses?.[0];
    await until(() => count(agent)?.restartCount === 2 && count(agent)?.state.running, 'two restarts, then running');
    await agent.stop({ stopPods: true });
    const again = track(await startAgent(opts));
    // The stop and start is one more restart of the container (as after a node reboot in Kubernetes), not a reset.
    await until(() => count(again)?.state.running, 'running again');
    expect(count(again)?.restartCount).toBe(3);
    await until(() => master.podsMessages.some((m) => m.pods.some((p) => p.status.containerStatuses?.[0]?.restartCount === 3)), 'the master told');
  });

  it('ignores a desired set older than the one applied', async () => {
    const { master, agent, pid, pod } = await runningPod('pi-old');
    const seen: number[] = [];
    agent.on('desired', (g: number) => seen.push(g));
    // Generation 3 would delete the pod; generation 5 (sent after it, same publisher, QoS 1: in order) keeps it.
    await master.desire('pi-old', { generation: 3, pods: [] });
    await master.desire('pi-old', { generation: 5, pods: [pod] });
    await until(() => seen.includes(5), 'generation 5 applied');
    expect(seen).toEqual([5]);
    expect(alive(pid)).toBe(true);
    expect(master.gone.has(pod.metadata.uid!)).toBe(false);
  });
});
