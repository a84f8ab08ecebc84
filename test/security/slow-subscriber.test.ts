/**
 * A subscriber that does not read (master/broker/slow-subscriber.ts). Before, a view token subscribed to the events
 * on a socket it never read held the broker queue's delivery slots: another watcher got 131 of 600 events in 30 s,
 * and the queue grew for as long as events came. Replayed against a real master over a raw socket: the other
 * subscriber gets every event at once, and the one that does not read is disconnected.
 */
import net from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAsync, type MqttClient } from 'mqtt';
import { maxUnwrittenBytes } from '../../master/broker/slow-subscriber.js';
import { startMaster, type Master } from '../../master/index.js';
import { topics } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';
import { connectPacket, packet } from './helpers.js';

describe('a subscriber that does not read holds nobody up', () => {
  let master: Master;
  let dir: string;
  let viewSecret: string;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine });
    const admin = await connectAsync(master.url, { username: 'admin', password: master.adminToken, clientId: 'admin-1', reconnectPeriod: 0 });
    clients.push(admin);
    viewSecret = await new Promise<string>((resolve, reject) => {
      admin.on('message', (_t, p) => {
        const res = JSON.parse(p.toString()) as { ok: boolean; result?: { token: string } };
        return res.ok ? resolve(res.result!.token) : reject(new Error(p.toString()));
      });
      void admin.subscribeAsync(topics.apiRes('admin-1')).then(() => admin.publishAsync(topics.apiReq('admin-1'), JSON.stringify({ id: '1', verb: 'token', action: 'create', name: 'viewer', access: 'view' })));
    });
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('events flow to a reader while another subscriber never reads; that one is disconnected', async () => {
    const slow = net.connect(master.mqttPort, '127.0.0.1');
    slow.on('error', () => undefined);
    await new Promise((r) => slow.once('connect', r));
    slow.write(connectPacket({ clientId: 'slow-sub', username: 'viewer', password: viewSecret }));
    await new Promise((r) => slow.once('data', r)); // CONNACK
    slow.write(packet({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: topics.events, qos: 1 }] }));
    await new Promise((r) => slow.once('data', r)); // SUBACK
    slow.pause();

    const reader = await connectAsync(master.url, { username: 'viewer', password: viewSecret, clientId: 'reader', reconnectPeriod: 0 });
    clients.push(reader);
    let got = 0;
    let bytes = 0;
    reader.on('message', (_t, p) => ((got += 1), (bytes += p.length)));
    await reader.subscribeAsync(topics.events, { qos: 0 });

    // Each apply on the topic is one event naming its 100 objects (~20 KB); the same objects each time (unchanged).
    const applier = await connectAsync(master.url, { username: 'admin', password: master.adminToken, clientId: 'applier', reconnectPeriod: 0 });
    clients.push(applier);
    const manifest = Array.from({ length: 100 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}-${'n'.repeat(180)}\ndata:\n  a: "b"\n`).join('---\n');
    const applies = 600;
    for (let i = 0; i < applies; i++) await applier.publishAsync(topics.apply, manifest, { qos: 1 });
    await eventually(() => got >= applies, `the reader got all ${applies} events (got ${got})`, 10_000);
    expect(bytes).toBeGreaterThan(2 * maxUnwrittenBytes); // more than the bound was sent to the one that does not read

    // It was disconnected: reading now, it gets what its socket held, then the end.
    let slowBytes = 0;
    slow.on('data', (d: Buffer) => (slowBytes += d.length));
    const closed = new Promise<void>((r) => slow.once('close', () => r()));
    slow.resume();
    await closed;
    expect(slowBytes).toBeLessThan(bytes);
  }, 120_000);
});
