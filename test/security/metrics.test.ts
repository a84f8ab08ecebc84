/**
 * Issue 9, item 11 and the weak retained metrics: a node grew the master's memory without bound by
 * reporting metrics for pods that were not its own (1 M fake entries: +420 MB, never freed), and
 * retained messages on `skiff/v1/metrics/*` were kept without bound (100,000 × 4 KB until restart).
 * Replayed over MQTT with a real node credential and the admin token against a real master: only the
 * node's own pods are kept, the retained metrics stay within their budget, and the memory stays put.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { encode, topics, type MetricsMessage, type Pod } from '../../protocol/index.js';
import { maxRetainedMetricBytes, maxRetainedMetrics } from '../../master/broker/retained.js';
import { maxExternalMetrics } from '../../master/metrics.js';
import { isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';
import { eventually } from '../helpers/wait.js';

const MB = 1024 * 1024;

/** The heap in use after a full collection (the master runs in this process): what is kept, not garbage. */
function heapKept(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

function connect(url: string, username: string, password: string, clientId: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 4, username, password, clientId, reconnectPeriod: 0, connectTimeout: 5000 });
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      c.end(true);
      reject(e);
    });
  });
}

describe('metrics memory is bounded', () => {
  let cluster: TestCluster;
  let own: Pod;
  let foreign: Pod;

  beforeAll(async () => {
    cluster = await startCluster(['metrics-n1']);
    await cluster.apply(`apiVersion: v1
kind: Pod
metadata: {name: mine}
spec: {containers: [{name: c, command: [node, -e, "setInterval(() => {}, 1000)"]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: elsewhere}
spec: {nodeSelector: {no: where}, containers: [{name: c, command: [sleep, '60']}]}
`);
    own = await eventually(async () => (await cluster.pods()).find((p) => p.metadata.name === 'mine' && isRunningReady(p)), 'my pod running');
    foreign = await eventually(async () => (await cluster.pods()).find((p) => p.metadata.name === 'elsewhere'), 'the pod that runs nowhere');
  }, 60_000);
  afterAll(async () => cluster?.stop());

  it("a node's metrics for 1,000,000 pods that are not its own are dropped: only its own pod is kept", async () => {
    const node = 'metrics-n1';
    const credential = readFileSync(join(cluster.dir, node, 'credential'), 'utf8').trim();
    const attacker = await connect(cluster.master.url, node, credential, 'metrics-attacker');
    const heapBefore = heapKept();
    const sample = (p: Pick<Pod, 'metadata'>) => ({ namespace: p.metadata.namespace!, name: p.metadata.name, uid: p.metadata.uid!, cpuMilli: 5, memoryBytes: 1 << 20 });
    for (let batch = 0; batch < 1000; batch++) {
      const pods: MetricsMessage['pods'] = Array.from({ length: 1000 }, (_, i) => ({ namespace: 'default', name: `fake-${batch}-${i}`, uid: `u-${batch}-${i}`, cpuMilli: 1, memoryBytes: 1 }));
      // A pod the node does not run (not bound to it), and the node's own one, in every message.
      pods.unshift(sample(foreign), sample(own));
      await attacker.publishAsync(topics.nodeMetrics(node), encode({ ts: Date.now(), node: { cpuMilli: 10, memoryBytes: 1 << 20 }, pods } satisfies MetricsMessage), { qos: 1 });
    }
    attacker.end(true);
    await eventually(() => cluster.master.metrics.pod('default', 'mine', own.metadata.uid)?.cpuMilli === 5, "the node's own sample");
    const held = cluster.master.metrics.size();
    const grown = heapKept() - heapBefore;
    console.log(`1,000,000 fake pod samples: master keeps ${held.pods} pod sample(s) of ${held.nodes} node(s); heap ${grown >= 0 ? '+' : ''}${Math.round(grown / MB)} MB`);
    expect(held.pods).toBe(1);
    expect(cluster.master.metrics.pod('default', 'elsewhere')).toBeUndefined();
    expect(cluster.master.metrics.pod('default', 'fake-0-0')).toBeUndefined();
    const top = await cluster.api.request<{ items: { name: string }[] }>('top', { kind: 'Pod', allNamespaces: true });
    expect(top.items.map((r) => r.name)).toEqual(['mine']);
    expect(grown).toBeLessThan(20 * MB); // before: +420 MB, never freed
  }, 60_000);

  it('retained external metrics stay within their budget; longer payloads and names beyond the limit are not taken', async () => {
    const { master } = cluster;
    const publisher = await connect(master.url, 'admin', master.adminToken, 'metrics-sensor');
    const payload = Buffer.from(`${'4'.repeat(4000)}`); // 4 KB: not a metric value, and a lot to retain
    for (let i = 0; i < 3000; i++) publisher.publish(topics.metric(`sensor/${i}`), i % 2 ? payload : Buffer.from(String(i)), { qos: 0, retain: true });
    await publisher.publishAsync(topics.metric('sensor/last'), Buffer.from('42'), { qos: 1, retain: true });
    await eventually(() => master.metrics.externalValue('sensor/last') !== undefined || master.metrics.size().external >= maxExternalMetrics, 'the sensors read');
    publisher.end(true);
    // What a newcomer gets from the broker's retained store.
    const reader = await connect(master.url, 'admin', master.adminToken, 'metrics-reader');
    const retained = new Map<string, number>();
    reader.on('message', (t, p, packet) => packet.retain && retained.set(t, p.length + Buffer.byteLength(t)));
    await reader.subscribeAsync(`${topics.metric('#')}`);
    let seen = -1;
    await eventually(async () => {
      await new Promise((r) => setTimeout(r, 200));
      const same = retained.size === seen;
      seen = retained.size;
      return same && seen > 0;
    }, 'the retained messages delivered');
    reader.end(true);
    const bytes = [...retained.values()].reduce((a, b) => a + b, 0);
    const held = master.metrics.size();
    console.log(`3,000 retained sensor topics (half 4 KB): broker retains ${retained.size} (${Math.round(bytes / 1024)} KiB); master keeps ${held.external} values`);
    expect(retained.size).toBeLessThanOrEqual(maxRetainedMetrics);
    expect(bytes).toBeLessThanOrEqual(maxRetainedMetricBytes);
    expect(held.external).toBeLessThanOrEqual(maxExternalMetrics);
    expect(master.metrics.externalValue('sensor/1')).toBeUndefined(); // 4 KB is no number
    expect(master.metrics.externalValue('sensor/0')?.value).toBe(0);
  }, 60_000);
});
