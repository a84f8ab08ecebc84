/**
 * Issue 13: an attacker holding a valid node credential (n1's, read off its board) tries every path it has to
 * another node's state and to Secrets: publishing n2's status and pod reports, reading n2's desired set, `#`,
 * the apply topic, the API, forging reports of n2's pod on its own topic. Each is refused (a refused publish
 * closes the connection; a refused subscription gets SUBACK 128) and nothing changes. What n1 does receive — its
 * own desired set — holds the Secrets of the pods bound to it and no other (the Node authorizer's rule); a Secret
 * only n2's pod uses, or no pod uses, never reaches it, in any form. Also: an anonymous client, a wrong password
 * and a revoked token are refused at CONNECT.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectApi } from '../../cli/client.js';
import { decode, encode, topics, type DesiredMessage, type KObject, type Node, type Pod } from '../../protocol/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';
import { rawConnect } from './helpers.js';

const values = { n1: 'Valve-Secret-For-N1-4c1d', n2: 'Irrigation-Key-Of-N2-88af', unused: 'Nobody-Uses-This-One-0b2e' };
const secretYaml = (name: string, value: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: ${name}}\nstringData: {value: ${value}}\n---\n`;
const podYaml = (name: string, node: string, secret: string) =>
  `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  nodeName: ${node}\n  containers:\n  - name: c\n    command: [sleep, "300"]\n    env: [{name: V, valueFrom: {secretKeyRef: {name: ${secret}, key: value}}}]\n---\n`;

/** True when any form of `v` (plain, base64) is in the bytes. */
const holds = (b: Buffer, v: string) => b.includes(v) || b.includes(Buffer.from(v).toString('base64'));

