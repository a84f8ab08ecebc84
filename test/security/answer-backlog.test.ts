/**
 * A client that asks and never reads its answers (master/api/request-gate.ts). Before the gate a view token took
 * 300 `list configmaps` (10,000 ConfigMaps, a different label selector each, ~2 MB an answer) on a socket it never
 * read, and the master kept every answer in the socket's buffer: +600 MB in a few seconds, never bounded. Replayed
 * against a real master in this process (its memory is ours to watch) over a raw socket; then a client that asks
 * as much and reads gets every answer.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { requestLimits } from '../../master/api/request-gate.js';
import type { Master } from '../../master/index.js';
import { topics } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';
import { connectPacket, packet, masterWithViewer, type ViewerSetup } from './helpers.js';

const MiB = 1024 * 1024;
const configMaps = 10_000;

/** Logs in over a raw socket and subscribes to the client's answers; the socket is left paused (nothing read). */
async function rawViewer(port: number, clientId: string, password: string): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.write(connectPacket({ clientId, username: 'viewer', password }));
  await new Promise((r) => s.once('data', r)); // CONNACK
  s.write(packet({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: topics.apiRes(clientId), qos: 0 }] }));
  await new Promise((r) => s.once('data', r)); // SUBACK
  s.pause();
  return s;
}

describe('answers to a client that does not read them are bounded', () => {
  let master: Master;
  let admin: Api;
  let setup: ViewerSetup;
  let viewSecret: string;

  beforeAll(async () => {
    setup = await masterWithViewer(30_000);
    ({ master, admin, viewSecret } = setup);
    const doc = (i: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  a: "${'x'.repeat(150)}"\n`;
    for (let at = 0; at < configMaps; at += 500) await admin.request('apply', { manifest: Array.from({ length: 500 }, (_, i) => doc(at + i)).join('---\n') });
  }, 120_000);
  afterAll(async () => {
    await setup?.stop();
  });

  it('300 lists on a socket nobody reads: the master holds a bounded few answers and disconnects the client', async () => {
    const s = await rawViewer(master.mqttPort, 'slow-viewer', viewSecret);
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)), 20);
    let sent = 0;
    for (; sent < 300 && !s.destroyed; sent++) {
      // A selector of its own each: no two answers share their bytes.
      const req = { id: `r${sent}`, verb: 'list', kind: 'ConfigMap', namespace: 'default', labelSelector: `a notin (x${sent})` };
      s.write(packet({ cmd: 'publish', topic: topics.apiReq('slow-viewer'), qos: 0, payload: Buffer.from(JSON.stringify(req)) }));
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.race([closed, new Promise((r) => setTimeout(r, 10_000))]);
    clearInterval(sampler);
    expect(s.destroyed).toBe(true); // disconnected once its waiting line was full
    // Each answer is ~2 MB: the slots' answers, not 300 of them (before: +600 MB).
    const grew = (peak - before) / MiB;
    expect(grew).toBeLessThan(requestLimits.inFlight * 2 * 3 + 32);
    // The master goes on, for others and for the same token on a new connection.
    expect((await admin.request<{ version: string }>('version')).version).toMatch(/^v/);
    const viewer = await connectApi({ server: master.url, user: 'viewer', token: viewSecret, timeoutMs: 30_000 });
    try {
      expect((await viewer.request<{ items: unknown[] }>('list', { kind: 'ConfigMap', namespace: 'default' })).items).toHaveLength(configMaps);
    } finally {
      await viewer.close();
    }
  }, 60_000);

  it('a client that asks as much and reads gets every answer, in turn', async () => {
    const viewer = await connectApi({ server: master.url, user: 'viewer', token: viewSecret, timeoutMs: 60_000 });
    try {
      const n = requestLimits.inFlight * 5;
      const lists = await Promise.all(Array.from({ length: n }, (_, i) => viewer.request<{ items: unknown[] }>('list', { kind: 'ConfigMap', namespace: 'default', labelSelector: `a notin (y${i})` })));
      expect(lists.map((l) => l.items.length)).toEqual(Array(n).fill(configMaps));
      await eventually(async () => (await viewer.request<{ version: string }>('version')).version, 'the same client asks on');
    } finally {
      await viewer.close();
    }
  }, 60_000);
});
