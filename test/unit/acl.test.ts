import { describe, expect, it } from 'vitest';
import { mayPublish, mayReceive, maySubscribe, type Identity } from '../../master/broker/acl.js';

const session = 'AbCdEfGhIjKlMnOpQrStUv'; // 22 base64url characters: 128 random bits

const node: Identity = { role: 'node', name: 'pi-1' };
const joiner: Identity = { role: 'joiner', name: 'pi-9', token: 'bootstrap' };
const admin: Identity = { role: 'admin', name: 'admin' };

describe('publish ACL', () => {
  it.each([
    [node, 'skiff/v1/nodes/pi-1/status', true, true],
    [node, 'skiff/v1/nodes/pi-1/lease', false, true],
    [node, 'skiff/v1/nodes/pi-1/lease', true, false],
    [node, 'skiff/v1/nodes/pi-1/pods', false, true],
    [node, 'skiff/v1/nodes/pi-1/rpc/abc/res', false, true],
    [node, 'skiff/v1/nodes/pi-1/rpc/abc/req', false, false],
    [node, 'skiff/v1/nodes/pi-1/desired', false, false],
    [node, 'skiff/v1/nodes/pi-2/status', false, false],
    [node, 'skiff/v1/nodes/pi-1/resync', false, true],
    [node, 'skiff/v1/nodes/pi-1/resync', true, false],
    [node, 'skiff/v1/nodes/pi-2/resync', false, false],
    [node, 'skiff/v1/apply', false, false],
    [node, 'skiff/v1/services/default/web', false, false],
    [node, 'skiff/v1/cluster/lease', false, false], // the master's alone to say
    [node, 'skiff/v1/cluster/lease', true, false],
    [joiner, `skiff/v1/join/${session}/req`, false, true],
    [joiner, `skiff/v1/join/${session}/req`, true, false],
    [joiner, 'skiff/v1/join/pi-9/req', false, false], // too short to be a session: guessable
    [joiner, `skiff/v1/join/${session}/res`, false, false],
    [joiner, 'skiff/v1/nodes/pi-9/status', false, false],
    [admin, 'skiff/v1/apply', false, true],
    [admin, 'skiff/v1/apply', true, false],
    [admin, 'skiff/v1/api/cli-1/req', false, true],
    [admin, 'skiff/v1/api/other/req', false, false],
    [admin, 'skiff/v1/nodes/pi-1/desired', false, false],
    [admin, 'skiff/v1/metrics/queue-depth', false, true],
    [admin, 'skiff/v1/metrics/greenhouse/backlog', true, true],
    [admin, 'skiff/v1/metrics/', false, false],
    [node, 'skiff/v1/metrics/queue-depth', false, false],
    [joiner, 'skiff/v1/metrics/queue-depth', false, false],
  ] as const)('%o publishes %s (retain %s): %s', (id, topic, retain, allowed) => {
    expect(mayPublish(id, 'cli-1', topic, retain)).toBe(allowed);
  });
});

describe('subscribe ACL', () => {
  it.each([
    [node, 'skiff/v1/nodes/pi-1/desired', true],
    [node, 'skiff/v1/nodes/pi-1/rpc/+/req', true],
    [node, 'skiff/v1/services/#', true],
    [node, 'skiff/v1/services/default/web', true],
    [node, 'skiff/v1/cluster/lease', true], // the lease interval the master assigns (protocol/lease.ts)
    [node, 'skiff/v1/cluster/#', false],
    [node, 'skiff/v1/nodes/pi-2/desired', false],
    [node, 'skiff/v1/nodes/+/desired', false],
    [node, 'skiff/v1/#', false],
    [node, '#', false],
    [node, 'skiff/v1/api/+/res', false],
    [joiner, `skiff/v1/join/${session}/res`, true],
    [joiner, 'skiff/v1/join/+/res', false],
    [joiner, 'skiff/v1/join/#', false],
    [joiner, 'skiff/v1/join/pi-9/res', false],
    [joiner, `skiff/v1/join/${session}/req`, false],
    [admin, 'skiff/v1/#', true],
    [admin, 'skiff/v1/events', true],
    [admin, '#', false],
    [admin, '$SYS/#', false],
  ] as const)('%o subscribes %s: %s', (id, filter, allowed) => {
    expect(maySubscribe(id, 'cli-1', filter)).toBe(allowed);
  });
});

