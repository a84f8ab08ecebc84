/**
 * Issue 13: the audit log. Every write through the API or the apply topic is one JSON line in DATA/audit.log (0600):
 * who (user, role, access, the token's namespace), from which client (MQTT client id and address), what (verb,
 * kind, namespace/name), the outcome; refusals of any verb too; reads are not written. Never a body: a token's
 * secret or a manifest's Secret never reaches it. The file rotates by size and keeps N old ones.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { AuditFile } from '../../master/api/audit-file.js';
import { startMaster, type Master } from '../../master/index.js';
import { topics } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';

const cm = (name: string, ns = 'default') => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}}\ndata: {a: "1"}\n`;

describe('the audit log (issue 13)', () => {
  let dir: string;
  let master: Master;
  let admin: Api;
  const lines = () => readFileSync(join(dir, 'm', 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    dir = await tempDir('skiff-audit-');
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false });
    admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await admin?.close();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('one line per write, with who, from where, what and the outcome; reads are not written', async () => {
    await admin.request('apply', { manifest: cm('audited') });
    await admin.request('get', { kind: 'ConfigMap', name: 'audited' });
    await admin.request('list', { kind: 'Pod', allNamespaces: true });
    await admin.request('delete', { kind: 'ConfigMap', name: 'audited' });
    const { token } = await admin.request<{ token: string }>('token', { action: 'create', name: 'robot', access: 'edit' });
    const got = lines();
    expect(got.map((l) => [l.verb, l.outcome])).toEqual([['apply', 'created'], ['delete', 'deleted'], ['token', 'ok']]);
    expect(got[0]).toMatchObject({ user: 'admin', role: 'admin', address: '127.0.0.1', via: 'api', verb: 'apply', kind: 'ConfigMap', namespace: 'default', name: 'audited', outcome: 'created' });
    expect(got[0].client).toMatch(/^skiff-cli-/);
    expect(got[0].ts).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(got[2]).toMatchObject({ verb: 'token', action: 'create', name: 'robot' });
    expect(readFileSync(join(dir, 'm', 'audit.log'), 'utf8')).not.toContain(token);
    expect(statSync(join(dir, 'm', 'audit.log')).mode & 0o777).toBe(0o600);
  });

  it('the apply topic and refusals are written too, with the token, its access and namespace', async () => {
    const { token } = await admin.request<{ token: string }>('token', { action: 'create', name: 'shop-bot', access: 'edit', namespace: 'shop' });
    await admin.request('apply', { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' });
    const before = lines().length;
    const pub = mqtt.connect(master.url, { protocolVersion: 4, clientId: 'shop-bot-1', username: 'shop-bot', password: token, reconnectPeriod: 0 });
    await new Promise((r) => pub.once('connect', r));
    // skiff/v1/apply is atomic: one refused document and the file is not applied at all; then the allowed one alone.
    await pub.publishAsync(topics.apply, cm('menu', 'shop') + '---\n' + cm('intruder', 'default'), { qos: 1 });
    await eventually(() => lines().length >= before + 2, 'two audit lines');
    await pub.publishAsync(topics.apply, cm('menu', 'shop'), { qos: 1 });
    await eventually(() => lines().length >= before + 3, 'three audit lines');
    pub.end(true);
    const shopBot = await connectApi({ server: master.url, user: 'shop-bot', token, timeoutMs: 5000 });
    await expect(shopBot.request('get', { kind: 'Secret', name: 'x', namespace: 'default' })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
    await shopBot.close();
    const got = lines().slice(before);
    const who = { user: 'shop-bot', role: 'user', access: 'edit', tokenNamespace: 'shop', address: '127.0.0.1' };
    expect(got).toEqual([
      expect.objectContaining({ ...who, client: 'shop-bot-1', via: 'apply-topic', verb: 'apply', kind: 'ConfigMap', namespace: 'shop', name: 'menu', outcome: 'failed', code: 'SKIFF_ERR_BAD_REQUEST' }),
      expect.objectContaining({ ...who, client: 'shop-bot-1', via: 'apply-topic', verb: 'apply', kind: 'ConfigMap', namespace: 'default', name: 'intruder', outcome: 'refused', code: 'SKIFF_ERR_FORBIDDEN' }),
      expect.objectContaining({ ...who, client: 'shop-bot-1', via: 'apply-topic', verb: 'apply', kind: 'ConfigMap', namespace: 'shop', name: 'menu', outcome: 'created' }),
      expect.objectContaining({ ...who, via: 'api', verb: 'get', kind: 'Secret', namespace: 'default', name: 'x', outcome: 'refused', code: 'SKIFF_ERR_FORBIDDEN' }),
    ]);
  });
});

describe('AuditFile', () => {
  it('rotates by size and keeps the newest N rotated files; every line whole', async () => {
    const dir = await tempDir('skiff-audit-rot-');
    const f = new AuditFile(join(dir, 'audit.log'), { maxBytes: 1000, backups: 2 });
    for (let i = 0; i < 100; i++) f.write({ i, pad: 'x'.repeat(80) });
    f.close();
    expect(['audit.log', 'audit.log.1', 'audit.log.2'].every((n) => existsSync(join(dir, n)))).toBe(true);
    expect(existsSync(join(dir, 'audit.log.3'))).toBe(false);
    const all = ['audit.log.2', 'audit.log.1', 'audit.log'].flatMap((n) => readFileSync(join(dir, n), 'utf8').trim().split('\n').map((l) => JSON.parse(l).i as number));
    // The newest lines are kept in order; the oldest went with the dropped files.
    expect(all.at(-1)).toBe(99);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    for (const n of ['audit.log', 'audit.log.1']) {
      expect(statSync(join(dir, n)).size).toBeLessThanOrEqual(1000);
      expect(statSync(join(dir, n)).mode & 0o777).toBe(0o600);
    }
    await rm(dir, { recursive: true, force: true });
  });
});
