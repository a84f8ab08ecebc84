/**
 * User tokens with view / edit / admin access, over real MQTT connections: the API refuses verbs the
 * access does not allow, the ACL refuses topics, and a revoked token's open session ends at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import mqtt from 'mqtt';
import { startMaster, type Master } from '../../master/index.js';
import { connectApi } from '../../cli/client.js';
import { main } from '../../cli/main.js';
import type { Api } from '../../cli/types.js';
import { topics, type EventMessage } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';

describe('user tokens', () => {
  let master: Master;
  let admin: Api;
  let dir: string;
  const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\ndata: {a: "1"}\n`;
  const as = (user: string, token: string) => connectApi({ server: master.url, user, token, timeoutMs: 5000 });

  beforeAll(async () => {
    dir = await tempDir();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine });
    admin = await as('admin', master.adminToken);
  });
  afterAll(async () => {
    await admin?.close();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates tokens through the CLI and lists them without secrets', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), readStdin: async () => '', env: {} };
    const cli = (...a: string[]) => main(['--server', master.url, '--token', master.adminToken, ...a], io);
    expect(await cli('token', 'create', 'grafana', '--access', 'view')).toBe(0);
    const secret = out.join('').trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(err.join('')).toContain('created with view access');
    out.length = 0;
    expect(await cli('token', 'list')).toBe(0);
    expect(out.join('')).toMatch(/^NAME\s+ACCESS\s+NAMESPACE\s+AGE\ngrafana\s+view\s+\*\s+\d+s\n$/);
    expect(out.join('')).not.toContain(secret);
    expect(await cli('token', 'create', 'x', '--access', 'root')).toBe(1);
    expect(err.join('')).toContain('--access: must be one of view, edit, admin, got "root"');
    expect(await cli('token', 'create', 'grafana')).toBe(1);
    expect(err.join('')).toContain('tokens "grafana" already exists');
  });

  it('enforces view and edit access on the API and the topics', async () => {
    const viewSecret = ((await admin.request('token', { action: 'create', name: 'viewer', access: 'view' })) as { token: string }).token;
    const editSecret = ((await admin.request('token', { action: 'create', name: 'ci', access: 'edit' })) as { token: string }).token;
    const viewer = await as('viewer', viewSecret);
    const editor = await as('ci', editSecret);
    expect(((await viewer.request('get', { kind: 'Namespace', name: 'default' })) as any).metadata.name).toBe('default');
    await expect(viewer.request('apply', { manifest: cm('nope') })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN', message: 'user "viewer" (view access) may not apply' });
    await expect(editor.request('token', { action: 'list' })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
    const res = (await editor.request('apply', { manifest: cm('from-ci') })) as { results: { action: string }[] };
    expect(res.results[0].action).toBe('created');
    // Wrong secret for a known token name.
    await expect(as('viewer', editSecret)).rejects.toThrow();
    // A viewer's manifest published on skiff/v1/apply is refused by the API, with an event it can read (JSON).
    const raw = await mqtt.connectAsync(master.url, { protocolVersion: 4, username: 'viewer', password: viewSecret, reconnectPeriod: 0 });
    await raw.subscribeAsync(topics.events);
    const event = new Promise<EventMessage>((r) => raw.on('message', (_t, p) => r(JSON.parse(p.toString()))));
    await raw.publishAsync(topics.apply, cm('sneaky'), { qos: 1 });
    expect(await event).toMatchObject({ type: 'Warning', reason: 'ApplyFailed', error: { code: 'SKIFF_ERR_FORBIDDEN', message: 'user "viewer" (view access) may not apply' } });
    await expect(admin.request('get', { kind: 'ConfigMap', name: 'sneaky' })).rejects.toMatchObject({ code: 'SKIFF_ERR_NOT_FOUND' });
    await raw.endAsync();
    await viewer.close();
    await editor.close();
  });

  it('revoking a token ends its open session and refuses new ones', async () => {
    const secret = ((await admin.request('token', { action: 'create', name: 'temp', access: 'view' })) as { token: string }).token;
    const raw = mqtt.connect(master.url, { protocolVersion: 4, username: 'temp', password: secret, reconnectPeriod: 0 });
    await new Promise((r) => raw.once('connect', r));
    const closed = new Promise<void>((r) => raw.once('close', () => r()));
    await admin.request('token', { action: 'revoke', name: 'temp' });
    await closed;
    await expect(as('temp', secret)).rejects.toThrow(/Bad username or password|credentials/i);
    await expect(admin.request('token', { action: 'revoke', name: 'temp' })).rejects.toMatchObject({ code: 'SKIFF_ERR_NOT_FOUND' });
  });

  it('keeps tokens across a master restart', async () => {
    const secret = ((await admin.request('token', { action: 'create', name: 'durable', access: 'view' })) as { token: string }).token;
    await admin.close();
    await master.stop();
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine });
    admin = await as('admin', master.adminToken);
    const again = await eventually(() => as('durable', secret), 'token accepted after restart');
    await again.close();
  });
});
