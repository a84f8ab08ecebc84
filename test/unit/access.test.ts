/**
 * The rule table of the API (master/api/access.ts), case by case: what view, edit and admin may do, cluster-wide
 * and confined to a namespace, and what view sees of a Secret (master/api/redact.ts).
 */
import { describe, expect, it } from 'vitest';
import { decide, type Attributes } from '../../master/api/access.js';
import { redactSecrets } from '../../master/api/redact.js';
import type { Identity } from '../../master/broker/acl.js';

const admin: Identity = { role: 'admin', name: 'admin' };
const view: Identity = { role: 'user', name: 'grafana', access: 'view' };
const edit: Identity = { role: 'user', name: 'ci', access: 'edit' };
const userAdmin: Identity = { role: 'user', name: 'ops', access: 'admin' };
const shopView: Identity = { role: 'user', name: 'shop-ro', access: 'view', namespace: 'shop' };
const shopEdit: Identity = { role: 'user', name: 'shop-ci', access: 'edit', namespace: 'shop' };
const shopAdmin: Identity = { role: 'user', name: 'shop-ops', access: 'admin', namespace: 'shop' };
const node: Identity = { role: 'node', name: 'pi-1' };
const joiner: Identity = { role: 'joiner', name: 'pi-9', token: 'bootstrap' };

const a = (verb: string, kind?: string, namespace?: string, more: Partial<Attributes> & { action?: string } = {}) => ({ verb, kind, namespace, ...more });

describe('the API rule table', () => {
  it.each([
    // view reads, never writes
    [view, a('get', 'Secret', 'default'), true],
    [view, a('list', 'Pod', undefined, { allNamespaces: true }), true],
    [view, a('logs', undefined, 'default'), true],
    [view, a('rollout', 'Deployment', 'default', { action: 'status' }), true],
    [view, a('rollout', 'Deployment', 'default', { action: 'undo' }), false],
    [view, a('apply', 'Deployment', 'default'), false],
    [view, a('exec', undefined, 'default'), false],
    [view, a('delete', 'Pod', 'default'), false],
    [view, a('token'), false],
    // edit writes workloads, not Nodes, may cordon and drain
    [edit, a('apply', 'Deployment', 'shop'), true],
    [edit, a('apply', 'Node'), false],
    [edit, a('delete', 'nodes'), false],
    [edit, a('cordon'), true],
    [edit, a('drain'), true],
    [edit, a('exec', undefined, 'default'), true],
    [edit, a('apply', 'Namespace'), true],
    // StatefulSets and claims are workloads; volumes, classes, quotas and limit ranges are the cluster admin's
    [edit, a('apply', 'StatefulSet', 'shop'), true],
    [edit, a('scale', 'sts', 'shop'), true],
    [edit, a('rollout', 'StatefulSet', 'shop', { action: 'undo' }), true],
    [edit, a('delete', 'pvc', 'shop'), true],
    [edit, a('apply', 'PersistentVolume'), false],
    [edit, a('delete', 'pv'), false],
    [edit, a('apply', 'StorageClass'), false],
    [edit, a('apply', 'ResourceQuota', 'shop'), false],
    [edit, a('patch', 'limits', 'shop'), false],
    [view, a('get', 'PersistentVolume'), true],
    [view, a('list', 'ResourceQuota', 'shop'), true],
    [view, a('rollout', 'StatefulSet', 'shop', { action: 'status' }), true],
    [edit, a('token'), false],
    [edit, a('backup'), false],
    [edit, a('secrets'), false],
    // admin everything
    [admin, a('apply', 'Node'), true],
    [admin, a('token'), true],
    [userAdmin, a('delete', 'Node'), true],
    [userAdmin, a('secrets'), true],
    // confined to shop
    [shopView, a('get', 'Pod', 'shop'), true],
    [shopView, a('get', 'Secret', 'shop'), true],
    [shopView, a('get', 'Pod', 'default'), false],
    [shopView, a('list', 'Pod', undefined), false], // no namespace given means "default" here; the server fills the token's own first
    [shopView, a('list', 'Pod', 'shop', { allNamespaces: true }), false],
    [shopView, a('list', 'Node'), true],
    [shopView, a('get', 'Namespace'), true],
    [shopView, a('top', 'Node'), true],
    [shopView, a('top', 'Pod', 'shop'), true],
    [shopView, a('top', 'Pod', 'shop', { allNamespaces: true }), false],
    [shopView, a('version'), true],
    [shopView, a('can-i'), true],
    [shopEdit, a('apply', 'Deployment', 'shop'), true],
    [shopEdit, a('apply', 'Deployment', 'default'), false],
    [shopEdit, a('delete', 'Secret', 'kube-system'), false],
    [shopEdit, a('apply', 'Namespace'), false],
    [shopEdit, a('cordon'), false],
    [shopEdit, a('drain'), false],
    [shopEdit, a('exec', undefined, 'shop'), true],
    [shopEdit, a('logs', undefined, 'other'), false],
    [shopEdit, a('watch', 'Pod', 'shop'), true],
    [shopEdit, a('watch', 'Pod', 'shop', { allNamespaces: true }), false],
    [shopAdmin, a('apply', 'Node'), false],
    [shopAdmin, a('token'), false],
    [shopAdmin, a('backup'), false],
    [shopAdmin, a('delete', 'Deployment', 'shop'), true],
    [shopAdmin, a('apply', 'ResourceQuota', 'shop'), false],
    [shopAdmin, a('delete', 'LimitRange', 'shop'), false],
    [shopAdmin, a('apply', 'PersistentVolume'), false],
    [shopAdmin, a('apply', 'PersistentVolumeClaim', 'shop'), true],
    [shopEdit, a('apply', 'StatefulSet', 'shop'), true],
    [shopEdit, a('apply', 'PersistentVolumeClaim', 'default'), false],
    [shopView, a('get', 'ResourceQuota', 'shop'), true],
    [shopView, a('get', 'StorageClass'), true],
    [userAdmin, a('apply', 'ResourceQuota', 'shop'), true],
    [userAdmin, a('apply', 'PersistentVolume'), true],
    [admin, a('apply', 'StorageClass'), true],
    // nodes and joiners have no API
    [node, a('get', 'Secret', 'default'), false],
    [joiner, a('version'), false],
    [admin, a('no-such-verb'), false],
  ] as const)('%o: %o → %s', (id, attrs, allowed) => {
    expect(decide(id, attrs).allowed).toBe(allowed);
  });

  it('says why, in words an operator can act on', () => {
    expect(decide(shopEdit, a('apply', 'Deployment', 'default')).reason).toBe('user "shop-ci" (edit access in namespace "shop") may not apply deployments in namespace "default"');
    expect(decide(shopView, a('list', 'Pod', 'shop', { allNamespaces: true })).reason).toBe('user "shop-ro" (view access in namespace "shop") may not list pods at the cluster scope (all namespaces)');
    expect(decide(shopEdit, a('apply', 'Namespace')).reason).toBe('user "shop-ci" (edit access in namespace "shop") may not apply namespaces: they are cluster-scoped, and this token is confined to namespace "shop"');
    expect(decide(edit, a('apply', 'Node')).reason).toBe('user "ci" (edit access) may not apply nodes: only admin access may create, change or delete them');
    expect(decide(shopAdmin, a('apply', 'ResourceQuota', 'shop')).reason).toBe('user "shop-ops" (admin access in namespace "shop") may not apply resourcequotas: only admin access may create, change or delete them');
    expect(decide(shopAdmin, a('token')).reason).toBe('user "shop-ops" (admin access in namespace "shop") may not token: it acts on the whole cluster, and this token is confined to namespace "shop"');
    expect(decide(view, a('exec', undefined, 'default')).reason).toBe('user "grafana" (view access) may not exec');
    expect(decide(node, a('get')).reason).toBe('node pi-1 has no access to the API');
    expect(decide(shopView, a('get', 'Pod', 'shop'))).toEqual({ allowed: true, reason: 'view access in namespace "shop"' });
  });
});

