/**
 * Issue 9, weak items: NodeRestriction and Node writes. A node wrote unchecked labels (`kubernetes.io/hostname` of
 * another node, node-role labels) and capacity (`1e400`, `NaN`, negative) into its own status, and an edit token
 * deleted and created Nodes. Replayed with a real agent's credential against a real master: the status is
 * refused and the Node is unchanged; edit access may not create or delete Nodes, admin may. The rules themselves
 * are checked table by table, in memory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { resolveOptions } from '../../edge-agent/config.js';
import { checkNodeStatus } from '../../master/nodes/restriction.js';
import { encode, topics, type Node } from '../../protocol/index.js';
import { nodeLabelRefusal } from '../../protocol/node-labels.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';

describe('what a node may write about itself (issue 9, NodeRestriction)', () => {
  let c: TestCluster;
  let editor: Api;

  beforeAll(async () => {
    c = await startCluster(['n1', 'n2']);
    const secret = (await c.api.request<{ token: string }>('token', { action: 'create', name: 'ci', access: 'edit' })).token;
    editor = await connectApi({ server: c.master.url, user: 'ci', token: secret, timeoutMs: 5000 });
  });
  afterAll(async () => {
    await editor?.close();
    await c?.stop();
  });

  it.each([
    ['the hostname label of another node', { labels: { 'kubernetes.io/hostname': 'n2' } }],
    ['a node-role label', { labels: { 'node-role.kubernetes.io/control-plane': '' } }],
    ['capacity 1e400', { capacity: { cpu: '1e400', memory: '1Gi', pods: '110' } }],
    ['capacity NaN', { capacity: { cpu: 'NaN', memory: '1Gi', pods: '110' } }],
    ['negative capacity', { allocatable: { cpu: '2', memory: '-1Gi', pods: '110' } }],
    ['99999E of memory', { capacity: { cpu: '2', memory: '99999E', pods: '110' } }],
  ])('a status with %s changes nothing', async (_what, bad) => {
    const credential = readFileSync(join(c.dir, 'n1', 'credential'), 'utf8').trim();
    const refusals = async () => (await c.api.request<{ events: { reason: string; message: string }[] }>('describe', { kind: 'Node', name: 'n1' })).events.filter((e) => e.reason === 'StatusRefused');
    const before = await c.api.request<Node>('get', { kind: 'Node', name: 'n1' });
    const seen = (await refusals()).length;
    const forger = mqtt.connect(c.master.url, { protocolVersion: 4, clientId: 'n1-forger', username: 'n1', password: credential, reconnectPeriod: 0 });
    await new Promise((r) => forger.once('connect', r));
    await forger.publishAsync(topics.nodeStatus('n1'), encode({ node: 'n1', online: true, ...bad }), { qos: 1 });
    // Wait until the master has handled it: either it refused (an event) or it wrote the Node.
    const handled = await eventually(async () => {
      const events = await refusals();
      const now = await c.api.request<Node>('get', { kind: 'Node', name: 'n1' });
      const refused = events.length > seen ? events.at(-1) : undefined;
      return refused || now.metadata.resourceVersion !== before.metadata.resourceVersion ? { refused, now } : undefined;
    }, 'the master to handle the forged status');
    expect(handled.now.metadata.labels).toEqual(before.metadata.labels);
    expect(handled.now.status?.capacity).toEqual(before.status?.capacity);
    expect(handled.now.status?.allocatable).toEqual(before.status?.allocatable);
    expect(handled.refused?.message).toContain('Node/n1: status message:');
    expect(c.agents[0].connected).toBe(true);
    forger.end(true);
  });

  it('an edit token may neither create nor delete Nodes; admin may', async () => {
    const fake = 'apiVersion: v1\nkind: Node\nmetadata: {name: fake-1}\n';
    const res = await editor.request<{ results: { action: string; error?: { code: string; message: string } }[] }>('apply', { manifest: fake });
    expect(res.results[0]).toMatchObject({ action: 'failed', error: { code: 'SKIFF_ERR_FORBIDDEN', message: 'user "ci" (edit access) may not apply nodes: only admin access may create, change or delete them' } });
    await expect(editor.request('delete', { kind: 'nodes', name: 'n2' })).rejects.toMatchObject({ code: 'SKIFF_ERR_FORBIDDEN' });
    await expect(editor.request('get', { kind: 'Node', name: 'fake-1' })).rejects.toMatchObject({ code: 'SKIFF_ERR_NOT_FOUND' });
    expect((await editor.request<Node>('get', { kind: 'Node', name: 'n2' })).metadata.name).toBe('n2');
    expect(c.agents[1].connected).toBe(true);
    // Edit keeps what only marks a node: cordon and uncordon.
    await editor.request('cordon', { name: 'n2' });
    await editor.request('uncordon', { name: 'n2' });
    // Admin can.
    expect((await c.api.request<{ results: { action: string }[] }>('apply', { manifest: fake })).results[0].action).toBe('created');
    await c.api.request('delete', { kind: 'Node', name: 'fake-1' });
  });
});

describe('NodeRestriction rules', () => {
  it.each([
    ['zone', 'attic', undefined],
    ['example.com/sensor', 'bme280', undefined],
    ['kubernetes.io/hostname', 'pi-1', undefined],
    ['kubernetes.io/hostname', 'pi-2', 'only to its own name "pi-1"'],
    ['topology.kubernetes.io/zone', 'greenhouse', undefined],
    ['node.kubernetes.io/instance-type', 'rpi4', undefined],
    ['kubelet.kubernetes.io/anything', 'x', undefined],
    ['node-role.kubernetes.io/control-plane', '', 'set by an administrator'],
    ['node-restriction.kubernetes.io/secure', 'true', 'set by an administrator'],
    ['kubernetes.io/other', 'x', 'well-known kubernetes.io labels'],
    ['foo.k8s.io/x', 'y', 'well-known kubernetes.io labels'],
    ['node.skiff.io/agent-version', '1', 'set by the master'],
  ])('%s=%s → %s', (key, value, refusal) => {
    const got = nodeLabelRefusal('pi-1', key, value);
    if (refusal === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(refusal);
  });

  it('the agent refuses restricted --labels at start, naming the label', () => {
    expect(() => resolveOptions({ master: 'mqtt://127.0.0.1:1883', name: 'pi-1', labels: { 'node-role.kubernetes.io/worker': '' } })).toThrow(/labels.node-role.kubernetes.io\/worker: node-role.kubernetes.io\/ labels are set by an administrator/);
  });

  const ok = { node: 'pi-1', online: true, capacity: { cpu: '4', memory: '8Gi', pods: '110' }, labels: { zone: 'a' }, addresses: [{ type: 'InternalIP', address: '10.0.0.5' }], runtimes: ['process'], conditions: [{ type: 'MemoryPressure', status: 'False' }] };
  it.each([
    ['a valid status', ok, undefined],
    ['the Will', { node: 'pi-1', online: false }, undefined],
    ['another node name', { ...ok, node: 'pi-2' }, 'node: must be the sender\'s own name "pi-1"'],
    ['Infinity cpu', { ...ok, capacity: { cpu: '1e400' } }, 'capacity[cpu]: must be a finite quantity'],
    ['a number NaN', { ...ok, allocatable: { cpu: Number.NaN } }, 'allocatable[cpu]: must be a finite quantity'],
    ['17 resources', { ...ok, capacity: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`r${i}`, '1'])) }, 'capacity: must list at most 16 resources'],
    ['65 labels', { ...ok, labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, 'v'])) }, 'labels: must have at most 64 labels'],
    ['a bad taint effect', { ...ok, taints: [{ key: 'k', effect: 'Evict' }] }, 'taints[0].effect: must be one of'],
    ['a huge condition message', { ...ok, conditions: [{ type: 'X', status: 'True', message: 'm'.repeat(2000) }] }, 'conditions[0].message: must be at most 1024 characters'],
    ['17 addresses', { ...ok, addresses: Array.from({ length: 17 }, () => ({ type: 'InternalIP', address: '1.2.3.4' })) }, 'addresses: must have at most 16 entries'],
    ['not a map', 'hello', 'must be a map'],
  ])('%s', (_what, m, error) => {
    if (error === undefined) expect(() => checkNodeStatus('pi-1', m)).not.toThrow();
    else expect(() => checkNodeStatus('pi-1', m)).toThrow(error);
  });
});
