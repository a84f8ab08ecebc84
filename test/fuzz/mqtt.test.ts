/**
 * Fuzzing over real MQTT, against a real master with a real agent: a node credential, a view token, an edit token
 * and a joiner each publish random and mutated payloads on the topics their ACL allows (and on random topics,
 * which close their connection: they reconnect). Afterwards the master still answers, the agent is still
 * connected, the workload it ran is still there and every stored object still validates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectKey, newJoinSession } from '../../protocol/join.js';
import { joinSecret } from '../../protocol/join-token.js';
import { normalizeObject, topics, type KObject, type Pod } from '../../protocol/index.js';
import { startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';
import { payloads } from './harness.js';

describe('fuzzing over real MQTT', () => {
  let c: TestCluster;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    c = await startCluster(['n1']);
    await c.apply('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: canary}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: canary}}\n  template:\n    metadata: {labels: {app: canary}}\n    spec: {containers: [{name: c, command: [sleep, "600"]}]}\n');
    await eventually(async () => (await c.pods('app=canary')).find((p) => p.status?.phase === 'Running'), 'the canary running');
  });
  afterAll(async () => {
    for (const m of clients) m.end(true);
    await c?.stop();
  });

  it('the master, the agent and the state come through', async () => {
    const view = (await c.api.request<{ token: string }>('token', { action: 'create', name: 'fz-view', access: 'view' })).token;
    const edit = (await c.api.request<{ token: string }>('token', { action: 'create', name: 'fz-edit', access: 'edit' })).token;
    const credential = readFileSync(join(c.dir, 'n1', 'credential'), 'utf8').trim();
    const who = [
      { username: 'n1', password: credential, clientId: 'n1-fuzz', topics: [topics.nodeStatus('n1'), topics.nodeLease('n1'), topics.nodePods('n1'), topics.nodeMetrics('n1'), topics.nodeRpcRes('n1', 'x1')] },
      { username: 'fz-view', password: view, clientId: 'fz-view-1', topics: [topics.apiReq('fz-view-1')] },
      { username: 'fz-edit', password: edit, clientId: 'fz-edit-1', topics: [topics.apiReq('fz-edit-1'), topics.apply, topics.metric('fuzz')] },
      { username: 'pi-fuzz', password: connectKey(joinSecret(c.master.joinToken)), clientId: 'skiff-join-fuzz', topics: [topics.joinReq(newJoinSession())] },
    ];
    const valid = { id: 'x', verb: 'get', kind: 'Pod', name: 'canary', step: 'hello', pods: [], node: 'n1', online: true, ts: 1 };
    const samples = fc.sample(fc.tuple(fc.nat(who.length - 1), fc.nat(10), payloads(valid), fc.boolean()), { numRuns: 300, seed: 1313 });
    const connections = new Map<number, MqttClient>();
    const connect = async (i: number) => {
      const w = who[i];
      const m = mqtt.connect(c.master.url, { protocolVersion: 4, clientId: w.clientId, username: w.username, password: w.password, reconnectPeriod: 0 });
      m.on('error', () => undefined);
      clients.push(m);
      await new Promise((resolve, reject) => {
        m.once('connect', resolve);
        m.once('close', () => reject(new Error(`${w.username} could not connect`)));
      });
      connections.set(i, m);
      return m;
    };
    let closedByBroker = 0;
    for (const [i, t, payload, offTopic] of samples) {
      let m = connections.get(i);
      if (!m || !m.connected) m = await connect(i);
      const topic = offTopic && t < 2 ? `skiff/v1/${['nodes/n2/status', 'apply', '#x', 'events', 'nodes/n1/desired'][t % 5]}` : who[i].topics[t % who[i].topics.length];
      const client = m;
      await new Promise<void>((resolve) => {
        const onClose = () => {
          closedByBroker++;
          resolve();
        };
        client.once('close', onClose);
        client.publish(topic, payload, { qos: 1 }, () => {
          client.off('close', onClose);
          resolve();
        });
      });
    }
    expect(closedByBroker).toBeGreaterThan(0); // some publishes were refused: the ACL held
    await c.master.idle();
    // The master answers, the agent is still there, the canary still runs, everything stored validates.
    expect(await c.api.request<{ version: string }>('version')).toMatchObject({ version: expect.any(String) });
    expect(c.agents[0].connected).toBe(true);
    const canary = await eventually(async () => (await c.pods('app=canary')).find((p: Pod) => p.status?.phase === 'Running'), 'the canary still running');
    expect(canary.spec.nodeName).toBe('n1');
    const all: KObject[] = [];
    for (const kind of ['Deployment', 'ReplicaSet', 'Pod', 'ConfigMap', 'Secret', 'Service', 'Node', 'Namespace'])
      all.push(...(await c.api.request<{ items: KObject[] }>('list', { kind, allNamespaces: true })).items);
    for (const o of all) expect(() => normalizeObject(structuredClone(o), o.metadata.namespace ?? 'default'), `${o.kind}/${o.metadata.name}`).not.toThrow();
  });
});
