/**
 * The external broker's rules, in memory: the dynamic-security roles give each identity what acl.ts gives it on
 * the embedded broker (checked with a small evaluator of dynsec's ACL semantics over a table of topics), the topic
 * mapping reads the publisher from the topic, the --broker URL is checked, and broker-config hashes the masters'
 * password exactly as `mosquitto_ctrl dynsec init` does.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe, type Identity } from '../../master/broker/acl.js';
import { dynsecPassword } from '../../master/external/broker-config.js';
import { holderOf, mapInbound, mapOutbound, type Lookups } from '../../master/external/mapping.js';
import { joinRole, nodeRole, userRole, type DynsecAcl, type DynsecRole } from '../../master/external/roles.js';
import { parseBrokerUrl } from '../../master/external/url.js';
import { encode, topics } from '../../protocol/index.js';
import { externalTopics, joinTag } from '../../protocol/external-topics.js';

/** [MQTT-4.7] does topic `t` match filter `f`? */
function matches(f: string, t: string): boolean {
  const a = f.split('/');
  const b = t.split('/');
  for (let i = 0; i < a.length; i++) {
    if (a[i] === '#') return true;
    if (i >= b.length || (a[i] !== '+' && a[i] !== b[i])) return false;
  }
  return a.length === b.length;
}

/** dynsec: the highest-priority matching ACL of that type decides; none: denied (our defaultACLAccess). */
function allows(role: DynsecRole, type: DynsecAcl['acltype'], topic: string): boolean {
  const hits = role.acls.filter((a) => a.acltype === type && matches(a.topic, topic)).sort((x, y) => (y.priority ?? 0) - (x.priority ?? 0));
  return hits[0]?.allow ?? false;
}

/** The embedded topic a client would use for what `topic` is on the external broker. */
const n = (node: string, leaf: string) => `skiff/v1/nodes/${node}/${leaf}`;

describe('dynamic-security roles mirror acl.ts', () => {
  const node: Identity = { role: 'node', name: 'pi-1' };
  const nodeTopics = [n('pi-1', 'status'), n('pi-1', 'lease'), n('pi-1', 'pods'), n('pi-1', 'metrics'), n('pi-1', 'csr'), n('pi-1', 'rpc/7/res'), n('pi-1', 'desired'), n('pi-1', 'cert'), n('pi-1', 'rpc/7/req'),
    n('pi-2', 'status'), n('pi-2', 'lease'), n('pi-2', 'desired'), n('pi-2', 'rpc/7/req'), 'skiff/v1/services/default/web', 'skiff/v1/apply', 'skiff/v1/api/x/req', 'skiff/v1/events'];
  it.each(nodeTopics)('node pi-1: %s', (t) => {
    expect(allows(nodeRole('pi-1'), 'publishClientSend', t)).toBe(mayPublish(node, 'skiff-agent-pi-1', t, false));
    expect(allows(nodeRole('pi-1'), 'subscribePattern', t)).toBe(maySubscribe(node, 'skiff-agent-pi-1', t));
    expect(allows(nodeRole('pi-1'), 'publishClientReceive', t)).toBe(maySubscribe(node, 'skiff-agent-pi-1', t));
  });

  // A user's API topics are users/{name}/{clientId}/... here and api/{clientId}/... there; the rest is the same tree.
  const users: Identity[] = [
    { role: 'admin', name: 'admin' },
    { role: 'user', name: 'ci', access: 'edit' },
    { role: 'user', name: 'ro', access: 'view' },
    { role: 'user', name: 'team', access: 'edit', namespace: 'shop' },
  ];
  const shared = ['skiff/v1/metrics/temp', 'skiff/v1/events', 'skiff/v1/events/shop', 'skiff/v1/events/other', 'skiff/v1/services/shop/web', 'skiff/v1/services/other/web', n('pi-1', 'status')];
  for (const id of users) {
    const role = userRole(id as Extract<Identity, { role: 'user' | 'admin' }>);
    it(`${id.name}: its own API topics, apply, and the shared tree as on the embedded broker`, () => {
      expect(allows(role, 'publishClientSend', externalTopics.userApiReq(id.name, 'c1'))).toBe(true);
      expect(allows(role, 'subscribePattern', externalTopics.userApiRes(id.name, 'c1'))).toBe(true);
      expect(allows(role, 'publishClientSend', externalTopics.userApply(id.name))).toBe(mayPublish(id, 'c1', topics.apply, false));
      for (const t of shared) {
        expect(allows(role, 'publishClientSend', t), `publish ${t}`).toBe(mayPublish(id, 'c1', t, false));
        expect(allows(role, 'subscribePattern', t), `subscribe ${t}`).toBe(maySubscribe(id, 'c1', t));
      }
      // Another user's requests are never its to send; the embedded api/ topics are refused (how the CLI detects the broker).
      expect(allows(role, 'publishClientSend', externalTopics.userApiReq('other', 'c1'))).toBe(false);
      expect(allows(role, 'subscribePattern', topics.apiRes('c1'))).toBe(false);
    });
  }

  it('a join token: only its own exchanges', () => {
    const r = joinRole('abcd');
    expect(allows(r, 'publishClientSend', externalTopics.joinReq('abcd', 's1'))).toBe(true);
    expect(allows(r, 'subscribePattern', externalTopics.joinRes('abcd', 's1'))).toBe(true);
    expect(allows(r, 'publishClientSend', externalTopics.joinReq('ffff', 's1'))).toBe(false);
    expect(allows(r, 'subscribePattern', externalTopics.joinRes('ffff', 's1'))).toBe(false);
    expect(allows(r, 'publishClientSend', n('pi-1', 'status'))).toBe(false);
  });
});

