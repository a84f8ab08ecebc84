/**
 * MQTT over WebSocket on the HTTPS port (`wss://.../mqtt`), with mqtt.js as the browser would use it: the same
 * authentication (a bad token is refused with CONNACK 4/5), the same ACL (a view token may not publish
 * an apply: its connection is closed), the same verbs and access rules (`whoami`, a refused `scale`),
 * and nothing but `/mqtt` upgrades.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaster, type Master } from '../../master/index.js';
import { tempDir } from '../helpers/wait.js';

async function connectWs(m: Master, user: string, password: string): Promise<MqttClient> {
  const client = mqtt.connect(`wss://127.0.0.1:${m.httpPort}/mqtt`, { ca: m.caPem, username: user, password, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, clientId: `dash-test-${Math.random().toString(36).slice(2)}` });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

/** One JSON request over the connection, as the dashboard sends it. */
async function request(client: MqttClient, verb: string, params: Record<string, unknown> = {}): Promise<{ ok: boolean; result?: any; error?: { code: string; message: string } }> {
  const id = Math.random().toString(36).slice(2);
  const res = `skiff/v1/api/${client.options.clientId}/res`;
  await client.subscribeAsync(res);
  const answer = new Promise<any>((resolve) => client.on('message', (_t, p) => {
    const m = JSON.parse(p.toString());
    if (m.id === id) resolve(m);
  }));
  await client.publishAsync(`skiff/v1/api/${client.options.clientId}/req`, JSON.stringify({ id, verb, ...params }), { qos: 1 });
  return answer;
}

describe('MQTT over WebSocket at /mqtt', () => {
  let master: Master;
  let viewer = '';
  beforeAll(async () => {
    const dir = await tempDir('skiff-ws-');
    master = await startMaster({ dataDir: dir, mqttPort: 0, httpPort: 0, mqttHost: '127.0.0.1', httpHost: '127.0.0.1', quiet: true, mdns: false });
    const admin = await connectWs(master, 'admin', master.adminToken);
    viewer = (await request(admin, 'token', { action: 'create', name: 'wall', access: 'view' })).result.token;
    admin.end(true);
  });
  afterAll(async () => master?.stop());

  it('refuses a bad token', async () => {
    await expect(connectWs(master, 'admin', 'not-the-token')).rejects.toMatchObject({ code: 4 });
    await expect(connectWs(master, 'wall', master.adminToken)).rejects.toMatchObject({ code: 4 });
  });

  it('serves the API verbs with the token\'s access', async () => {
    const admin = await connectWs(master, 'admin', master.adminToken);
    expect((await request(admin, 'whoami')).result).toMatchObject({ name: 'admin', access: 'admin', verbs: expect.arrayContaining(['scale', 'delete', 'exec']) });
    expect((await request(admin, 'list', { kind: 'Namespace' })).result.items.map((n: any) => n.metadata.name)).toContain('default');
    admin.end(true);
    const wall = await connectWs(master, 'wall', viewer);
    const me = (await request(wall, 'whoami')).result;
    expect(me).toMatchObject({ name: 'wall', role: 'user', access: 'view' });
    expect(me.verbs).not.toContain('scale');
    expect(me.verbs).toEqual(expect.arrayContaining(['get', 'list', 'watch', 'logs', 'top']));
    expect(await request(wall, 'scale', { kind: 'Deployment', name: 'x', replicas: 3 })).toMatchObject({ ok: false, error: { code: 'SKIFF_ERR_FORBIDDEN' } });
    wall.end(true);
  });

  it('applies the topic ACL: a view token\'s apply creates nothing; publishing a node\'s status disconnects it', async () => {
    // A view token may publish on the apply topic (the API refuses it with an event, docs/security.md) …
    const viewApply = await connectWs(master, 'wall', viewer);
    await viewApply.subscribeAsync('skiff/v1/events');
    const refused = new Promise<string>((resolve) =>
      viewApply.on('message', (_t, payload) => {
        const e = JSON.parse(payload.toString()) as { reason?: string; message?: string };
        if (e.reason === 'ApplyFailed') resolve(e.message ?? '');
      }),
    );
    viewApply.publish('skiff/v1/apply', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: sneaky}\n', { qos: 1 });
    expect(await refused).toContain('may not apply');
    // … but a topic outside its ACL ends the connection.
    const wall = await connectWs(master, 'wall', viewer);
    const closed = new Promise<void>((r) => wall.once('close', () => r()));
    wall.publish('skiff/v1/nodes/pi-1/status', 'forged', { qos: 1 });
    await closed;
    wall.end(true);
    const admin = await connectWs(master, 'admin', master.adminToken);
    expect((await request(admin, 'get', { kind: 'Namespace', name: 'sneaky' })).error?.code).toBe('SKIFF_ERR_NOT_FOUND');
    admin.end(true);
    viewApply.end(true);
  });

  it('upgrades /mqtt only', async () => {
    const client = mqtt.connect(`wss://127.0.0.1:${master.httpPort}/elsewhere`, { ca: master.caPem, username: 'admin', password: master.adminToken, reconnectPeriod: 0, connectTimeout: 3000 });
    await new Promise<void>((resolve) => {
      client.once('error', () => resolve());
      client.once('close', () => resolve());
    });
    expect(client.connected).toBe(false);
    client.end(true);
  });
});
