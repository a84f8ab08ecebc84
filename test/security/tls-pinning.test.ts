/**
 * Issue 13, TLS: the join token pins the cluster CA. An agent whose token's CA hash does not match the master's
 * certificate refuses to join with a clear message and sends nothing but the TLS handshake; with the right token
 * it joins over mqtts and runs a pod; `skiff` refuses a master whose certificate another CA signed.
 */
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import { main as cli } from '../../cli/main.js';
import type { Api } from '../../cli/types.js';
import { startAgent, type Agent } from '../../edge-agent/index.js';
import { startMaster, type Master } from '../../master/index.js';
import { formatJoinToken, joinSecret } from '../../protocol/join-token.js';
import { caHashOf } from '../../protocol/tls.js';
import type { Pod } from '../../protocol/index.js';
import { isRunningReady, quietLogger, testEngine } from '../helpers/cluster.js';
import { joinAs } from '../helpers/join.js';
import { eventually, tempDir } from '../helpers/wait.js';
import { otherCa, rogueTlsServer } from './tls-helpers.js';

describe('the join token pins the cluster CA (issue 13)', () => {
  let master: Master;
  let api: Api;
  let dir: string;
  let other: Awaited<ReturnType<typeof otherCa>>;
  const agents: Agent[] = [];
  const run = async (args: string[], env: Record<string, string> = {}) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await cli(args, { stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), readStdin: async () => '', env });
    return { code, out: out.join(''), err: err.join('') };
  };

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, mqttsPort: 0, mqttHost: '127.0.0.1', httpPort: -1, quiet: true, engine: testEngine, mdns: false, podSecurityDefault: 'privileged' });
    api = await connectApi({ server: master.tlsUrl, user: 'admin', token: master.adminToken, ca: master.caPem, timeoutMs: 10_000 });
    other = await otherCa();
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop({ stopPods: true }).catch(() => undefined)));
    await api?.close();
    await master?.stop();
    await other?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('the join token and DATA/join.token carry the CA hash, which is the hash of DATA/tls/ca.crt', async () => {
    expect(master.joinToken).toMatch(/^skiff1:sha256:[0-9a-f]{64}::[A-Za-z0-9_-]{43}$/);
    expect((await readFile(join(dir, 'm', 'join.token'), 'utf8')).trim()).toBe(master.joinToken);
    const caPem = await readFile(join(dir, 'm', 'tls', 'ca.crt'), 'utf8');
    expect(master.joinToken.startsWith(`skiff1:${caHashOf(caPem)}::`)).toBe(true);
    expect((await stat(join(dir, 'm', 'tls', 'ca.key'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'm', 'tls'))).mode & 0o777).toBe(0o700);
  });

  it('a master whose certificate another CA signed is refused; it receives nothing but the TLS handshake', async () => {
    const rogue = await rogueTlsServer(other.ca);
    try {
      const err = await joinAs(`mqtts://127.0.0.1:${rogue.port}`, master.joinToken, 'victim-1', { joinTimeoutMs: 5000 }).catch((e: Error) => e);
      expect(err).toMatchObject({ code: 'SKIFF_ERR_UNAUTHORIZED' });
      expect((err as Error).message).toContain(`the master at 127.0.0.1:${rogue.port} presented a certificate not signed by the cluster CA (${master.caHash}) pinned in the join token`);
      await eventually(() => rogue.handshakes() === 1, "the handshake completed: the agent looked at the chain, then left");
      expect(rogue.received().length).toBe(0); // not a byte of MQTT: no CONNECT, no connect key, no node name
    } finally {
      await rogue.close();
    }
  });

  it('a token pinning another CA is refused by the real master too, naming the pinned hash', async () => {
    const wrong = formatJoinToken(other.ca.hash, joinSecret(master.joinToken));
    await expect(joinAs(master.tlsUrl, wrong, 'victim-2', { joinTimeoutMs: 5000 })).rejects.toThrow(`presented a certificate not signed by the cluster CA (${other.ca.hash}) pinned in the join token`);
    expect(await api.request('get', { kind: 'Node', name: 'victim-2' }).catch((e) => e.code)).toBe('SKIFF_ERR_NOT_FOUND');
  });

  it('a bare secret (no CA hash) is refused over mqtts, with the reason', async () => {
    await expect(joinAs(master.tlsUrl, joinSecret(master.joinToken), 'victim-3', { joinTimeoutMs: 5000 })).rejects.toThrow(/carries no CA hash/);
  });

  it('with the right token an agent joins over mqtts, gets a node certificate and runs a pod', async () => {
    const dataDir = join(dir, 'pi-tls');
    const agent = await startAgent({ master: master.tlsUrl, token: master.joinToken, name: 'pi-tls', dataDir, address: '127.0.0.1', leaseIntervalMs: 500, logger: quietLogger, proxy: false, mdns: false });
    agents.push(agent);
    expect((await stat(join(dataDir, 'node.key'))).mode & 0o777).toBe(0o600);
    const cert = new (await import('node:crypto')).X509Certificate(await readFile(join(dataDir, 'node.crt')));
    expect(cert.subject).toBe('CN=pi-tls\nO=skiff:nodes');
    expect(cert.verify(new (await import('node:crypto')).X509Certificate(master.caPem).publicKey)).toBe(true);
    expect(await readFile(join(dataDir, 'ca.crt'), 'utf8')).toBe(master.caPem);
    await api.request('apply', {
      manifest: `apiVersion: v1
kind: Pod
metadata: {name: over-tls}
spec:
  nodeName: pi-tls
  containers:
  - name: c
    command: [sleep, "1000"]
`,
    });
    await eventually(async () => isRunningReady(await api.request<Pod>('get', { kind: 'Pod', name: 'over-tls' })), 'the pod Running over mqtts');
  });

  it('skiff checks the master: the CA the master wrote works, another CA is refused with a clear message', async () => {
    const cfg = join(dir, 'm', 'config.json');
    const written = JSON.parse(await readFile(cfg, 'utf8'));
    expect(written.server).toBe(master.tlsUrl);
    expect(Buffer.from(written['certificate-authority-data'], 'base64').toString()).toBe(master.caPem);
    expect((await run(['--config', cfg, 'get', 'nodes'])).out).toMatch(/^pi-tls\s+Ready/m);

    const wrongCa = join(dir, 'other-ca.crt');
    await writeFile(wrongCa, other.ca.certPem);
    const refused = await run(['--config', cfg, '--certificate-authority', wrongCa, 'get', 'nodes']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`error: the master at ${master.tlsUrl} presented a certificate not signed by the cluster CA in the client config`);
    const noCa = await run(['--server', master.tlsUrl, '--token', master.adminToken, 'get', 'nodes']);
    expect(noCa.code).toBe(1);
    expect(noCa.err).toMatch(/presented a certificate not signed by a CA this machine trusts \(no cluster CA given/);
  });
});
