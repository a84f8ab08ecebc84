/**
 * The master's MQTT surface with real clients: authentication, the ACL, the request/response API,
 * apply by plain publish (mqtt.js and mosquitto_pub), and bad input that must never crash the master
 * or lose stored state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { startMaster, type Master } from '../../master/index.js';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { decode, encode, topics, type EventMessage } from '../../protocol/index.js';
import { connectKey } from '../../protocol/join.js';
import { joinSecret } from '../../protocol/join-token.js';
import { httpsGet } from '../helpers/https.js';
import { joinAs } from '../helpers/join.js';
import { eventually, tempDir } from '../helpers/wait.js';
import { testEngine } from '../helpers/cluster.js';

const run = promisify(execFile);

function connect(m: Master, username: string | undefined, password: string | undefined, clientId?: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(m.url, { protocolVersion: 4, username, password, clientId, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

/** Resolves when the client's connection closes (the broker kicked it). */
const closed = (c: MqttClient) => new Promise<void>((r) => c.once('close', () => r()));

describe('master MQTT surface', () => {
  let master: Master;
  let api: Api;
  let dir: string;
  const events: EventMessage[] = [];
  let watcher: MqttClient;

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: 0, mqttHost: '127.0.0.1', httpHost: '127.0.0.1', quiet: true, engine: testEngine, podSecurityDefault: 'privileged' });
    api = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 5000 });
    watcher = await connect(master, 'admin', master.adminToken);
    await watcher.subscribeAsync(topics.events);
    watcher.on('message', (_t, p) => events.push(decode<EventMessage>(p).value));
  });
  afterAll(async () => {
    watcher?.end(true);
    await api?.close();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connect(master, undefined, undefined)).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(connect(master, 'admin', 'wrong')).rejects.toThrow(/Bad username or password/i);
    await expect(connect(master, 'pi-1', 'wrong')).rejects.toThrow(/Bad username or password/i);
  });

  it('joins a node with the join token and accepts only its credential afterwards', async () => {
    // A joiner connects with the token's connect key; it may not read the answers of other join sessions.
    const joiner = await connect(master, 'pi-1', connectKey(joinSecret(master.joinToken)), 'skiff-join-pi-1');
    await expect(joiner.subscribeAsync('skiff/v1/join/+/res')).rejects.toThrow();
    await expect(joiner.subscribeAsync('skiff/v1/join/#')).rejects.toThrow();
    joiner.end(true);
    // The raw token is no longer a password.
    await expect(connect(master, 'pi-1', master.joinToken)).rejects.toThrow(/Bad username or password/i);
    const res = { credential: await joinAs(master.url, master.joinToken, 'pi-1') };
    const node = await connect(master, 'pi-1', res.credential, 'skiff-agent-pi-1');
    // The node may subscribe to its own desired set but not another node's.
    await node.subscribeAsync(topics.nodeDesired('pi-1'));
    await expect(node.subscribeAsync(topics.nodeDesired('pi-2'))).rejects.toThrow();
    // Publishing outside its own subtree closes its connection.
    const gone = closed(node);
    node.publish(topics.nodeStatus('pi-2'), encode({ node: 'pi-2', online: true }));
    await gone;
    // The credential is not valid for another name.
    await expect(connect(master, 'pi-2', res.credential)).rejects.toThrow(/Bad username or password/i);
  });

  it('fails a call to an agent at once when its Will arrives, not at the deadline', async () => {
    const res = { credential: await joinAs(master.url, master.joinToken, 'pi-3') };
    // A bare client playing the agent: it hears the RPC and never answers, then its link dies.
    const agent = mqtt.connect(master.url, {
      protocolVersion: 4, username: 'pi-3', password: res.credential, reconnectPeriod: 0,
      will: { topic: topics.nodeStatus('pi-3'), payload: encode({ node: 'pi-3', online: false }), qos: 1, retain: true },
    });
    await new Promise((r) => agent.once('connect', r));
    await agent.subscribeAsync(topics.nodeRpcReq('pi-3', '+'));
    const asked = new Promise<void>((r) => agent.once('message', () => r()));
    await api.request('apply', { manifest: 'apiVersion: v1\nkind: Pod\nmetadata: {name: ghost}\nspec: {nodeName: pi-3, containers: [{name: g, command: [sleep, "9"]}]}\n' });
    const t0 = Date.now();
    const outcome = api.request('logs', { name: 'ghost' }).then(() => undefined, (err) => err);
    await asked;
    (agent as unknown as { stream: { destroy(): void } }).stream.destroy(); // no DISCONNECT: the broker sends the Will
    const err = await outcome;
    expect(err).toMatchObject({ code: 'SKIFF_ERR_UNAVAILABLE', message: 'node pi-3 went offline' });
    expect(Date.now() - t0).toBeLessThan(4000);
    agent.end(true);
    await api.request('delete', { kind: 'Pod', name: 'ghost', force: true });
  });

  it('serves apply, get, list, scale and delete', async () => {
    const manifest = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {team: greenhouse}}
data: {interval: "5s"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sensor}
spec:
  replicas: 0
  selector: {matchLabels: {app: sensor}}
  template:
    metadata: {labels: {app: sensor}}
    spec: {containers: [{name: s, command: [sleep, "100"]}]}
`;
    const first = await api.request<{ results: { action: string; name: string }[] }>('apply', { manifest });
    expect(first.results.map((r) => [r.name, r.action])).toEqual([['settings', 'created'], ['sensor', 'created']]);
    const again = await api.request<{ results: { action: string }[] }>('apply', { manifest });
    expect(again.results.map((r) => r.action)).toEqual(['unchanged', 'unchanged']);
    const changed = await api.request<{ results: { action: string }[] }>('apply', { manifest: manifest.replace('"5s"', '"10s"') });
    expect(changed.results.map((r) => r.action)).toEqual(['configured', 'unchanged']);

    const cm = await api.request<any>('get', { kind: 'cm', name: 'settings' });
    expect(cm.data).toEqual({ interval: '10s' });
    expect(cm.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(cm.metadata.resourceVersion)).toBeGreaterThan(0);
    const listed = await api.request<any>('list', { kind: 'configmaps', labelSelector: 'team=greenhouse' });
    expect(listed.kind).toBe('List');
    expect(listed.items.map((o: any) => o.metadata.name)).toEqual(['settings']);
    expect((await api.request<any>('list', { kind: 'cm', labelSelector: 'team=other' })).items).toEqual([]);

    const scaled = await api.request<any>('scale', { kind: 'deploy', name: 'sensor', replicas: 0 });
    expect(scaled.spec.replicas).toBe(0);
    await expect(api.request('scale', { kind: 'cm', name: 'settings', replicas: 2 })).rejects.toThrow(/cannot be scaled/);
    await api.request('delete', { kind: 'ConfigMap', name: 'settings' });
    await expect(api.request('get', { kind: 'ConfigMap', name: 'settings' })).rejects.toThrow('configmaps "settings" not found in namespace "default"');
  });

  it('reports bad manifests per object and stores nothing of them', async () => {
    const res = await api.request<{ results: { action: string; error?: { code: string; message: string } }[] }>('apply', {
      manifest: `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad}\nspec: {replicas: three, selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, command: [x]}]}}}\n---\napiVersion: v1\nkind: Gizmo\nmetadata: {name: g}\n`,
    });
    expect(res.results[0].action).toBe('failed');
    expect(res.results[0].error?.code).toBe('SKIFF_ERR_VALIDATION');
    expect(res.results[0].error?.message).toBe('Deployment/bad: spec.replicas: must be an integer ≥ 0, got "three"');
    expect(res.results[1].error?.code).toBe('SKIFF_ERR_UNKNOWN_KIND');
    await expect(api.request('get', { kind: 'Deployment', name: 'bad' })).rejects.toThrow(/not found/);
    await expect(api.request('apply', { manifest: 'kind: [' })).rejects.toMatchObject({ code: 'SKIFF_ERR_PARSE' });
    await expect(api.request('get', { kind: 'Gizmo', name: 'x' })).rejects.toMatchObject({ code: 'SKIFF_ERR_UNKNOWN_KIND' });
    await expect(api.request('get', { kind: 'Pod' })).rejects.toThrow(/name: is required/);
    await expect(api.request('frobnicate', {})).rejects.toThrow(/unknown verb "frobnicate"/);
  });

  it('applies manifests published on skiff/v1/apply and reports on skiff/v1/events', async () => {
    const pub = await connect(master, 'admin', master.adminToken);
    pub.publish(topics.apply, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-mqtt}\ndata: {a: "1"}\n`, { qos: 1 });
    const ok = await eventually(() => events.find((e) => e.reason === 'Applied' && e.message.includes('from-mqtt')), 'Applied event');
    expect(ok.message).toBe('configmap/from-mqtt created');
    expect(ok.results?.[0]).toMatchObject({ kind: 'ConfigMap', name: 'from-mqtt', action: 'created' });
    pub.publish(topics.apply, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_Valid}\n`, { qos: 1 });
    const bad = await eventually(() => events.find((e) => e.reason === 'ApplyFailed'), 'ApplyFailed event');
    expect(bad.type).toBe('Warning');
    expect(bad.message).toContain('ConfigMap/Not_Valid: metadata.name: must be a DNS subdomain');
    pub.end(true);
  });

  it('accepts plain JSON API requests and answers in JSON', async () => {
    const c = await connect(master, 'admin', master.adminToken, 'json-client');
    await c.subscribeAsync(topics.apiRes('json-client'));
    const answer = new Promise<string>((r) => c.once('message', (_t, p) => r(p.toString())));
    c.publish(topics.apiReq('json-client'), JSON.stringify({ id: 'q1', verb: 'get', kind: 'Namespace', name: 'default' }));
    const res = JSON.parse(await answer);
    expect(res).toMatchObject({ id: 'q1', ok: true, result: { kind: 'Namespace', metadata: { name: 'default' } } });
    c.end(true);
  });

  it('lists in records for the skiff client, in plain msgpack or JSON for anyone else: the same list', async () => {
    await api.request('apply', { manifest: Array.from({ length: 40 }, (_, i) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: rec-${i}, labels: {set: rec}}\ndata: {k: "${i}"}\n`).join('---\n') });
    const params = { kind: 'ConfigMap', labelSelector: 'set=rec' };
    const viaClient = await api.request<{ items: { metadata: { name: string } }[] }>('list', params);
    const c = await connect(master, 'admin', master.adminToken, 'plain-client');
    await c.subscribeAsync(topics.apiRes('plain-client'));
    const ask = (payload: Buffer | string) => {
      const answer = new Promise<Buffer>((r) => c.once('message', (_t, p) => r(p)));
      c.publish(topics.apiReq('plain-client'), payload, { qos: 1 });
      return answer;
    };
    const plain = decode<any>(await ask(encode({ id: 'p', verb: 'list', ...params }))).value;
    const json = JSON.parse((await ask(JSON.stringify({ id: 'j', verb: 'list', ...params }))).toString());
    const records = decode<any>(await ask(encode({ id: 'r', verb: 'list', ...params, encoding: 'records' }))).value;
    const refused = JSON.parse((await ask(JSON.stringify({ id: 'x', verb: 'list', ...params, encoding: 'records' }))).toString());
    c.end(true);
    expect(plain.encoding).toBeUndefined();
    expect(plain.result.items).toHaveLength(40);
    expect(viaClient).toEqual(plain.result);
    expect(json.result).toEqual(plain.result);
    expect(records).toMatchObject({ id: 'r', ok: true, encoding: 'records' });
    expect(Buffer.isBuffer(records.result)).toBe(true);
    expect(refused).toMatchObject({ id: 'x', ok: false, error: { code: 'SKIFF_ERR_BAD_REQUEST', message: expect.stringMatching(/request: encoding: records is binary msgpack/) } });
  });

  it('survives random bytes on every topic it listens to, and keeps its state', async () => {
    const before = await api.request<any>('get', { kind: 'ConfigMap', name: 'from-mqtt' });
    const c = await connect(master, 'admin', master.adminToken, 'fuzzer');
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff), seed);
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (rand() % 64) }, () => rand() & 0xff));
      c.publish(i % 2 ? topics.apiReq('fuzzer') : topics.apply, bytes, { qos: 1 });
    }
    await new Promise<void>((r) => c.publish(topics.apiReq('fuzzer'), Buffer.from([0xc1]), { qos: 1 }, () => r()));
    c.end(true);
    const after = await api.request<any>('get', { kind: 'ConfigMap', name: 'from-mqtt' });
    expect(after).toEqual(before);
  });

  it('serves health and metrics over HTTPS, with a certificate the cluster CA signed', async () => {
    const health = await httpsGet(`https://127.0.0.1:${master.httpPort}/healthz`, master.caPem);
    expect(health.body).toBe('ok\n');
    await expect(httpsGet(`https://127.0.0.1:${master.httpPort}/healthz`, '')).rejects.toThrow(/self[- ]signed|unable to verify|issuer/i);
    const metrics = (await httpsGet(`https://127.0.0.1:${master.httpPort}/metrics`, master.caPem)).body;
    expect(metrics).toMatch(/^skiff_broker_clients\{role="admin"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^skiff_api_requests_total\{verb="\w+",outcome="ok"\} [1-9]\d*$/m);
  });

  it('works with mosquitto_pub, a plain MQTT client', async () => {
    const which = await run('sh', ['-c', 'command -v mosquitto_pub || true']);
    if (!which.stdout.trim()) throw new Error('mosquitto_pub is not installed: .ci/run installs mosquitto-clients');
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(master.mqttPort), '-u', 'admin', '-P', master.adminToken, '-V', 'mqttv311', '-q', '1', '-t', topics.apply, '-m', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-mosquitto}\n']);
    await eventually(async () => (await api.request<any>('get', { kind: 'ConfigMap', name: 'from-mosquitto' })).metadata.name === 'from-mosquitto', 'configmap from mosquitto_pub');
    await expect(run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(master.mqttPort), '-V', 'mqttv311', '-t', topics.apply, '-m', 'x'])).rejects.toThrow();
  });
});
