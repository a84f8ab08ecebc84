/**
 * One master on SQLite with an external broker (Mosquitto from `skiff broker-config`): it is the leader from the
 * start and takes the leader's topics at once — a board joins through the broker, the CLI's client finds the
 * external topics by itself, and the node's credential logs in to the broker (its account made at join).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import { startMaster, type Master } from '../../master/index.js';
import type { Node } from '../../protocol/index.js';
import { haveMosquitto, startMosquitto, type Mosquitto } from '../helpers/ha.js';
import { joinAs } from '../helpers/join.js';
import { ephemeralKey, joinExchange } from '../helpers/join-exchange.js';
import { tempDir } from '../helpers/wait.js';

describe.skipIf(!haveMosquitto)('HA: one master on SQLite with --broker', () => {
  let dir: string;
  let broker: Mosquitto;
  let master: Master;

  beforeAll(async () => {
    dir = await tempDir('skiff-sqlite-broker-');
    broker = await startMosquitto(join(dir, 'broker'));
    master = await startMaster({ dataDir: join(dir, 'm'), broker: broker.brokerUrl, mqttPort: -1, mqttsPort: 0, httpPort: -1, mdns: false, quiet: true, name: 'solo' });
  });
  afterAll(async () => {
    await master?.stop();
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('leads at once; a board joins through the broker and its credential logs in there', async () => {
    expect(master.leading).toBe(true);
    expect(master.mqttPort).toBe(-1); // no listener of its own
    const credential = await joinAs(broker.url, master.joinToken, 'solo-a');
    const api = await connectApi({ server: broker.url, user: 'admin', token: master.adminToken, timeoutMs: 5000 });
    const nodes = (await api.request<{ items: Node[] }>('list', { kind: 'Node' })).items;
    expect(nodes.map((n) => n.metadata.name)).toEqual(['solo-a']);
    await api.close();
    const agent = await mqtt.connectAsync(broker.url, { username: 'solo-a', password: credential, protocolVersion: 4, clientId: 'skiff-agent-solo-a', reconnectPeriod: 0 });
    await agent.subscribeAsync('skiff/v1/nodes/solo-a/desired', { qos: 1 });
    await expect(agent.subscribeAsync('skiff/v1/nodes/other/desired', { qos: 1 })).rejects.toThrow();
    await agent.endAsync();
  });

  it('a retried join through Mosquitto gets a fresh credential for its node; another joiner is refused', async () => {
    const key = ephemeralKey();
    const first = await joinExchange(broker.url, master.joinToken, 'solo-retry', key, true);
    const again = await joinExchange(broker.url, master.joinToken, 'solo-retry', key, true);
    expect(first.ok && again.ok).toBe(true);
    const other = await joinExchange(broker.url, master.joinToken, 'solo-retry', ephemeralKey(), true);
    expect(other).toMatchObject({ ok: false, code: 'SKIFF_ERR_JOIN_REJECTED' });
    // The broker account has the fresh credential's password, not the unread one's.
    const login = (password: string) => mqtt.connectAsync(broker.url, { username: 'solo-retry', password, protocolVersion: 4, clientId: 'skiff-agent-solo-retry', reconnectPeriod: 0 }).then((c) => (c.end(true), true), () => false);
    expect(again.ok && (await login(again.credential))).toBe(true);
    expect(first.ok && (await login(first.credential))).toBe(false);
  });
});
