/**
 * Issue 13: a view token — "a read-only token for a dashboard" — read every Secret's value, and `describe secret`
 * printed the values. Replayed over real MQTT against a real master: by every verb (get, list in a namespace and
 * across all, watch, describe) and every output format of the CLI (table, wide, json, yaml, name, describe), the
 * view token sees the Secret, its keys and their sizes, never a value; neither does its event stream while an
 * admin applies Secrets (a bad one included), nor the audit log. An edit token does read the value: the check
 * can fail.
 */
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import { main } from '../../cli/main.js';
import type { Api } from '../../cli/types.js';
import { startMaster, type Master } from '../../master/index.js';
import { topics, type ApiResponse } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';

const value = 'Pump-Controller-Pa55-91c2e';
const value64 = Buffer.from(value).toString('base64');
/** A wrong value (a number where a string belongs): it must not be echoed in the refusal either. */
const badValue = 8675309123456;

/** True when `text` shows the value in any form a client could decode. */
const shows = (text: string) => text.includes(value) || text.includes(value64) || text.includes(String(badValue));

describe('a view token never reads a Secret value (issue 13)', () => {
  let dir: string;
  let master: Master;
  let admin: Api;
  let viewer: Api;
  let viewSecret: string;
  let editSecret: string;

  beforeAll(async () => {
    dir = await tempDir('skiff-view-');
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false });
    admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 10_000 });
    viewSecret = (await admin.request<{ token: string }>('token', { action: 'create', name: 'grafana', access: 'view' })).token;
    editSecret = (await admin.request<{ token: string }>('token', { action: 'create', name: 'ci', access: 'edit' })).token;
    viewer = await connectApi({ server: master.url, user: 'grafana', token: viewSecret, timeoutMs: 10_000 });
    await admin.request('apply', { manifest: `apiVersion: v1\nkind: Secret\nmetadata: {name: pump}\nstringData: {password: ${value}}\n` });
  });
  afterAll(async () => {
    await viewer?.close();
    await admin?.close();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('by every API verb: the Secret with its keys and sizes, no value', async () => {
    const got = await viewer.request<Record<string, unknown>>('get', { kind: 'Secret', name: 'pump' });
    expect(got).toMatchObject({ kind: 'Secret', metadata: { name: 'pump' }, type: 'Opaque', dataBytes: { password: value.length } });
    expect(got).not.toHaveProperty('data');
    const answers = [
      got,
      await viewer.request('list', { kind: 'Secret' }),
      await viewer.request('list', { kind: 'secrets', allNamespaces: true }),
      await viewer.request('describe', { kind: 'Secret', name: 'pump' }),
    ];
    for (const a of answers) expect(shows(JSON.stringify(a))).toBe(false);
    expect(JSON.stringify(answers[1])).toContain('"dataBytes":{"password":26}');
    // watch: the first event (ADDED) and a change made while watching.
    const events: unknown[] = [];
    const stop = new AbortController();
    const w = viewer.stream('watch', { kind: 'Secret' }, (part: ApiResponse) => void events.push(part), stop.signal);
    await eventually(() => events.length >= 1, 'the ADDED event');
    await admin.request('apply', { manifest: `apiVersion: v1\nkind: Secret\nmetadata: {name: pump, labels: {rotated: "yes"}}\nstringData: {password: ${value}}\n` });
    await eventually(() => events.length >= 2, 'the MODIFIED event');
    stop.abort();
    await w.catch(() => undefined);
    expect(JSON.stringify(events)).toContain('"dataBytes"');
    expect(shows(JSON.stringify(events))).toBe(false);
  });

  it('by every output format of the CLI; describe prints byte counts', async () => {
    const run = async (token: string, user: string, ...args: string[]) => {
      let out = '';
      const code = await main(['--server', master.url, '--user', user, '--token', token, ...args], { stdout: (s) => void (out += s), stderr: (s) => void (out += s), readStdin: async () => '', env: {} });
      return { code, out };
    };
    const outputs = await Promise.all([
      run(viewSecret, 'grafana', 'get', 'secret', 'pump'),
      run(viewSecret, 'grafana', 'get', 'secret', 'pump', '-o', 'wide'),
      run(viewSecret, 'grafana', 'get', 'secret', 'pump', '-o', 'json'),
      run(viewSecret, 'grafana', 'get', 'secret', 'pump', '-o', 'yaml'),
      run(viewSecret, 'grafana', 'get', 'secrets', '-A', '-o', 'json'),
      run(viewSecret, 'grafana', 'get', 'secrets', '-o', 'name'),
      run(viewSecret, 'grafana', 'describe', 'secret', 'pump'),
    ]);
    for (const o of outputs) {
      expect(o.code).toBe(0);
      expect(shows(o.out)).toBe(false);
    }
    expect(outputs[0].out).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\npump\s+Opaque\s+1\s+/);
    expect(outputs[6].out).toMatch(/Type:\s+Opaque\n\nData\n====\npassword:\s+26 bytes\n/);
    // Admin's describe prints sizes too (kubectl's layout), and get -o json gives admin the value: the test can fail.
    expect((await run(master.adminToken, 'admin', 'describe', 'secret', 'pump')).out).toMatch(/password:\s+26 bytes/);
    expect(shows((await run(master.adminToken, 'admin', 'describe', 'secret', 'pump')).out)).toBe(false);
    expect(shows((await run(editSecret, 'ci', 'get', 'secret', 'pump', '-o', 'json')).out)).toBe(true);
  });

  it('not in the events it may watch, even for a Secret refused for its bad value, nor in the audit log', async () => {
    const sub = mqtt.connect(master.url, { protocolVersion: 4, clientId: 'grafana-events', username: 'grafana', password: viewSecret, reconnectPeriod: 0 });
    const seen: Buffer[] = [];
    sub.on('message', (_t, p) => seen.push(p));
    await new Promise((r) => sub.once('connect', r));
    await sub.subscribeAsync([topics.events, topics.namespaceEvents('default')]);
    const pub = mqtt.connect(master.url, { protocolVersion: 4, clientId: 'admin-pub', username: 'admin', password: master.adminToken, reconnectPeriod: 0 });
    await new Promise((r) => pub.once('connect', r));
    await pub.publishAsync(topics.apply, `apiVersion: v1\nkind: Secret\nmetadata: {name: pump2}\nstringData: {password: ${value}}\n`, { qos: 1 });
    await pub.publishAsync(topics.apply, `apiVersion: v1\nkind: Secret\nmetadata: {name: pump3}\nstringData: {pin: ${badValue}}\n`, { qos: 1 });
    await eventually(() => seen.some((b) => b.includes('ApplyFailed')), 'the refusal event');
    const text = Buffer.concat(seen).toString();
    expect(text).toContain('stringData[pin]: must be a string, got a number');
    expect(shows(text)).toBe(false);
    // The refusal the API answers names the rule, not the value.
    const res = await admin.request<{ results: { error?: { message: string } }[] }>('apply', { manifest: `apiVersion: v1\nkind: Secret\nmetadata: {name: pump3}\nstringData: {pin: ${badValue}}\n` });
    expect(res.results[0].error?.message).toBe('Secret/pump3: stringData[pin]: must be a string, got a number');
    expect(shows(readFileSync(join(dir, 'm', 'audit.log'), 'utf8'))).toBe(false);
    sub.end(true);
    pub.end(true);
  });

  it('can-i says what view gets of Secrets', async () => {
    expect(await viewer.request('can-i', { action: 'get', kind: 'secrets' })).toEqual({ allowed: true, reason: 'view access: Secrets without their values (metadata, keys and sizes)' });
    expect(await viewer.request('can-i', { action: 'delete', kind: 'secrets' })).toEqual({ allowed: false, reason: 'user "grafana" (view access) may not delete' });
  });
});
