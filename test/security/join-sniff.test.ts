/**
 * Issue 9, item 6: join answers could be sniffed. The answer topic depended only on the node name, so another
 * holder of the join token subscribed to `join/{node}/res` first and got the new node's credential byte for byte.
 * Replayed against a real master, with the attacker given every advantage: she holds the join token, and a
 * sniffer in the victim's path tells her the victim's session id before the master sees the hello. She
 * subscribes to that session's answers and injects her own proof on it: the master ignores her (a session
 * belongs to the connection that opened it), and what she receives is sealed to the victim's key.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import type { Packet, IPublishPacket } from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type Master } from '../../master/index.js';
import { decode, encode, topics } from '../../protocol/index.js';
import { connectKey, ephemeralKey, newNonce, open, transcriptOf } from '../../protocol/join.js';
import { joinSecret } from '../../protocol/join-token.js';
import { testEngine } from '../helpers/cluster.js';
import { joinAs } from '../helpers/join.js';
import { eventually, tempDir } from '../helpers/wait.js';
import { contains, startRelay } from './helpers.js';

function connect(url: string, username: string, password: string, clientId: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 4, username, password, clientId, reconnectPeriod: 0 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

describe('a join answer reaches only the connection that asked (issue 9, item 6)', () => {
  let master: Master;
  let dir: string;

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine });
  });
  afterAll(async () => {
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("the old attack: a join-token holder subscribing to the node's answer topic gets nothing", async () => {
    const eve = await connect(master.url, 'eve', connectKey(joinSecret(master.joinToken)), 'eve-1');
    for (const filter of ['skiff/v1/join/victim/res', 'skiff/v1/join/+/res', 'skiff/v1/join/#', 'skiff/v1/#', '#']) await expect(eve.subscribeAsync(filter)).rejects.toThrow();
    const got: Buffer[] = [];
    eve.on('message', (_t, p) => got.push(p));
    await joinAs(master.url, master.joinToken, 'victim');
    expect(got).toEqual([]);
    eve.end(true);
  });

  it('an attacker who learns the session id gets only what is sealed to the victim, and cannot steer the session', async () => {
    const eve = await connect(master.url, 'eve', connectKey(joinSecret(master.joinToken)), 'eve-2');
    const received: { topic: string; payload: Buffer }[] = [];
    eve.on('message', (topic, payload) => received.push({ topic, payload: Buffer.from(payload) }));
    let hello: IPublishPacket | undefined;
    // The sniffer: holds the victim's hello until Eve listens on its session, and the victim's proof until Eve
    // has put her own proof on that session first (the master handles one session's messages in order).
    const relay = await startRelay(master.mqttPort, async (p: Packet) => {
      if (p.cmd !== 'publish' || !p.topic.startsWith('skiff/v1/join/')) return;
      const session = p.topic.split('/')[3];
      const step = decode<{ step: string }>(p.payload as Buffer).value.step;
      if (step === 'hello') {
        hello = p;
        await eve.subscribeAsync(topics.joinRes(session), { qos: 1 });
      } else if (step === 'proof') await eve.publishAsync(topics.joinReq(session), encode({ step: 'proof', proof: newNonce() }), { qos: 1 });
    });
    try {
      const credential = await joinAs(relay.url, master.joinToken, 'victim-2');
      await eventually(() => received.some((m) => decode<{ step: string }>(m.payload).value.step === 'result'), 'the sealed result to reach Eve too');
      expect(hello).toBeDefined();
      // Eve saw the challenge and the sealed result — and no credential in them, in the clear or opened with a key of hers.
      for (const m of received) expect(contains(m.payload, credential)).toBe(false);
      const result = decode<{ ok: boolean; key: string; iv: string; sealed: string }>(received.find((m) => decode<{ step: string }>(m.payload).value.step === 'result')!.payload).value;
      expect(result.ok).toBe(true);
      const challenge = decode<{ nonce: string }>(received[0].payload).value;
      expect(() => open(result, ephemeralKey(), transcriptOf(hello!.payload as Buffer, challenge.nonce))).toThrow();
      // Her injected proof did not end the victim's session (it joined), and she got no second credential.
      expect(received.filter((m) => decode<{ step: string }>(m.payload).value.step === 'result')).toHaveLength(1);
    } finally {
      eve.end(true);
      await relay.close();
    }
  });
});
