/** Restarts, back-off, deletion and grace periods of process pods, through the wire as the master sees them. */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent, type AgentOptions, type RestartEvent } from '../../edge-agent/index.js';
import type { PodStatus } from '../../protocol/types.js';
import { FakeMaster, JOIN_TOKEN, alive, memoryLogger, podWith, readText, sh, tempDir, until } from './helpers.js';

describe('edge agent: pod lifecycle', () => {
  let master: FakeMaster;
  let agent: Agent;
  let dataDir: string;
  const node = 'pi-life';
  const start = async (extra: Partial<AgentOptions> = {}) => {
    agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir, address: '127.0.0.1', logger: memoryLogger(), ...extra });
    await until(() => agent.connected, 'agent connected');
  };
  const statusOf = (uid: string): PodStatus | undefined => master.pods.get(uid);

  beforeEach(async () => {
    master = await new FakeMaster().start();
    dataDir = tempDir();
  });
  afterEach(async () => {
    await agent?.stop();
    await master.close();
  });

  it('restarts a crashed container at once, then backs off (CrashLoopBackOff), counting restarts', async () => {
    await start({ crashLoop: { initialMs: 700, maxMs: 5000 } });
    const restarts: RestartEvent[] = [];
    agent.on('restart', (e: RestartEvent) => restarts.push(e));
    const starts = path.join(dataDir, 'starts');
    const pod = podWith('crasher', sh(`echo start $(date +%s%N) >> ${starts}; sleep 0.2; echo end $(date +%s%N) >> ${starts}; exit 3`));
    await master.desire(node, { generation: 1, pods: [pod] });
    const uid = pod.metadata.uid!;

    await until(() => restarts.length >= 1, 'the first restart');
    const first = restarts[0];
    console.log(`first-restart latency (exit observed → new process): ${first.latencyMs} ms`);
    expect(first).toMatchObject({ container: 'main', restartCount: 1, delayMs: 0 });
    expect(first.latencyMs).toBeLessThan(250);
    // End to end, as the process sees it: its last line before exit → the next attempt's first line (includes sh start-up).
    const lines = (await until(() => (readText(starts)?.split('\n').length ?? 0) >= 3 && readText(starts)!.split('\n'), 'second start line')).map((l) => l.split(' '));
    expect(lines.map((l) => l[0]).slice(0, 3)).toEqual(['start', 'end', 'start']);
    const e2eMs = (Number(lines[2][1]) - Number(lines[1][1])) / 1e6;
    console.log(`first-restart latency end to end (last output → first output of the restart): ${e2eMs.toFixed(1)} ms`);
    // Looser than the agent-side 250 ms target: this also counts sh start-up and two `date` forks on a loaded 2-core runner.
    expect(e2eMs).toBeLessThan(400);

    // The second exit waits in CrashLoopBackOff, with the last termination recorded.
    const waiting = await until(() => {
      const s = statusOf(uid)?.containerStatuses?.[0];
      return s?.state.waiting?.reason === 'CrashLoopBackOff' && s;
    }, 'a CrashLoopBackOff report');
    expect(waiting.restartCount).toBe(1);
    expect(waiting.ready).toBe(false);
    expect(waiting.lastState?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(statusOf(uid)?.phase).toBe('Running');
    expect(statusOf(uid)?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');

    await until(() => restarts.length >= 2, 'the restart after back-off');
    expect(restarts[1]).toMatchObject({ restartCount: 2, delayMs: 700 });
    await until(() => statusOf(uid)?.containerStatuses?.[0].restartCount === 2, 'restartCount 2 reported');
  });

  it('Never: a clean exit makes the pod Succeeded; OnFailure restarts only failures; Never + failure → Failed', async () => {
    await start();
    const ok = podWith('once', sh('exit 0'), { restartPolicy: 'Never' });
    const bad = podWith('fails', sh('exit 7'), { restartPolicy: 'Never' });
    const onf = podWith('onfailure', sh('exit 0'), { restartPolicy: 'OnFailure' });
    await master.desire(node, { generation: 1, pods: [ok, bad, onf] });
    await until(() => statusOf(ok.metadata.uid!)?.phase === 'Succeeded', 'Succeeded');
    await until(() => statusOf(bad.metadata.uid!)?.phase === 'Failed', 'Failed');
    await until(() => statusOf(onf.metadata.uid!)?.phase === 'Succeeded', 'OnFailure + exit 0 → Succeeded');
    const f = statusOf(bad.metadata.uid!)!;
    expect(f.containerStatuses?.[0]).toMatchObject({ restartCount: 0, ready: false, state: { terminated: { exitCode: 7 } } });
    expect(f.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'PodCompleted' });
  });

  it('a deleted pod is stopped (SIGKILL after the grace period when SIGTERM is ignored) and reported gone', async () => {
    await start();
    const pidFile = path.join(dataDir, 'pid');
    const pod = podWith('stubborn', sh(`trap '' TERM; echo $$ > ${pidFile}; while true; do sleep 0.05; done`), { terminationGracePeriodSeconds: 1 });
    const polite = podWith('polite', sh('exec sleep 1000'));
    await master.desire(node, { generation: 1, pods: [pod, polite] });
    const pid = Number(await until(() => readText(pidFile), 'stubborn pid'));
    await until(() => statusOf(polite.metadata.uid!)?.phase === 'Running', 'polite running');
    const t0 = Date.now();
    await master.desire(node, { generation: 2, pods: [] });
    await until(() => master.gone.has(pod.metadata.uid!) && master.gone.has(polite.metadata.uid!), 'both reported gone');
    const took = Date.now() - t0;
    expect(alive(pid)).toBe(false);
    expect(took).toBeGreaterThanOrEqual(900); // it ignored SIGTERM, so only SIGKILL after 1 s ended it
    expect(agent.podReports()).toEqual([]);
    const msg = master.podsMessages.find((m) => m.gone?.includes(pod.metadata.uid!));
    expect(msg?.generation).toBe(2);
  });

  it('a uid listed as terminating that never ran here is reported gone at once; a running one once it has stopped', async () => {
    await start();
    const pidFile = path.join(dataDir, 'pid-slow');
    const slow = podWith('slow-to-stop', sh(`trap '' TERM; echo $$ > ${pidFile}; while true; do sleep 0.05; done`), { terminationGracePeriodSeconds: 5 });
    await master.desire(node, { generation: 1, pods: [slow] });
    const pid = Number(await until(() => readText(pidFile), 'slow-to-stop pid'));
    // Bound and deleted between two sets (a CronJob's Replace, a GC of a just-made pod): this agent never got it.
    const never = podWith('never-here', sh('exec sleep 1000'));
    await master.desire(node, { generation: 2, pods: [], terminating: [slow.metadata.uid!, never.metadata.uid!] });
    await until(() => master.gone.has(never.metadata.uid!), 'the pod that never ran here reported gone');
    // Not the one still stopping: it ignores SIGTERM, so it goes only at SIGKILL after its 5 s grace.
    expect(alive(pid)).toBe(true);
    expect(master.gone.has(slow.metadata.uid!)).toBe(false);
    await until(() => master.gone.has(slow.metadata.uid!), 'the running pod reported gone once stopped', 15_000);
    expect(alive(pid)).toBe(false);
  });

  it('batches status changes of several pods into few messages', async () => {
    await start();
    const before = master.podsMessages.length;
    const pods = Array.from({ length: 5 }, (_, i) => podWith(`batch-${i}`, sh('exec sleep 1000')));
    await master.desire(node, { generation: 1, pods });
    await until(() => pods.every((p) => statusOf(p.metadata.uid!)?.phase === 'Running'), 'all running');
    // 5 pods × (Pending + Running) would be 10 messages unbatched.
    expect(master.podsMessages.length - before).toBeLessThanOrEqual(4);
  });
});
