/**
 * Probes on real process pods through the agent, as the master sees them on the wire: liveness failure
 * restarts (restartCount rises, the reason in lastState), readiness flips Ready and back, a startup probe
 * holds liveness and readiness back until the process listens.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import type { Pod, PodStatus } from '../../protocol/types.js';
import { FakeMaster, JOIN_TOKEN, memoryLogger, podWith, readText, tempDir, until } from './helpers.js';

/** A node HTTP server on $PORT: /healthz answers 500 while DIR/sick exists; starts listening after DELAY ms. */
const server = (dir: string, delayMs = 0) => ({
  command: [
    process.execPath,
    '-e',
    `const fs = require('fs'); setTimeout(() => require('http').createServer((q, s) => { s.writeHead(fs.existsSync(${JSON.stringify(path.join(dir, 'sick'))}) ? 500 : 200); s.end(); }).listen(Number(process.env.PORT), '127.0.0.1'), ${delayMs})`,
  ],
  ports: [{ name: 'http' }],
});

const ready = (s?: PodStatus) => s?.conditions?.find((c) => c.type === 'Ready')?.status;

describe('edge agent: probes on real processes', () => {
  let master: FakeMaster;
  let agent: Agent;
  let dir: string;
  const node = 'pi-probes';
  const statusOf = (p: Pod) => master.pods.get(p.metadata.uid!);

  beforeEach(async () => {
    master = await new FakeMaster().start();
    dir = tempDir();
    agent = await startAgent({ master: master.url, token: JOIN_TOKEN, name: node, dataDir: dir, address: '127.0.0.1', logger: memoryLogger() });
    await until(() => agent.connected, 'connected');
  });
  afterEach(async () => {
    await agent.stop();
    await master.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('restarts a container whose liveness probe fails, with the reason in lastState', async () => {
    const pod = podWith('live', { ...server(dir), livenessProbe: { httpGet: { port: 'http', path: '/healthz' }, periodSeconds: 1, failureThreshold: 2 } });
    await master.desire(node, { generation: 1, pods: [pod] });
    await until(() => statusOf(pod)?.containerStatuses?.[0]?.state.running, 'running');
    await until(() => statusOf(pod)?.containerStatuses?.[0]?.ready, 'ready (no readiness probe: running is ready)');
    expect(statusOf(pod)?.containerStatuses?.[0]?.restartCount).toBe(0);
    fs.writeFileSync(path.join(dir, 'sick'), '');
    const cs = await until(() => {
      const s = statusOf(pod)?.containerStatuses?.[0];
      return s && s.restartCount >= 1 && s.lastState && s;
    }, 'a restart by the liveness probe', 8000);
    expect(cs.lastState?.terminated).toMatchObject({ reason: 'Error', exitCode: 143 });
    expect(cs.lastState?.terminated?.message).toBe('Liveness probe failed: HTTP probe failed with statuscode: 500; container restarted by the probe');
  });

  it('readiness failure sets Ready=False without a restart, and back to True', async () => {
    const flag = path.join(dir, 'ready-flag');
    const pod = podWith('ready', { command: ['/bin/sh', '-c', 'exec sleep 60'], readinessProbe: { exec: { command: ['/bin/sh', '-c', `test -f ${flag}`] }, periodSeconds: 1, failureThreshold: 1 } });
    await master.desire(node, { generation: 1, pods: [pod] });
    await until(() => statusOf(pod)?.phase === 'Running', 'running');
    expect(ready(statusOf(pod))).toBe('False');
    fs.writeFileSync(flag, '');
    await until(() => ready(statusOf(pod)) === 'True', 'Ready=True', 5000);
    expect(statusOf(pod)?.containerStatuses?.[0]).toMatchObject({ ready: true, started: true });
    fs.rmSync(flag);
    await until(() => ready(statusOf(pod)) === 'False', 'Ready=False', 5000);
    expect(statusOf(pod)?.containerStatuses?.[0]).toMatchObject({ ready: false, restartCount: 0 });
    expect(statusOf(pod)?.containerStatuses?.[0]?.state.running).toBeDefined();
    fs.writeFileSync(flag, '');
    await until(() => ready(statusOf(pod)) === 'True', 'Ready=True again', 5000);
  });

  it('a startup probe holds liveness and readiness back until the process listens', async () => {
    const livenessLog = path.join(dir, 'liveness.log');
    const pod = podWith('slow', {
      ...server(dir, 1500),
      startupProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1, failureThreshold: 10 },
      livenessProbe: { exec: { command: ['/bin/sh', '-c', `date +%s%N >> ${livenessLog}`] }, periodSeconds: 1 },
      readinessProbe: { httpGet: { port: 'http', path: '/' }, periodSeconds: 1 },
    });
    await master.desire(node, { generation: 1, pods: [pod] });
    await until(() => statusOf(pod)?.containerStatuses?.[0]?.state.running, 'running');
    expect(statusOf(pod)?.containerStatuses?.[0]).toMatchObject({ started: false, ready: false });
    const startedAt = Date.now();
    const cs = await until(() => statusOf(pod)?.containerStatuses?.[0]?.started && statusOf(pod)!.containerStatuses![0], 'started', 6000);
    expect(Date.now() - startedAt).toBeGreaterThan(500); // the server listens only after 1.5 s
    expect(cs.restartCount).toBe(0);
    await until(() => ready(statusOf(pod)) === 'True', 'Ready=True', 5000);
    const firstLiveness = Number(await until(() => readText(livenessLog)?.split('\n')[0], 'a liveness check')) / 1e6;
    const running = Date.parse(statusOf(pod)!.containerStatuses![0].state.running!.startedAt!);
    // No liveness check ran during the 1.5 s the startup probe was failing.
    expect(firstLiveness - running).toBeGreaterThan(1400);
  });
});