describe('what view sees of a Secret', () => {
  const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from('hunter2!').toString('base64'), user: Buffer.from('app').toString('base64') } };

  it('metadata, type and key sizes, never a value — alone, in lists, watch events, describe answers and apply results', () => {
    const redacted = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, type: 'Opaque', dataBytes: { password: 8, user: 3 } };
    expect(redactSecrets(secret)).toEqual(redacted);
    expect(redactSecrets({ id: '1', ok: true, result: { kind: 'List', items: [secret, { kind: 'Pod', metadata: { name: 'p' } }] } })).toEqual({
      id: '1', ok: true, result: { kind: 'List', items: [redacted, { kind: 'Pod', metadata: { name: 'p' } }] },
    });
    expect(redactSecrets({ id: '1', ok: true, event: { type: 'ADDED', object: secret } }).event.object).toEqual(redacted);
    expect(redactSecrets({ result: { object: secret, events: [] } }).result.object).toEqual(redacted);
    expect(redactSecrets({ result: { results: [{ object: { ...secret, stringData: { pin: '1234' } } }] } }).result.results[0].object).toEqual({ ...redacted, dataBytes: { password: 8, user: 3, pin: 4 } });
    expect(JSON.stringify(redactSecrets({ a: [{ b: { c: secret } }] }))).not.toContain(secret.data.password);
  });

  it('leaves everything else as it is (the same objects)', () => {
    const pod = { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] } };
    const res = { id: '1', ok: true, result: { items: [pod] } };
    expect(redactSecrets(res)).toBe(res);
  });
});
