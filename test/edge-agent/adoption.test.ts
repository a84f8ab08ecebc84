/**
 * Adoption (docs/lifecycle.md): an agent that stops without its pods — SIGTERM, an upgrade — leaves them
 * running, and the next agent on the same data dir follows the same processes instead of starting new ones;
 * what ended meanwhile goes through the restart policy; what is no longer wanted is reaped. In-process agents
 * against a fake master; test/e2e/adoption.test.ts does the same with real agent processes.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { isRunning, readRecord } from '../../edge-agent/drivers/process-record.js';
import { bootId, readStat } from '../../edge-agent/procfs.js';
import { FakeMaster, JOIN_TOKEN, alive, memoryLogger, podWith, readText, sh, tempDir, until } from './helpers.js';

/** The pids a pod wrote to `file`, one line per start of its process. */
const starts = (file: string) => (readText(file) ?? '').split('\n').filter(Boolean).map(Number);

describe('edge agent: adopting the pods of a previous run', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(node: string) {
    const master = await new FakeMaster().start();
    cleanups.push(() => master.close());
    const dataDir = tempDir();
    const opts = { master: master.url, token: JOIN_TOKEN, name: node, dataDir, address: '127.0.0.1', logger: memoryLogger(), crashLoop: { initialMs: 50, maxMs: 100 }, cacheWaitMs: 0 };
    const start = async () => {
      const a = await startAgent(opts);
      cleanups.push(() => a.stop());
      await until(() => a.connected, 'connected');
      return a;
    };
    const status = (a: Agent, uid: string) => a.reportOf(uid)?.status;
    return { master, dataDir, start, status };
  }

  it('follows the same processes: same pid, no second start, restartCount, logs and probes carry on; a crash is still restarted', async () => {
    const { master, dataDir, start, status } = await setup('pi-adopt');
    const pids = path.join(dataDir, 'pids');
    const ready = path.join(dataDir, 'ready');
    const tally = path.join(dataDir, 'tally');
    fs.writeFileSync(ready, '');
    // Crashes on its first start (restartCount 1), then ticks on stdout for ever.
    const pod = podWith('ticker', {
      ...sh(`echo $$ >> ${pids}; echo x >> ${tally}; [ $(wc -l < ${tally}) -ge 2 ] || exit 1; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.05; done`),
      readinessProbe: { exec: { command: ['/bin/sh', '-c', `test -f ${ready}`] }, periodSeconds: 1, failureThreshold: 1 },
    });
    const uid = pod.metadata.uid!;
    const first = await start();
    await master.desire('pi-adopt', { generation: 1, pods: [pod] });
    await until(() => status(first, uid)?.containerStatuses?.[0].ready && status(first, uid)?.containerStatuses?.[0].restartCount === 1, 'ready after one restart');
    // The probe can pass before the new process wrote its pid (it checks a file of the test's).
    await until(() => starts(pids).length === 2, 'the second start written');
    const pid = starts(pids)[1];
    const startedAt = status(first, uid)?.containerStatuses?.[0].state.running?.startedAt;
    const podStart = status(first, uid)?.startTime;

    await first.stop({ stopPods: false });
    expect(alive(pid)).toBe(true);
    // A deliberate stop without the pods does not mark the node offline (the lease tells a lasting absence).
    expect(master.statuses.filter((s) => s.online === false)).toEqual([]);
    const logFile = path.join(dataDir, 'logs', `default_ticker_${uid}`, 'main', '1.log');
    const ticksWhileAway = (fs.readFileSync(logFile, 'utf8').match(/tick/g) ?? []).length;

    const second = await start();
    await until(() => status(second, uid)?.containerStatuses?.[0].ready, 'the adopted container ready again');
    const cs = status(second, uid)!.containerStatuses![0];
    expect(starts(pids)).toHaveLength(2); // started twice in all: the crash, then the process adopted
    expect(starts(pids)[1]).toBe(pid);
    expect(alive(pid)).toBe(true);
    expect(cs).toMatchObject({ restartCount: 1, state: { running: { startedAt } } });
    expect(status(second, uid)?.startTime).toBe(podStart);
    expect(second.podReports().map((r) => r.uid)).toEqual([uid]);
    // Logs go on in the same file, and the logs RPC reads them.
    await until(() => (fs.readFileSync(logFile, 'utf8').match(/tick/g) ?? []).length > ticksWhileAway + 5, 'more ticks in 1.log');
    const id = await master.call('pi-adopt', 'logs', { name: 'ticker', tailLines: 1 });
    const answer = await until(() => master.rpc.get(id)?.[0], 'logs answer');
    expect(answer.result).toMatch(/^tick \d+\n$/);
    // Probes run on the adopted container.
    fs.rmSync(ready);
    await until(() => status(second, uid)?.containerStatuses?.[0].ready === false, 'readiness follows the probe');
    // A crash of the adopted process is restarted by the restart policy, as any crash.
    process.kill(pid, 'SIGKILL');
    await until(() => status(second, uid)?.containerStatuses?.[0].restartCount === 2 && status(second, uid)?.containerStatuses?.[0].state.running, 'restarted after the crash');
    expect(status(second, uid)?.containerStatuses?.[0].lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
    await until(() => starts(pids).length === 3, 'the third start written');
    await until(() => master.pods.get(uid)?.containerStatuses?.[0].restartCount === 2, 'the master told');
  });

  it('applies the restart policy to what ended while no agent ran', async () => {
    const { master, dataDir, start, status } = await setup('pi-away');
    const go = path.join(dataDir, 'go');
    const wait = `while [ ! -f ${go} ]; do sleep 0.05; done`;
    const once = podWith('once', sh(`${wait}; exit 3`), { restartPolicy: 'Never' });
    const done = podWith('done', sh(`${wait}; exit 0`), { restartPolicy: 'OnFailure' });
    const always = podWith('always', sh(`echo $$ >> ${path.join(dataDir, 'always')}; exec sleep 1000`));
    const first = await start();
    await master.desire('pi-away', { generation: 1, pods: [once, done, always] });
    await until(() => [once, done, always].every((p) => status(first, p.metadata.uid!)?.phase === 'Running') && starts(path.join(dataDir, 'always')).length, 'all running');
    await first.stop({ stopPods: false });

    const wrappers = [once, done].map((p) => readRecord(path.join(dataDir, 'pods', p.metadata.uid!, 'main.pid'))!);
    fs.writeFileSync(go, '');
    process.kill(starts(path.join(dataDir, 'always'))[0], 'SIGKILL');
    await until(() => wrappers.every((r) => !isRunning(r)), 'both ended while no agent ran');

    const second = await start();
    await until(() => status(second, once.metadata.uid!)?.phase === 'Failed', 'once Failed');
    expect(status(second, once.metadata.uid!)?.containerStatuses?.[0]).toMatchObject({ restartCount: 0, state: { terminated: { exitCode: 3, reason: 'Error' } } });
    await until(() => status(second, done.metadata.uid!)?.phase === 'Succeeded', 'done Succeeded');
    await until(() => status(second, always.metadata.uid!)?.containerStatuses?.[0].state.running, 'always running again');
    expect(status(second, always.metadata.uid!)?.containerStatuses?.[0]).toMatchObject({ restartCount: 1, lastState: { terminated: { exitCode: 137 } } });
  });

  it('reaps the pods of a previous run that are no longer wanted, reports them gone, and never touches a recycled pid', async () => {
    const { master, dataDir, start, status } = await setup('pi-reap');
    const pidFile = path.join(dataDir, 'old');
    const old = podWith('old', { ...sh(`echo $$ > ${pidFile}; exec sleep 1000`) }, { terminationGracePeriodSeconds: 1 });
    const first = await start();
    await master.desire('pi-reap', { generation: 1, pods: [old] });
    const pid = Number(await until(() => readText(pidFile), 'old pod pid'));
    await first.stop({ stopPods: false });
    // A record pointing at an unrelated process whose start time does not match (a recycled pid).
    const bystander = spawn('sleep', ['1000'], { stdio: 'ignore' });
    cleanups.push(() => void bystander.kill('SIGKILL'));
    const fakeDir = path.join(dataDir, 'pods', 'uid-recycled');
    fs.mkdirSync(fakeDir, { recursive: true });
    fs.writeFileSync(path.join(fakeDir, 'main.pid'), JSON.stringify({ pid: bystander.pid, startTime: 1, bootId: bootId(), argv: ['sleep'] }));

    // Deleted while the agent was away: the master's set has another pod.
    const fresh = podWith('fresh', sh('exec sleep 1000'));
    await master.desire('pi-reap', { generation: 2, pods: [fresh] });
    const second = await start();
    await until(() => !alive(pid), 'the old pod process stopped');
    await until(() => master.gone.has(old.metadata.uid!), 'the old pod reported gone');
    await until(() => !fs.existsSync(path.join(dataDir, 'pods', old.metadata.uid!)) && !fs.existsSync(fakeDir), 'their state dirs removed');
    expect(alive(bystander.pid!)).toBe(true);
    await until(() => status(second, fresh.metadata.uid!)?.phase === 'Running', 'the wanted pod running');
    expect(second.podReports().map((r) => r.uid)).toEqual([fresh.metadata.uid]);
  });

  it('refuses a second agent on a data dir in use', async () => {
    const { start } = await setup('pi-twice');
    await start();
    await expect(start()).rejects.toThrow(/already runs with data dir/);
  });
});

describe('process records', () => {
  const me = readStat(process.pid)!;
  it.each([
    ['this process, this boot', { pid: process.pid, startTime: me.startTime, bootId: bootId() }, true],
    ['a record without a boot id (an older agent)', { pid: process.pid, startTime: me.startTime, bootId: '' }, true],
    ['a recycled pid: another start time', { pid: process.pid, startTime: me.startTime + 1, bootId: bootId() }, false],
    ['another boot', { pid: process.pid, startTime: me.startTime, bootId: 'another-boot' }, false],
    ['a pid that does not exist', { pid: 2 ** 22 + 1, startTime: 1, bootId: bootId() }, false],
  ])('%s → running %s', (_what, r, want) => {
    expect(isRunning({ ...r, argv: [] })).toBe(want);
  });

  it.each([
    ['not JSON', 'pid 12'],
    ['no start time', '{"pid": 12}'],
    ['pid 1', '{"pid": 1, "startTime": 5}'],
    ['a pid that is not a number', '{"pid": "12", "startTime": 5}'],
  ])('an unusable record (%s) is no record', (_what, text) => {
    const f = path.join(tempDir(), 'main.pid');
    fs.writeFileSync(f, text);
    expect(readRecord(f)).toBeUndefined();
  });
});
