/**
 * Issue 9, item 4: a rogue master on the LAN. `skiff-agent join` without --master trusts the first mDNS answer; it
 * used to send the join token in the clear to whoever answered. Replayed against a real master: an impostor (a
 * broker that does not know the token) and a relay (forwarding everything to the real master, the strongest
 * rogue) are both offered to an agent as "found by mDNS". Neither learns the token, the credential, or the
 * agent's proof; the real master refuses the relayed join; no Node and no credential appear.
 */
import { rm } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { startAgent } from '../../edge-agent/index.js';
import { startMaster, type Master } from '../../master/index.js';
import { decode, encode, topics, type Node } from '../../protocol/index.js';
import { newNonce } from '../../protocol/join.js';
import { chooseMaster, saveStoredMaster } from '../../edge-agent/discovery/choice.js';
import { quietLogger, testEngine } from '../helpers/cluster.js';
import { joinAs } from '../helpers/join.js';
import { tempDir } from '../helpers/wait.js';
import { contains, startRelay } from './helpers.js';

/** A broker that accepts anyone, records every byte, and answers join hellos with a made-up challenge. */
async function startImpostor(): Promise<{ url: string; bytes: () => Buffer; steps: string[]; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const steps: string[] = [];
  const broker = await Aedes.createBroker({ authenticate: (_c, _u, _p, done) => done(null, true) });
  broker.on('publish', (p, client) => {
    if (!client || !p.topic.startsWith('skiff/v1/join/')) return;
    const m = decode<{ step: string }>(p.payload as Buffer).value;
    steps.push(m.step);
    const session = p.topic.split('/')[3];
    if (m.step === 'hello')
      broker.publish({ cmd: 'publish', topic: topics.joinRes(session), payload: encode({ step: 'challenge', nonce: newNonce(), proof: newNonce() }), qos: 1, retain: false, dup: false } as never, () => undefined);
  });
  const server = net.createServer((s) => {
    s.on('data', (b) => chunks.push(Buffer.from(b)));
    broker.handle(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    bytes: () => Buffer.concat(chunks),
    steps,
    close: async () => {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

describe('a rogue master found by mDNS (issue 9, item 4)', () => {
  let master: Master;
  let admin: Api;
  let dir: string;
  const nodes = async () => (await admin.request<{ items: Node[] }>('list', { kind: 'Node' })).items.map((n) => n.metadata.name);
  const credentials = async () => (await admin.request<{ items: { node: string }[] }>('token', { action: 'list', nodes: true })).items.map((n) => n.node);

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine });
    admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await admin?.close();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('an impostor that does not know the token gets neither the token nor a proof; the agent stops', async () => {
    const rogue = await startImpostor();
    try {
      const start = startAgent({ master: rogue.url, discovered: true, token: master.joinToken, name: 'victim-1', dataDir: join(dir, 'victim-1'), address: '127.0.0.1', logger: quietLogger, joinTimeoutMs: 5000 });
      await expect(start).rejects.toMatchObject({ code: 'SKIFF_ERR_UNAUTHORIZED', message: expect.stringContaining('could not prove it knows the join token') });
      expect(rogue.steps).toEqual(['hello']); // no proof was ever sent to it
      expect(contains(rogue.bytes(), master.joinToken)).toBe(false);
    } finally {
      await rogue.close();
    }
  });

  it('a relay to the real master is refused by the master; nothing secret crosses it and nothing is created', async () => {
    const relay = await startRelay(master.mqttPort);
    try {
      const start = startAgent({ master: relay.url, discovered: true, token: master.joinToken, name: 'victim-2', dataDir: join(dir, 'victim-2'), address: '127.0.0.1', logger: quietLogger, joinTimeoutMs: 5000 });
      await expect(start).rejects.toMatchObject({ code: 'SKIFF_ERR_JOIN_REJECTED', message: expect.stringContaining('not an address of this master') });
      expect(contains(relay.fromClient(), master.joinToken)).toBe(false);
      expect(await nodes()).not.toContain('victim-2');
      expect(await credentials()).not.toContain('victim-2');
    } finally {
      await relay.close();
    }
  });

  it('the real master, dialled directly, proves itself and the agent joins; the token is never on the wire', async () => {
    const relay = await startRelay(master.mqttPort); // an explicit --master through a recording hop: it sees only HMACs and ciphertext
    try {
      const credential = await joinAs(relay.url, master.joinToken, 'direct-1');
      const all = Buffer.concat([relay.fromClient(), relay.fromServer()]);
      expect(contains(all, master.joinToken)).toBe(false);
      expect(contains(all, credential)).toBe(false);
    } finally {
      await relay.close();
    }
    const agent = await startAgent({ master: master.url, discovered: true, token: master.joinToken, name: 'found-1', dataDir: join(dir, 'found-1'), address: '127.0.0.1', logger: quietLogger, proxy: false });
    try {
      const c = mqtt.connect(master.url, { protocolVersion: 4, username: 'found-1', password: (await import('node:fs')).readFileSync(join(dir, 'found-1', 'credential'), 'utf8').trim(), clientId: 'probe-found-1', reconnectPeriod: 0 });
      await new Promise((r, j) => (c.once('connect', r), c.once('error', j)));
      c.end(true);
      // A later start without --master uses the master it joined, not whatever answers on the LAN then.
      const lines: string[] = [];
      const chosen = await chooseMaster({ storedFile: join(dir, 'found-1', 'master.json') }, { ...quietLogger, info: (l: string) => void lines.push(l) });
      expect(chosen.url).toBe(master.url);
      expect(lines.join('\n')).toContain(`using the master this node joined through mDNS: ${master.url}`);
    } finally {
      await agent.stop();
    }
  });

  it('says which master it picked', async () => {
    const lines: string[] = [];
    const log = { ...quietLogger, info: (l: string) => void lines.push(l) };
    const found = await chooseMaster({ storedFile: join(dir, 'none.json') }, log, async () => ({ url: 'mqtt://10.9.8.6:1883', instance: 'Skiff master on "shed"' }));
    expect(found.url).toBe('mqtt://10.9.8.6:1883');
    expect(lines).toEqual(['picked the master at mqtt://10.9.8.6:1883, mDNS instance "Skiff master on \\"shed\\"" (the first that answered); it must prove it knows the join token before anything secret is sent']);
    lines.length = 0;
    const file = join(dir, 'picked.json');
    await saveStoredMaster(file, { url: 'mqtt://10.9.8.7:1883', instance: 'Skiff master on greenhouse' });
    await chooseMaster({ storedFile: file }, log);
    expect(lines).toEqual(['using the master this node joined through mDNS: mqtt://10.9.8.7:1883 ("Skiff master on greenhouse"); pass --master to use another']);
  });
});
