/**
 * Issue 13, node certificates: on the TLS port a node needs the certificate the CA signed for it and its
 * credential — either alone, another node's certificate, or a certificate of a deleted node is refused — and the
 * agent renews its certificate before it expires (here a 6 s lifetime: renewed at 4 s) without a restart: its pod
 * keeps running, it reconnects with the new certificate, and the master lists the new serial.
 */
import { X509Certificate } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { startMaster, type Master } from '../../master/index.js';
import type { Pod } from '../../protocol/index.js';
import { isRunningReady, quietLogger, testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';
import { rawConnect } from './helpers.js';
import { tlsConnect } from './tls-helpers.js';

describe('node certificates (issue 13)', () => {
  let master: Master;
  let api: Api;
  let dir: string;
  const agents: Agent[] = [];
  const files = async (node: string) => ({
    key: await readFile(join(dir, node, 'node.key'), 'utf8'),
    cert: await readFile(join(dir, node, 'node.crt'), 'utf8'),
    credential: (await readFile(join(dir, node, 'credential'), 'utf8')).trim(),
  });
  const agentOn = async (name: string) => {
    const a = await startAgent({ master: master.tlsUrl, token: master.joinToken, name, dataDir: join(dir, name), address: '127.0.0.1', leaseIntervalMs: 500, logger: quietLogger, proxy: false, mdns: false });
    agents.push(a);
    return a;
  };

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, mqttsPort: 0, mqttHost: '127.0.0.1', httpPort: -1, quiet: true, engine: testEngine, mdns: false, podSecurityDefault: 'privileged', nodeCertLifetimeMs: 6000 });
    api = await connectApi({ server: master.tlsUrl, user: 'admin', token: master.adminToken, ca: master.caPem, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop({ stopPods: true }).catch(() => undefined)));
    await api?.close();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('renews the node certificate at 2/3 of its life without a restart; the pod keeps running', async () => {
    const agent = await agentOn('renew-1');
    const firstFiles = await files('renew-1');
    const first = new X509Certificate(firstFiles.cert);
    expect(Date.parse(first.validTo) - Date.parse(first.validFrom)).toBeLessThanOrEqual(8000);
    await api.request('apply', { manifest: 'apiVersion: v1\nkind: Pod\nmetadata: {name: steady}\nspec:\n  nodeName: renew-1\n  containers:\n  - {name: c, command: [sleep, "1000"]}\n' });
    const running = await eventually(async () => {
      const p = await api.request<Pod>('get', { kind: 'Pod', name: 'steady' });
      return isRunningReady(p) && p;
    }, 'the pod Running');
    const renewals: { serial: string }[] = [];
    agent.on('certRenewed', (r: { serial: string }) => renewals.push(r));
    await eventually(() => renewals.length >= 2, 'two renewals', 20_000);
    const now = new X509Certificate((await files('renew-1')).cert);
    expect(now.serialNumber).not.toBe(first.serialNumber);
    expect(renewals.map((r) => r.serial)).toContain(now.serialNumber);
    // Still connected with the renewed certificate, long after the first one expired: the node stays Ready.
    await eventually(async () => Date.now() > Date.parse(first.validTo) + 1000, 'the first certificate expired', 15_000);
    await eventually(() => agent.connected, 'the agent connected with its renewed certificate');
    const pod = await api.request<Pod>('get', { kind: 'Pod', name: 'steady' });
    expect(pod.metadata.uid).toBe(running.metadata.uid);
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(isRunningReady(pod)).toBe(true);
    // The current certificate logs in; the first one (expired, and two renewals old) does not, credential or not.
    const current = await files('renew-1');
    expect(current.credential).toBe(firstFiles.credential); // renewal changes the certificate only
    expect(await tlsConnect(master.mqttsPort, master.caPem, { clientId: 'probe-new', username: 'renew-1', password: current.credential }, current)).toBe(0);
    expect(await tlsConnect(master.mqttsPort, master.caPem, { clientId: 'probe-old', username: 'renew-1', password: current.credential }, firstFiles)).toBe(5);
  }, 60_000);

  it('over TLS a node needs its own certificate and its credential; deleting the node locks both out', async () => {
    await agentOn('lock-1');
    await agentOn('lock-2');
    const one = await files('lock-1');
    const two = await files('lock-2');
    const as = (user: string, password: string, cert?: { key: string; cert: string }) => tlsConnect(master.mqttsPort, master.caPem, { clientId: `probe-${Math.random().toString(36).slice(2)}`, username: user, password }, cert);
    expect(await as('lock-1', one.credential, one)).toBe(0);
    expect(await as('lock-1', one.credential)).toBe(5); // the credential alone: no certificate
    expect(await as('lock-1', 'wrong', one)).toBe(4); // the certificate alone
    expect(await as('lock-1', one.credential, two)).toBe(5); // another node's certificate
    expect(await as('lock-2', two.credential, one)).toBe(5);
    // The plain port, on loopback only, still takes the credential alone (local tools, in-process tests).
    expect(await rawConnect(master.mqttPort, { clientId: 'probe-plain', username: 'lock-1', password: one.credential })).toBe(0);
    await api.request('delete', { kind: 'Node', name: 'lock-1' });
    expect(await as('lock-1', one.credential, one)).toBe(4);
    expect(await rawConnect(master.mqttPort, { clientId: 'probe-plain-2', username: 'lock-1', password: one.credential })).toBe(4);
    expect(await as('lock-2', two.credential, two)).toBe(0);
  });
});
