/**
 * Issue 13: roles per namespace. `skiff token create shop-ci --access edit --namespace shop` gives a token whose
 * reads and writes are confined to `shop`, over real MQTT against a real master: it applies and reads there (its
 * namespace is its default), is refused anywhere else — by the API, by a document of a multi-document apply, on
 * the apply topic — and across all namespaces (as kubectl RBAC refuses `-A` to a RoleBinding); it reads Nodes and
 * Namespaces but writes none; it sees its namespace's events and service endpoints only. `skiff auth can-i`
 * answers from the same rules, for oneself and, for an admin, `--as` a token.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import { main } from '../../cli/main.js';
import type { Api } from '../../cli/types.js';
import { startMaster, type Master } from '../../master/index.js';
import { decode, topics, type EventMessage } from '../../protocol/index.js';
import { testEngine } from '../helpers/cluster.js';
import { eventually, tempDir } from '../helpers/wait.js';

const cm = (name: string, ns?: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}${ns ? `, namespace: ${ns}` : ''}}\ndata: {a: "1"}\n`;

describe('a token confined to one namespace (issue 13)', () => {
  let dir: string;
  let master: Master;
  let admin: Api;
  let shop: Api;
  let secret: string;
  const cli = async (user: string, token: string, ...args: string[]) => {
    let out = '';
    let err = '';
    const code = await main(['--server', master.url, '--user', user, '--token', token, ...args], { stdout: (s) => void (out += s), stderr: (s) => void (err += s), readStdin: async () => '', env: {} });
    return { code, out, err };
  };

  beforeAll(async () => {
    dir = await tempDir('skiff-ns-token-');
    master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false });
    admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs: 10_000 });
    await admin.request('apply', { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n' });
    const created = await cli('admin', master.adminToken, 'token', 'create', 'shop-ci', '--access', 'edit', '--namespace', 'shop');
    expect(created).toMatchObject({ code: 0, err: 'token "shop-ci" created with edit access in namespace "shop"; it is shown only now:\n' });
    secret = created.out.trim();
    shop = await connectApi({ server: master.url, user: 'shop-ci', token: secret, timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await shop?.close();
    await admin?.close();
    await master?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('works in its namespace, which is its default', async () => {
    const res = await shop.request<{ results: { namespace: string; action: string }[] }>('apply', { manifest: cm('menu') });
    expect(res.results[0]).toMatchObject({ namespace: 'shop', action: 'created' });
    expect((await shop.request<{ items: unknown[] }>('list', { kind: 'ConfigMap' })).items).toHaveLength(1);
    expect((await shop.request<{ metadata: { namespace: string } }>('get', { kind: 'ConfigMap', name: 'menu', namespace: 'shop' })).metadata.namespace).toBe('shop');
    const listed = await cli('admin', master.adminToken, 'token', 'list');
    expect(listed.out).toMatch(/shop-ci\s+edit\s+shop\s+/);
  });

  it('is refused in any other namespace and across all of them, by every path', async () => {
    await admin.request('apply', { manifest: cm('prod-settings') });
    await expect(shop.request('get', { kind: 'ConfigMap', name: 'prod-settings', namespace: 'default' })).rejects.toMatchObject({
      code: 'SKIFF_ERR_FORBIDDEN',
      message: 'user "shop-ci" (edit access in namespace "shop") may not get configmaps in namespace "default"',
    });
    await expect(shop.request('list', { kind: 'ConfigMap', allNamespaces: true })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
    await expect(shop.request('delete', { kind: 'ConfigMap', name: 'prod-settings', namespace: 'default' })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
    await expect(shop.request('watch', { kind: 'Pod', allNamespaces: true })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
    // One document of a file is refused, the others go in (as kubectl apply does per object).
    const res = await shop.request<{ results: { name: string; action: string; error?: { code: string } }[] }>('apply', { manifest: `${cm('ok-one')}---\n${cm('sneaky', 'default')}` });
    expect(res.results.map((r) => [r.name, r.action, r.error?.code])).toEqual([['ok-one', 'created', undefined], ['sneaky', 'failed', 'SKIFF_ERR_FORBIDDEN']]);
    // The apply topic: the same rule per document.
    const pub = mqtt.connect(master.url, { protocolVersion: 4, clientId: 'shop-pub', username: 'shop-ci', password: secret, reconnectPeriod: 0 });
    await new Promise((r) => pub.once('connect', r));
    await pub.publishAsync(topics.apply, cm('via-topic', 'default'), { qos: 1 });
    await pub.publishAsync(topics.apply, cm('via-topic'), { qos: 1 });
    await eventually(async () => (await admin.request<{ items: unknown[] }>('list', { kind: 'ConfigMap', namespace: 'shop' })).items.length === 3, 'the allowed one applied');
    await expect(admin.request('get', { kind: 'ConfigMap', name: 'via-topic', namespace: 'default' })).rejects.toMatchObject({ code: 'SKIFF_ERR_NOT_FOUND' });
    pub.end(true);
    // The CLI says it the kubectl way.
    const all = await cli('shop-ci', secret, 'get', 'pods', '-A');
    expect(all).toMatchObject({ code: 1, err: 'error: user "shop-ci" (edit access in namespace "shop") may not list pods at the cluster scope (all namespaces)\n' });
  });

  it('reads cluster-scoped kinds but writes none; tokens and backups are not its to touch', async () => {
    expect((await shop.request<{ items: unknown[] }>('list', { kind: 'Namespace' })).items.length).toBeGreaterThanOrEqual(2);
    await expect(shop.request('apply', { manifest: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: mine}\n' })).resolves.toMatchObject({ results: [{ action: 'failed', error: { code: 'SKIFF_ERR_FORBIDDEN' } }] });
    await expect(shop.request('delete', { kind: 'Namespace', name: 'default' })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
    await expect(shop.request('cordon', { name: 'anything' })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
    await expect(shop.request('token', { action: 'list' })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
    await expect(shop.request('backup', {})).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
  });

  it("sees its namespace's events only", async () => {
    const sub = mqtt.connect(master.url, { protocolVersion: 4, clientId: 'shop-events', username: 'shop-ci', password: secret, reconnectPeriod: 0 });
    const seen: EventMessage[] = [];
    sub.on('message', (_t, p) => seen.push(decode<EventMessage>(p).value));
    await new Promise((r) => sub.once('connect', r));
    await expect(sub.subscribeAsync(topics.events)).rejects.toThrow(); // SUBACK 128
    await expect(sub.subscribeAsync('skiff/v1/events/default')).rejects.toThrow();
    await sub.subscribeAsync(topics.namespaceEvents('shop'));
    await admin.request('apply', { manifest: cm('elsewhere') });
    await shop.request('apply', { manifest: cm('here-too') });
    const pub = mqtt.connect(master.url, { protocolVersion: 4, clientId: 'admin-pub2', username: 'admin', password: master.adminToken, reconnectPeriod: 0 });
    await new Promise((r) => pub.once('connect', r));
    await pub.publishAsync(topics.apply, cm('default-one'), { qos: 1 });
    await pub.publishAsync(topics.apply, cm('shop-one', 'shop'), { qos: 1 });
    await eventually(() => seen.some((e) => e.message.includes('shop-one')), "the shop apply's event");
    expect(seen.every((e) => e.namespace === 'shop')).toBe(true);
    expect(JSON.stringify(seen)).not.toContain('default-one');
    sub.end(true);
    pub.end(true);
  });

  it('auth can-i answers from the same rules, for oneself and --as a token (admin only)', async () => {
    expect(await cli('shop-ci', secret, 'auth', 'can-i', 'create', 'deployments')).toMatchObject({ code: 0, out: 'yes\n' });
    expect(await cli('shop-ci', secret, 'auth', 'can-i', 'create', 'deployments', '-n', 'default')).toMatchObject({ code: 1, out: 'no\n' });
    expect(await shop.request('can-i', { action: 'create', kind: 'deployments', namespace: 'default' })).toEqual({
      allowed: false,
      reason: 'user "shop-ci" (edit access in namespace "shop") may not apply deployments in namespace "default"',
    });
    expect(await cli('shop-ci', secret, 'auth', 'can-i', 'list', 'pods', '-A')).toMatchObject({ code: 1, out: 'no\n' });
    expect(await cli('shop-ci', secret, 'auth', 'can-i', 'get', 'nodes')).toMatchObject({ code: 0, out: 'yes\n' });
    expect(await cli('shop-ci', secret, 'auth', 'can-i', 'delete', 'nodes')).toMatchObject({ code: 1 });
    expect(await cli('shop-ci', secret, 'auth', 'can-i', 'get', 'pods', '--subresource', 'log')).toMatchObject({ code: 0 });
    expect(await cli('shop-ci', secret, 'auth', 'can-i', 'create', 'pods', '--subresource', 'exec', '-n', 'default')).toMatchObject({ code: 1 });
    expect(await cli('shop-ci', secret, 'auth', 'can-i', 'get', 'pods', '--as', 'admin')).toMatchObject({ code: 1, err: expect.stringContaining('--as needs cluster-wide admin access') });
    expect(await cli('admin', master.adminToken, 'auth', 'can-i', 'delete', 'configmaps', '-n', 'shop', '--as', 'shop-ci')).toMatchObject({ code: 0, out: 'yes\n' });
    expect(await cli('admin', master.adminToken, 'auth', 'can-i', 'delete', 'configmaps', '--as', 'shop-ci')).toMatchObject({ code: 0 }); // its own namespace by default
    expect(await cli('admin', master.adminToken, 'auth', 'can-i', 'delete', 'configmaps', '-n', 'default', '--as', 'shop-ci')).toMatchObject({ code: 1 });
    expect(await cli('admin', master.adminToken, 'auth', 'can-i', 'get', 'pods', '--as', 'nobody')).toMatchObject({ code: 1, err: 'error: tokens "nobody" not found\n' });
    // What can-i says is what the request meets.
    expect(await cli('shop-ci', secret, 'auth', 'can-i', 'delete', 'configmaps', '-n', 'default', '-q')).toEqual({ code: 1, out: '', err: '' });
    await expect(shop.request('delete', { kind: 'ConfigMap', name: 'prod-settings', namespace: 'default' })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
  });
});