describe('topic mapping', () => {
  const look: Lookups = { user: (name) => (name === 'ci' ? { role: 'user', name, access: 'edit' } : undefined), joinToken: (tag) => (tag === 'aaaa' ? 'bootstrap' : undefined) };
  const tags = new Map<string, string>();
  const rows: [string, unknown][] = [
    [n('pi-1', 'status'), { topic: n('pi-1', 'status'), identity: { role: 'node', name: 'pi-1' } }],
    [externalTopics.userApiReq('ci', 'c1'), { topic: topics.apiReq('ci:c1'), identity: { role: 'user', name: 'ci', access: 'edit' } }],
    [externalTopics.userApply('ci'), { topic: topics.apply, identity: { role: 'user', name: 'ci', access: 'edit' } }],
    [externalTopics.userApiReq('gone', 'c1'), undefined], // a revoked token
    [externalTopics.joinReq('ffff', 's1'), undefined], // a join token no longer working
    [n('pi-1', 'desired'), undefined], // the master's own publishes
    ['skiff/v1/users/ci/+/req', undefined],
  ];
  it.each(rows)('%s', (topic, want) => {
    const m = mapInbound(topic, Buffer.from('x'), look, tags);
    if (want === undefined) expect(m).toBeUndefined();
    else expect(m && 'inbound' in m && m.inbound).toMatchObject(want as object);
  });

  it('a join: the token from its tag, the node from the hello; the answers go back under the tag', () => {
    const m = mapInbound(externalTopics.joinReq('aaaa', 'sess-1'), encode({ step: 'hello', node: 'pi-9' }), look, tags);
    expect(m && 'inbound' in m && m.inbound).toMatchObject({ topic: topics.joinReq('sess-1'), identity: { role: 'joiner', name: 'pi-9', token: 'bootstrap' } });
    expect(mapOutbound(topics.joinRes('sess-1'), tags)).toBe(externalTopics.joinRes('aaaa', 'sess-1'));
    expect(mapOutbound(topics.joinRes('never-seen'), tags)).toBeUndefined();
  });

  it('answers and holders', () => {
    expect(mapOutbound(topics.apiRes('ci:c1'), tags)).toBe(externalTopics.userApiRes('ci', 'c1'));
    expect(mapOutbound(n('pi-1', 'desired'), tags)).toBe(n('pi-1', 'desired'));
    expect(holderOf('ci:c1', look)).toEqual({ role: 'user', name: 'ci', access: 'edit' });
    expect(holderOf('gone:c1', look)).toBeUndefined();
    const gone = mapInbound(externalTopics.userGone('ci', 'c1'), Buffer.alloc(0), look, tags);
    expect(gone && 'gone' in gone && gone.gone.clientId).toBe('ci:c1');
  });

  it('a join tag is derived from the secret, not from anything a stranger sees', () => {
    expect(joinTag('secret-one-1234567')).toMatch(/^[0-9a-f]{16}$/);
    expect(joinTag('secret-one-1234567')).not.toBe(joinTag('secret-two-1234567'));
  });
});

describe('--broker URL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-broker-url-'));
  const pw = join(dir, 'pw');
  writeFileSync(pw, 'hunter2hunter2\n');
  it('reads the password from password-file and never shows it', () => {
    const b = parseBrokerUrl(`mqtt://skiff-master@127.0.0.1:1884?password-file=${pw}`);
    expect(b).toMatchObject({ url: 'mqtt://127.0.0.1:1884', username: 'skiff-master', password: 'hunter2hunter2', tls: false, port: 1884 });
  });
  it.each([
    ['http://h:1', /scheme must be mqtt:\/\/ or mqtts:\/\//],
    ['mqtt://h:1', /needs the masters' broker account/],
    ['mqtt://u@h:1', /needs a password/],
    [`mqtt://u:p@h:1?password-file=${pw}`, /not both/],
    ['mqtt://u:p@h:1?bogus=1', /unknown parameter "bogus"/],
    [`mqtt://u:p@h:1?ca-file=${pw}`, /ca-file is for mqtts/],
    ['mqtt://u@h:1?password-file=/nonexistent', /password-file: cannot read \/nonexistent: ENOENT/],
  ])('%s is refused', (url, why) => {
    expect(() => parseBrokerUrl(url)).toThrow(why);
  });
});

describe('broker-config', () => {
  it('hashes as mosquitto_ctrl dynsec init (PBKDF2-SHA512, 12-byte salt, 64 bytes)', () => {
    // Written by `mosquitto_ctrl dynsec init FILE skiff-master secretpw` (mosquitto 2.0.11).
    const salt = Buffer.from('4GZZStzu3/Ptlb68', 'base64');
    expect(dynsecPassword('secretpw', 101, salt)).toEqual({
      password: 'gRCpKsIQl1yQfOjgO1SU6u1kt1ZNjc8p7czQq/7EZZhkuYcRYbUv2T6ij+lwHTkfGiHpQzmTVd1qt0vBXWKhdA==',
      salt: '4GZZStzu3/Ptlb68',
      iterations: 101,
    });
  });
});