describe('user tokens', () => {
  const viewer: Identity = { role: 'user', name: 'grafana', access: 'view' };
  const editor: Identity = { role: 'user', name: 'ci', access: 'edit' };
  const tokenAdmin: Identity = { role: 'user', name: 'ops', access: 'admin' };
  it.each([
    [viewer, 'skiff/v1/api/cli-1/req', true],
    // Refused by the API with an event on skiff/v1/events, not by the broker (which could only close the connection).
    [viewer, 'skiff/v1/apply', true],
    [viewer, 'skiff/v1/metrics/queue', false],
    [editor, 'skiff/v1/apply', true],
    [editor, 'skiff/v1/api/other/req', false],
    [tokenAdmin, 'skiff/v1/apply', true],
    [editor, 'skiff/v1/nodes/pi-1/status', false],
  ] as const)('%o publishes %s: %s', (id, topic, allowed) => expect(mayPublish(id, 'cli-1', topic, false)).toBe(allowed));
  it.each([
    [viewer, 'skiff/v1/api/cli-1/res', true],
    [viewer, 'skiff/v1/api/+/res', false],
    [viewer, 'skiff/v1/events', true],
    [viewer, 'skiff/v1/services/#', true],
    [viewer, 'skiff/v1/#', false],
    [editor, 'skiff/v1/nodes/+/desired', false],
    [tokenAdmin, 'skiff/v1/#', true],
  ] as const)('%o subscribes %s: %s', (id, filter, allowed) => expect(maySubscribe(id, 'cli-1', filter)).toBe(allowed));
});

describe('client ids are data, never topic levels', () => {
  const viewer: Identity = { role: 'user', name: 'grafana', access: 'view' };
  // Before issue 9 the rules were built from the id: `#` as a client id made `api/#/res` — every answer.
  it.each(['#', '+', 'a/b', 'x\u0000', '', 'a'.repeat(129)])('a viewer with client id %j gets no API topic at all', (clientId) => {
    for (const t of ['skiff/v1/api/#', 'skiff/v1/api/+/res', `skiff/v1/api/${clientId}/res`, 'skiff/v1/api/cli-1/res']) expect(maySubscribe(viewer, clientId, t)).toBe(false);
    expect(mayPublish(viewer, clientId, `skiff/v1/api/${clientId}/req`, false)).toBe(false);
    expect(mayPublish(admin, clientId, `skiff/v1/api/${clientId}/req`, false)).toBe(false);
  });

  it.each([
    [viewer, 'skiff/v1/api/cli-1/res', true],
    [viewer, 'skiff/v1/api/cli-2/res', false],
    [viewer, 'skiff/v1/nodes/pi-1/desired', false],
    [node, 'skiff/v1/nodes/pi-1/desired', true],
    [node, 'skiff/v1/nodes/pi-2/desired', false],
    [joiner, `skiff/v1/join/${session}/res`, true],
    [admin, '$SYS/broker/new/clients', false],
  ] as const)('%o receives a message on %s: %s', (id, topic, allowed) => expect(mayReceive(id, 'cli-1', topic)).toBe(allowed));
});

describe('namespaced tokens on the topics', () => {
  const shopEdit: Identity = { role: 'user', name: 'shop-ci', access: 'edit', namespace: 'shop' };
  const shopView: Identity = { role: 'user', name: 'shop-ro', access: 'view', namespace: 'shop' };
  const view: Identity = { role: 'user', name: 'grafana', access: 'view' };

  it.each([
    [shopEdit, 'skiff/v1/apply', true], // each document is then checked against its namespace
    [shopEdit, 'skiff/v1/api/cli-1/req', true],
    [shopEdit, 'skiff/v1/metrics/queue-depth', false], // external metric names are cluster-wide
    [shopView, 'skiff/v1/apply', true], // as every view token: the API refuses it, with an event on events/shop
    [shopView, 'skiff/v1/metrics/queue-depth', false],
    [shopView, 'skiff/v1/api/cli-1/req', true],
  ] as const)('%o publishes %s: %s', (id, topic, allowed) => {
    expect(mayPublish(id, 'cli-1', topic, false)).toBe(allowed);
  });

  it.each([
    [shopEdit, 'skiff/v1/events/shop', true],
    [shopEdit, 'skiff/v1/events', false],
    [shopEdit, 'skiff/v1/events/+', false],
    [shopEdit, 'skiff/v1/events/default', false],
    [shopEdit, 'skiff/v1/services/shop/#', true],
    [shopEdit, 'skiff/v1/services/shop/web', true],
    [shopEdit, 'skiff/v1/services/#', false],
    [shopEdit, 'skiff/v1/services/default/web', false],
    [shopEdit, 'skiff/v1/api/cli-1/res', true],
    [shopView, 'skiff/v1/#', false],
    [view, 'skiff/v1/events', true],
    [view, 'skiff/v1/events/+', true],
    [view, 'skiff/v1/events/shop', true],
    [view, 'skiff/v1/events/#', true],
  ] as const)('%o subscribes %s: %s', (id, filter, allowed) => {
    expect(maySubscribe(id, 'cli-1', filter)).toBe(allowed);
  });
});
