/**
 * Agent restarts with real processes (docs/lifecycle.md): a `skiff-agent` process stopped with SIGTERM, or
 * killed with SIGKILL, leaves its pods running and listening; the next `skiff-agent` on the same data dir
 * adopts them — the same pids, no second copy, the pods Running in the master all along; `skiff-agent stop
 * --pods` then empties the node. The master runs in-process on an ephemeral loopback port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startMaster, type Master } from '../../master/index.js';
import type { Pod } from '../../protocol/index.js';
import { alive, kill9, processesWith, spawnNode, stopAgentProc, waitFor } from '../../bench/cluster-selfheal.js';
import { testEngine } from '../helpers/cluster.js';
import { agentBin, requireBuild } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

const marker = `adopt-e2e-${process.pid}`;
const server = `require('net').createServer(s=>{s.on('error',()=>{});s.end(process.pid+'\\n')}).listen(Number(process.env.PORT),'127.0.0.1');process.on('SIGTERM',()=>process.exit(0))//${marker}`;
const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'keep', namespace: 'default' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'keep' } },
    template: {
      metadata: { labels: { app: 'keep' } },
      spec: { runtimeClassName: 'process', terminationGracePeriodSeconds: 5, containers: [{ name: 'srv', command: ['node', '-e', server], ports: [{ name: 'tcp', containerPort: 0 }], readinessProbe: { tcpSocket: { port: 'tcp' }, periodSeconds: 1 } }] },
    },
  },
};

/** What answers on a loopback port: the pid it prints, or the connection error code. */
function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => (out += d));
    s.on('end', () => resolve(out.trim()));
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('e2e: an agent process restarted adopts its pods', () => {
  let dir: string;
  let master: Master;
  let agent: ChildProcess | undefined;
  const dataDir = () => join(dir, 'board');
  const boot = () => (agent = spawnNode([agentBin, 'join', '--master', master.url, '--token', master.joinToken, '--name', 'board', '--data-dir', dataDir(), '--address', '127.0.0.1', '--lease-interval', '500ms'], join(dir, 'board.log')));
  const pods = () => master.informers.list('Pod', 'default').filter((p) => p.metadata.labels?.app === 'keep');
  const readyOf = () => master.informers.get('Node', undefined, 'board')?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  /** How many times an agent logged adopting a running process. */
  const adoptions = () => (readFileSync(join(dir, 'board.log'), 'utf8').match(/adopted its running process/g) ?? []).length;
  const runningReady = (p: Pod) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  /** Each pod's port and the pid answering on it. */
  const answers = () => Promise.all(pods().map(async (p) => ({ pod: p.metadata.name, port: p.status!.ports![0].port, pid: await ask(p.status!.ports![0].port) })));

  beforeAll(async () => {
    requireBuild();
    dir = await tempDir('skiff-adopt-');
    master = await startMaster({ dataDir: join(dir, 'master'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false, podSecurityDefault: 'privileged' });
    boot();
    await master.objects.create(deployment as never);
  }, 30_000);

  afterAll(async () => {
    await stopAgentProc(agent, dataDir());
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    await master?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('SIGTERM, then SIGKILL: the pods keep running and listening, and each new agent adopts the same pids', async () => {
    await waitFor(() => pods().length === 2 && pods().every(runningReady), 'two keep pods Running and ready', 30_000, 100);
    const before = await answers();
    expect(before.every((a) => /^\d+$/.test(a.pid))).toBe(true);
    const pids = before.map((a) => Number(a.pid));

    for (const stop of ['SIGTERM', 'SIGKILL'] as const) {
      const a = agent!;
      const exited = new Promise<number | null>((r) => a.once('exit', (code) => r(code)));
      if (stop === 'SIGKILL') await kill9(a);
      else a.kill(stop);
      expect(await exited).toBe(stop === 'SIGTERM' ? 0 : null);
      // Without an agent: the same processes, still listening.
      expect(pids.every(alive)).toBe(true);
      expect(await answers()).toEqual(before);

      if (stop === 'SIGKILL') await waitFor(() => readyOf() === 'Unknown', 'the Will: node board Unknown', 10_000, 50);
      // (A SIGTERM leaves the node Ready: a restart within the lease grace period is not an outage.)
      else expect(readyOf()).toBe('True');
      const adoptedBefore = adoptions();
      boot();
      // Adopted: the new agent follows both processes, and reports them Running and ready with no restart.
      await waitFor(() => adoptions() === adoptedBefore + 2, 'the new agent adopting both pods', 20_000, 100);
      await waitFor(() => readyOf() === 'True' && pods().every((p) => runningReady(p) && p.status?.containerStatuses?.[0].restartCount === 0), 'node Ready and both pods Running', 20_000, 100);
      expect(await answers()).toEqual(before);
      expect(processesWith(marker).sort()).toEqual([...pids].sort());
      expect(pods().map((p) => p.metadata.name).sort()).toEqual(before.map((b) => b.pod).sort());
    }
  }, 90_000);

  it('skiff-agent stop --pods stops the agent and every pod: no process left, no port answering', async () => {
    const before = await answers();
    await stopAgentProc(agent, dataDir());
    expect(agent!.exitCode).toBe(0);
    expect(before.map((b) => Number(b.pid)).filter(alive)).toEqual([]);
    expect(processesWith(marker)).toEqual([]);
    for (const b of before) expect(await ask(b.port)).toBe('ECONNREFUSED');
  }, 60_000);
});
