/**
 * TLS to the external broker (docs/ha.md "TLS to the broker"), on a real Mosquitto: `skiff broker-config mosquitto
 * --tls --cluster-dir DATA` writes a TLS listener whose certificate the cluster CA signs (making the CA before the
 * first master starts); the master connects with `mqtts://...&ca-file=`, an agent joins checking the broker against
 * the CA pinned in its join token, the CLI checks it against the CA in its config; plain MQTT and a client trusting
 * another CA get nowhere.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import { startMaster, type Master } from '../../master/index.js';
import { loadOrCreateCa } from '../../master/tls/ca.js';
import type { Node } from '../../protocol/index.js';
import { haveMosquitto, startMosquitto, type Mosquitto } from '../helpers/ha.js';
import { joinAs } from '../helpers/join.js';
import { tempDir } from '../helpers/wait.js';

describe.skipIf(!haveMosquitto)('HA: TLS to the external broker', () => {
  let dir: string;
  let broker: Mosquitto;
  let master: Master;

  beforeAll(async () => {
    dir = await tempDir('skiff-broker-tls-');
    broker = await startMosquitto(join(dir, 'broker'), undefined, true, { clusterDir: join(dir, 'm') });
    master = await startMaster({ dataDir: join(dir, 'm'), broker: broker.brokerUrl, mqttPort: -1, mqttsPort: 0, httpPort: -1, mdns: false, quiet: true, name: 'tls' });
  });
  afterAll(async () => {
    await master?.stop();
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the master, an agent and the CLI speak TLS to Mosquitto, each checking it against the cluster CA', async () => {
    expect(broker.brokerUrl).toMatch(/^mqtts:\/\/skiff-master@127\.0\.0\.1:\d+\?password-file=.*&ca-file=.*ca\.crt$/);
    expect(broker.url).toMatch(/^mqtts:/);
    // The CA broker-config made is the one the master took up.
    expect(readFileSync(join(dir, 'broker', 'ca.crt'), 'utf8')).toBe(master.caPem);
    const credential = await joinAs(broker.url, master.joinToken, 'tls-a');
    expect(credential.length).toBeGreaterThan(20);
    const api = await connectApi({ server: broker.url, user: 'admin', token: master.adminToken, ca: master.caPem, timeoutMs: 5000 });
    expect((await api.request<{ items: Node[] }>('list', { kind: 'Node' })).items.map((n) => n.metadata.name)).toEqual(['tls-a']);
    await api.close();
  });

  it('plain MQTT on the TLS port and a client trusting another CA are refused', async () => {
    const plain = broker.url.replace('mqtts:', 'mqtt:');
    await expect(mqtt.connectAsync(plain, { username: 'admin', password: master.adminToken, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000 })).rejects.toThrow();
    const other = await loadOrCreateCa(join(dir, 'other'));
    await expect(connectApi({ server: broker.url, user: 'admin', token: master.adminToken, ca: other.certPem, timeoutMs: 3000 })).rejects.toThrow(/certificate|verify|CA/i);
  });
});