describe('an attacker with a valid node credential (issue 13)', () => {
  let c: TestCluster;
  let credential: string;
  const clients: MqttClient[] = [];

  /** Connects as n1 with a client id of the attacker's; resolves once connected. */
  async function asNode(id: string): Promise<MqttClient> {
    const m = mqtt.connect(c.master.url, { protocolVersion: 4, clientId: id, username: 'n1', password: credential, reconnectPeriod: 0 });
    clients.push(m);
    m.on('error', () => undefined);
    await new Promise((r) => m.once('connect', r));
    return m;
  }
  /** Publishes and resolves when the broker has closed the connection (a refused publish). */
  const refusedPublish = async (m: MqttClient, topic: string, payload: Buffer | string) => {
    const closed = new Promise<void>((r) => m.once('close', () => r()));
    m.publish(topic, payload, { qos: 1 });
    await closed;
  };
  const state = async () => {
    const n2 = await c.api.request<Node>('get', { kind: 'Node', name: 'n2' });
    const pod = await c.api.request<Pod>('get', { kind: 'Pod', name: 'p2' });
    const all = await c.api.request<{ items: KObject[] }>('list', { kind: 'ConfigMap', allNamespaces: true });
    return { n2: n2.metadata.resourceVersion, labels: n2.metadata.labels, pod: pod.status, configMaps: all.items.length };
  };

  beforeAll(async () => {
    c = await startCluster(['n1', 'n2']);
    credential = readFileSync(join(c.dir, 'n1', 'credential'), 'utf8').trim();
    await c.apply(secretYaml('s1', values.n1) + secretYaml('s2', values.n2) + secretYaml('unused', values.unused) + podYaml('p1', 'n1', 's1') + podYaml('p2', 'n2', 's2'));
    await eventually(async () => (await c.pods()).filter((p) => p.status?.phase === 'Running').length === 2, 'both pods running');
  });
  afterAll(async () => {
    for (const m of clients) m.end(true);
    await c?.stop();
  });

  it("receives its own desired set with its pods' Secrets only", async () => {
    const m = await asNode('n1-attacker-1');
    const got: Buffer[] = [];
    m.on('message', (_t, p) => p.length > 0 && got.push(p));
    await m.subscribeAsync(topics.nodeDesired('n1'));
    // n1's agent reads deltas, so its set is no longer retained: ask for it as the agent does.
    await m.publishAsync(topics.nodeResync('n1'), encode({ generation: -1 }), { qos: 1 });
    await eventually(() => got.length > 0, "n1's desired set");
    const desired = decode<DesiredMessage>(got[0]).value;
    expect(desired.pods.map((p) => p.metadata.name)).toEqual(['p1']);
    expect(Object.keys(desired.secrets ?? {})).toEqual(['default/s1']);
    expect(holds(got[0], values.n1)).toBe(true); // the check can fail: n1's own Secret is there
    expect(holds(got[0], values.n2) || holds(got[0], values.unused)).toBe(false);
  });

  it("cannot read n2's desired set, the whole tree, other clients' answers", async () => {
    const m = await asNode('n1-attacker-2');
    const got: Buffer[] = [];
    m.on('message', (_t, p) => got.push(p));
    for (const filter of [topics.nodeDesired('n2'), 'skiff/v1/nodes/+/desired', '#', 'skiff/v1/#', 'skiff/v1/api/+/res', 'skiff/v1/events'])
      await expect(m.subscribeAsync(filter), filter).rejects.toThrow();
    await m.subscribeAsync('skiff/v1/services/#'); // allowed: endpoints, no Secret
    await c.apply(secretYaml('s2', values.n2 + '-v2')); // n2's set changes now: n1 must not see it
    await c.master.idle();
    expect(got.some((b) => holds(b, values.n2) || holds(b, values.unused))).toBe(false);
    expect(m.connected).toBe(true); // a refused subscription does not close the connection
  });

  it("publishing n2's status or pod reports, the apply topic or the API: refused, connection closed, nothing changes", async () => {
    const before = await state();
    const p2 = await c.api.request<Pod>('get', { kind: 'Pod', name: 'p2' });
    const forgedReport = encode({ pods: [{ namespace: 'default', name: 'p2', uid: p2.metadata.uid, status: { phase: 'Failed', reason: 'Forged' } }], full: true });
    await refusedPublish(await asNode('n1-attacker-3'), topics.nodeStatus('n2'), encode({ node: 'n2', online: false }));
    await refusedPublish(await asNode('n1-attacker-4'), topics.nodePods('n2'), forgedReport);
    await refusedPublish(await asNode('n1-attacker-5'), topics.apply, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: planted}\ndata: {a: b}\n');
    await refusedPublish(await asNode('n1-attacker-6'), topics.apiReq('n1-attacker-6'), encode({ id: '1', verb: 'get', kind: 'Secret', name: 's2' }));
    await refusedPublish(await asNode('n1-attacker-7'), 'skiff/v1/nodes/n2/rpc/abc/res', encode({ id: 'abc', ok: true }));
    // On its own topic, a report of a pod bound to n2 is ignored.
    const own = await asNode('n1-attacker-8');
    await own.publishAsync(topics.nodePods('n1'), forgedReport, { qos: 1 });
    await c.master.idle();
    expect(await state()).toEqual(before);
    expect(c.agents.every((a) => a.connected)).toBe(true);
  });

  it('an anonymous client, a wrong password and a revoked token are refused at CONNECT', async () => {
    const { token } = await c.api.request<{ token: string }>('token', { action: 'create', name: 'temp', access: 'view' });
    const port = c.master.mqttPort;
    expect(await rawConnect(port, { clientId: 'anon-1' })).toBe(4);
    expect(await rawConnect(port, { clientId: 'anon-2', username: 'admin', password: 'not-the-token' })).toBe(4);
    expect(await rawConnect(port, { clientId: 'anon-3', username: 'n1', password: 'not-the-credential' })).toBe(4);
    expect(await rawConnect(port, { clientId: 'anon-4', username: 'temp', password: token })).toBe(0);
    await c.api.request('token', { action: 'revoke', name: 'temp' });
    expect(await rawConnect(port, { clientId: 'anon-5', username: 'temp', password: token })).toBe(4);
    await expect(connectApi({ server: c.master.url, user: 'temp', token, timeoutMs: 3000 })).rejects.toThrow();
  });
});
