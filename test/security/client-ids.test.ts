/**
 * Issue 9, item 1: client ids are data, never topic levels. The attack: a view token connects with client id `#`
 * (or `+`), which made its ACL `api/#/res`, subscribes to every client's answers and reads a freshly created
 * admin token. Replayed over real MQTT against a real master: the CONNECT is refused (CONNACK 2, identifier
 * rejected), a well-formed id reaches only its own answers, and answers never go to another identity that
 * later connects with the asker's id.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Api } from '../../cli/types.js';
import { Audit } from '../../master/api/audit.js';
import { ApiServer } from '../../master/api/server.js';
import type { ApiContext } from '../../master/api/types.js';
import type { Identity } from '../../master/broker/acl.js';
import type { Master } from '../../master/index.js';
import { decode, encode, topics } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';
import { contains, rawConnect, masterWithViewer, type ViewerSetup } from './helpers.js';

const run = promisify(execFile);

function connect(m: Master, username: string, password: string, clientId: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(m.url, { protocolVersion: 4, username, password, clientId, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

describe('client ids are data (issue 9, item 1)', () => {
  let master: Master;
  let admin: Api;
  let setup: ViewerSetup;
  let viewSecret: string;

  beforeAll(async () => {
    setup = await masterWithViewer();
    ({ master, admin, viewSecret } = setup);
  });
  afterAll(async () => {
    await setup?.stop();
  });

  it.each([
    ['#', true],
    ['+', true],
    ['a/b', true],
    ['nul\u0000byte', true],
    ['x'.repeat(129), true],
    ['', false], // an empty id with a persistent session: the server cannot assign one [MQTT-3.1.3-8]
  ])('a CONNECT with client id %j (clean %s) is refused with CONNACK 2', async (clientId, clean) => {
    expect(await rawConnect(master.mqttPort, { clientId, username: 'viewer', password: viewSecret, clean })).toBe(2);
  });

  it('accepts well-formed ids and an empty id with a clean session (mosquitto_pub without -i)', async () => {
    expect(await rawConnect(master.mqttPort, { clientId: 'grafana-1.local:7', username: 'viewer', password: viewSecret })).toBe(0);
    expect(await rawConnect(master.mqttPort, { clientId: '', username: 'viewer', password: viewSecret })).toBe(0);
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(master.mqttPort), '-V', 'mqttv311', '-i', 'plain-client-1', '-u', 'admin', '-P', master.adminToken, '-q', '1', '-t', topics.apply, '-m', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n']);
    await eventually(() => admin.request('get', { kind: 'ConfigMap', name: 'plain' }).then(() => true, () => false), 'the ConfigMap applied with mosquitto_pub -i');
    await expect(run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(master.mqttPort), '-V', 'mqttv311', '-i', 'a/b', '-u', 'admin', '-P', master.adminToken, '-t', topics.apply, '-m', 'x'])).rejects.toThrow();
  });

  it('a view token reads no answer but its own while an admin creates a token', async () => {
    const spy = await connect(master, 'viewer', viewSecret, 'spy-1');
    const seen: Buffer[] = [];
    spy.on('message', (_t, p) => seen.push(Buffer.from(p)));
    for (const filter of ['skiff/v1/api/#', 'skiff/v1/api/+/res', topics.apiRes('skiff-cli-admin'), 'skiff/v1/#', '#'])
      await expect(spy.subscribeAsync(filter)).rejects.toThrow(); // SUBACK 128; the connection stays up
    await spy.subscribeAsync(topics.apiRes('spy-1'));
    const created = (await admin.request<{ token: string }>('token', { action: 'create', name: 'ops', access: 'admin' })).token;
    // The spy's own request still works: it sees that answer and nothing else.
    spy.publish(topics.apiReq('spy-1'), encode({ id: 'q1', verb: 'version' }));
    await eventually(() => seen.length > 0, "the spy's own answer");
    expect(seen.map((b) => decode<{ id: string }>(b).value.id)).toEqual(['q1']);
    expect(seen.some((b) => contains(b, created))).toBe(false);
    spy.end(true);
  });
});

describe('answers go only to the identity that asked', () => {
  const viewer: Identity = { role: 'user', name: 'viewer', access: 'view' };
  const other: Identity = { role: 'user', name: 'mallory', access: 'view' };

  it.each([
    ['the asker is still connected', 1, viewer],
    ['another identity now holds the client id', 0, other],
    ['nobody holds it any more', 0, undefined],
  ] as const)('%s: %i answer(s) published', async (_what, published, holder) => {
    const out: string[] = [];
    const quiet = { debug() {}, info() {}, warn() {}, error() {} };
    const ctx = { holderOf: () => holder, version: '0', log: quiet, audit: new Audit(quiet) } as unknown as ApiContext;
    const server = new ApiServer(ctx, async (topic) => void out.push(topic));
    await server.onRequest('cli-1', viewer, encode({ id: 'a', verb: 'version' }));
    expect(out).toEqual(published ? [topics.apiRes('cli-1')] : []);
  });
});
