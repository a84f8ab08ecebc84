/** The client config: parsing (kubeconfig-like and the old single-cluster file), merging as KUBECONFIG, where writes go. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configChain, destinationOf, loadConfigChain, mergeConfigs, mergeContextInto, parseClientConfig, resolveContext, upsertContext, type ClientConfigFile } from '../../protocol/index.js';

const stringifyConfig = (o: object) => JSON.stringify({ apiVersion: 'v1', kind: 'Config', ...o });
const cfg = (o: Partial<ClientConfigFile>): ClientConfigFile => ({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], ...o });
const ctx = (name: string, cluster = name, namespace?: string) => ({ name, context: { cluster, user: name, ...(namespace ? { namespace } : {}) } });
const cluster = (name: string, server: string) => ({ name, cluster: { server } });
const user = (name: string, token: string) => ({ name, user: { username: 'admin', token } });

describe('parsing', () => {
  it('reads YAML kubeconfig-like files', () => {
    const c = parseClientConfig('current-context: a\nclusters: [{name: a, cluster: {server: "mqtt://h:1"}}]\nusers: [{name: a, user: {token: t}}]\ncontexts: [{name: a, context: {cluster: a, user: a, namespace: farm}}]\n', 'f');
    expect(resolveContext(c)).toEqual({ name: 'a', server: 'mqtt://h:1', token: 't', namespace: 'farm' });
  });

  it('reads the old single-cluster file {server, user, token} as one context named default', () => {
    const c = parseClientConfig('{"server": "mqtt://m:1883", "user": "admin", "token": "s3cret"}', 'old.json');
    expect(c['current-context']).toBe('default');
    expect(resolveContext(c)).toEqual({ name: 'default', server: 'mqtt://m:1883', username: 'admin', token: 's3cret' });
  });

  it('carries the cluster CA: the old file\'s certificate-authority-data, a cluster\'s data or file', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    const data = Buffer.from(pem).toString('base64');
    expect(resolveContext(parseClientConfig(JSON.stringify({ server: 'mqtts://m:8883', token: 't', 'certificate-authority-data': data }), 'old.json')).caData).toBe(data);
    const c = parseClientConfig(stringifyConfig({ 'current-context': 'a', clusters: [{ name: 'a', cluster: { server: 'mqtts://m:8883', 'certificate-authority': '/etc/skiff/ca.crt' } }], contexts: [ctx('a')] }), 'f');
    expect(resolveContext(c)).toMatchObject({ server: 'mqtts://m:8883', caFile: '/etc/skiff/ca.crt' });
    expect(() => parseClientConfig(JSON.stringify({ server: 'mqtts://m', 'certificate-authority-data': 'bm90IGEgY2VydA==' }), 'old.json')).toThrow('config file old.json: certificate-authority-data: must be base64 of a PEM certificate');
    expect(() => parseClientConfig(stringifyConfig({ clusters: [{ name: 'a', cluster: { server: 'mqtts://m', 'certificate-authority-data': 'eA==' } }] }), 'f')).toThrow('clusters[0].cluster.certificate-authority-data: must be base64 of a PEM certificate');
    const up = upsertContext(cfg({}), { name: 'skiff', server: 'mqtts://127.0.0.1:8883', username: 'admin', token: 't', caData: data });
    expect(resolveContext(up).caData).toBe(data);
  });

  it.each([
    ['[1, 2]', /must be a map/],
    ['clusters: {}', /clusters: must be a list/],
    ['contexts: [{name: a}]', /contexts\[0\]\.context\.cluster: is required/],
    ['users: [{name: a}, {name: a}]', /users\[1\]\.name: duplicate name "a"/],
    ['{server: 3}', /server: must be a string/],
    ['a: [', /not valid YAML or JSON/],
  ])('refuses %j naming the field', (text, message) => {
    expect(() => parseClientConfig(text, 'f')).toThrow(message);
  });

  it('a context that does not exist is an error; the current one pointing nowhere too', () => {
    expect(() => resolveContext(cfg({ contexts: [ctx('a')] }), 'b')).toThrow('context "b" not found');
    expect(() => resolveContext(cfg({ 'current-context': 'gone' }))).toThrow('current-context "gone" is not a context');
  });
});

describe('merging several files (KUBECONFIG rules)', () => {
  it('the first file that defines a name wins, and the first that sets current-context', () => {
    const one = cfg({ 'current-context': 'b', clusters: [cluster('a', 'mqtt://one')], contexts: [ctx('a')] });
    const two = cfg({ 'current-context': 'a', clusters: [cluster('a', 'mqtt://two'), cluster('b', 'mqtt://b')], contexts: [ctx('a', 'a', 'ns2'), ctx('b')] });
    const { config, origin } = mergeConfigs([{ path: '1', config: one }, { path: '2', config: two }]);
    expect(config['current-context']).toBe('b');
    expect(config.clusters).toEqual([cluster('a', 'mqtt://one'), cluster('b', 'mqtt://b')]);
    expect(config.contexts.find((c) => c.name === 'a')!.context.namespace).toBeUndefined();
    expect([origin.get('clusters/a'), origin.get('clusters/b'), origin.get('contexts/b'), origin.get('current-context')]).toEqual(['1', '2', '2', '1']);
  });

  it('upsertContext adds the cluster, user and context and makes it current; keeps the namespace it had', () => {
    const c = upsertContext(cfg({ contexts: [ctx('x', 'x', 'farm')], clusters: [cluster('x', 'mqtt://old')] }), { name: 'x', server: 'mqtt://new', username: 'admin', token: 't' });
    expect(resolveContext(c)).toEqual({ name: 'x', server: 'mqtt://new', username: 'admin', token: 't', namespace: 'farm' });
  });
});

describe('files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-cfg-'));
  const write = (name: string, c: ClientConfigFile) => (writeFileSync(join(dir, name), JSON.stringify(c)), join(dir, name));

  it('SKIFF_CONFIG is a colon-separated list; missing files in it are skipped; --config alone does not merge', () => {
    const a = write('a.json', cfg({ clusters: [cluster('a', 'mqtt://a')], contexts: [ctx('a')], users: [user('a', 'ta')] }));
    const b = write('b.json', cfg({ 'current-context': 'a', clusters: [cluster('b', 'mqtt://b')], contexts: [ctx('b')], users: [user('b', 'tb')] }));
    const chain = configChain(undefined, { SKIFF_CONFIG: `${a}:${join(dir, 'none.json')}:${b}` });
    const m = loadConfigChain(chain);
    expect(m.existing).toEqual([a, b]);
    expect(resolveContext(m.config)).toMatchObject({ server: 'mqtt://a', token: 'ta' });
    expect(configChain(a, { SKIFF_CONFIG: b })).toEqual({ paths: [a], explicit: true });
    expect(() => loadConfigChain(configChain(join(dir, 'none.json'), {}))).toThrow(/cannot read the config file/);
  });

  it('a change goes to the file that defines the stanza, a new one to the first file that exists, else the last path', () => {
    const a = write('c.json', cfg({ contexts: [ctx('x')], clusters: [cluster('x', 'mqtt://x')] }));
    const b = write('d.json', cfg({ 'current-context': 'y', contexts: [ctx('y')], clusters: [cluster('y', 'mqtt://y')] }));
    const chain = configChain(undefined, { SKIFF_CONFIG: `${a}:${b}` });
    const m = loadConfigChain(chain);
    expect(destinationOf(m, chain, 'contexts/y')).toBe(b);
    expect(destinationOf(m, chain, 'current-context')).toBe(b);
    expect(destinationOf(m, chain, 'contexts/new')).toBe(a);
    const none = configChain(undefined, { SKIFF_CONFIG: `${join(dir, 'n1.yaml')}:${join(dir, 'n2.yaml')}` });
    expect(destinationOf(loadConfigChain(none), none, 'contexts/new')).toBe(join(dir, 'n2.yaml'));
  });

  it('mergeContextInto keeps every other context, refreshes a same-named cluster and user, and points current-context at it', () => {
    const a = write('e.json', cfg({ 'current-context': 'mine', contexts: [ctx('mine'), ctx('skiff-up')], clusters: [cluster('mine', 'mqtt://mine'), cluster('skiff-up', 'mqtt://stale')], users: [user('mine', 'm'), user('skiff-up', 'old')] }));
    const b = join(dir, 'f.yaml');
    const chain = configChain(undefined, { SKIFF_CONFIG: `${a}:${b}` });
    expect(mergeContextInto(chain, { name: 'skiff-up', server: 'mqtt://127.0.0.1:1883', username: 'admin', token: 'fresh' })).toBe(a);
    const m = loadConfigChain(chain);
    expect(m.config.contexts.map((c) => c.name)).toEqual(['mine', 'skiff-up']);
    expect(resolveContext(m.config)).toMatchObject({ name: 'skiff-up', server: 'mqtt://127.0.0.1:1883', token: 'fresh' });
    expect(resolveContext(m.config, 'mine')).toMatchObject({ server: 'mqtt://mine', token: 'm' });
    expect((readFileSync(a, 'utf8').match(/"name"/g) ?? []).length).toBe(6);
  });

  it('writes YAML to a file that does not end in .json, and the old single-cluster file is read and rewritten in the new format', () => {
    const old = join(dir, 'old.json');
    writeFileSync(old, '{"server": "mqtt://old:1883", "user": "admin", "token": "t0"}');
    const yaml = join(dir, 'g.yaml');
    const chain = configChain(undefined, { SKIFF_CONFIG: `${old}:${yaml}` });
    mergeContextInto(chain, { name: 'skiff', server: 'mqtt://n:1', username: 'admin', token: 't1' });
    const m = loadConfigChain(chain);
    expect(resolveContext(m.config, 'default')).toMatchObject({ server: 'mqtt://old:1883', token: 't0' });
    expect(resolveContext(m.config)).toMatchObject({ name: 'skiff', token: 't1' });
  });
});
