/**
 * Offline autonomy includes services: an agent rebooted while the master is down brings back its pods
 * (from the desired cache) and its proxy's services (from the service cache), so a client on the board
 * still reaches the service on its clusterIP.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import type { Service } from '../../protocol/index.js';
import { eventually, isRunningReady, quietLogger, startCluster, testEngine, type TestCluster } from '../helpers/cluster.js';
import { whoServes } from '../edge-agent/proxy-helpers.js';
import { freePort } from '../helpers/procs.js';

const app = (port: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: greeter}
spec:
  replicas: 2
  selector: {matchLabels: {app: greeter}}
  template:
    metadata: {labels: {app: greeter}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: g
        command: [node, -e, "require('net').createServer(s => { s.on('error', () => {}); s.end(process.env.HOSTNAME + '\\\\n'); }).listen(Number(process.env.PORT))"]
        ports: [{name: tcp, containerPort: 0}]
        readinessProbe: {tcpSocket: {port: tcp}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: greeter}
spec:
  selector: {app: greeter}
  ports: [{port: ${port}, targetPort: tcp}]
`;

describe('services survive an offline reboot', () => {
  let c: TestCluster;
  let agent: Agent | undefined;
  afterAll(async () => {
    await agent?.stop({ stopPods: true });
    await c?.stop();
  });

  it('a board rebooted with the master down still proxies its service', async () => {
    const port = await freePort(); // a service port nobody else holds
    c = await startCluster([], {});
    const boot = () =>
      startAgent({
        master: c.master.url, token: c.master.joinToken, name: 'island', dataDir: join(c.dir, 'island'), address: '127.0.0.4', leaseIntervalMs: 500, logger: quietLogger,
        cacheWaitMs: 500, reconnect: { initialMs: 200, maxMs: 1000 },
        proxy: { clusterIPs: true, nodePortAddresses: ['127.0.0.4'], balancerImpl: testEngine },
      });
    agent = await boot();
    await c.apply(app(port));
    const svc = await eventually(async () => ((await c.api.request('get', { kind: 'Service', name: 'greeter' })) as Service).spec.clusterIP, 'a clusterIP');
    await eventually(async () => (await c.pods('app=greeter')).filter(isRunningReady).length === 2, 'two ready pods');
    const ask = () => whoServes(svc, port);
    const before = await eventually(() => ask().catch(() => ''), 'the service answers through the proxy');
    expect(before).toMatch(/^greeter-/);

    // The master goes away, then the board reboots (agent and its pods stop; the data dir stays).
    await c.master.stop();
    await agent.stop({ stopPods: true });
    agent = await boot();
    const after = await eventually(() => ask().catch(() => ''), 'the service answers again with the master still down', 20_000, 100);
    expect(after).toMatch(/^greeter-/);
  }, 60_000);
});
