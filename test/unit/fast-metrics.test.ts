/**
 * A node's metrics at the broker (master/broker/fast-api.ts), over real MQTT connections to the embedded broker: taken
 * where they are parsed — handed to the master once, the node told alive, never through the broker queue; while an
 * administrator watches metrics topics they go through aedes (the watcher gets them); a node publishing on another
 * node's metrics topic, or over the payload limit, is refused by aedes as before.
 */
import { describe, expect, it } from 'vitest';
import { mayMatchNodeMetrics } from '../../master/broker/fast-api.js';
import { PAYLOAD_LIMITS } from '../../master/broker/limits.js';
import { encode, topics } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';
import { nodeReportsBroker, watchAsAdmin } from '../helpers/broker-taps.js';

const sample = encode({ ts: 1, node: { cpuMilli: 120, memoryBytes: 1 << 28 }, pods: [] });

describe('broker: node metrics on the fast path', () => {
  const b = nodeReportsBroker();

  it('a node’s metrics (QoS 0 and 1) are handed over once, with its identity, the node told b.alive, never through the queue', async () => {
    const n1 = await b.connect('n1', 'cred-n1');
    n1.publish(topics.nodeMetrics('n1'), sample, { qos: 0 });
    await n1.publishAsync(topics.nodeMetrics('n1'), sample, { qos: 1 }); // resolves on the PUBACK
    await eventually(() => b.routed.length === 2, 'both handed over');
    expect(b.routed.map((m) => [m.topic, m.identity.role, m.identity.name, m.payload.equals(sample)])).toEqual([
      [topics.nodeMetrics('n1'), 'node', 'n1', true],
      [topics.nodeMetrics('n1'), 'node', 'n1', true],
    ]);
    expect(b.alive).toEqual(['n1', 'n1']);
    expect(b.queued.filter((t) => t === topics.nodeMetrics('n1'))).toEqual([]);
  });

  it('metrics sent while an earlier message of the node is still in aedes\' hands follow it there, in order (deltas apply in order)', async () => {
    const n1 = await b.connect('n1', 'cred-n1');
    const resync = encode({ generation: 0 });
    for (let i = 0; i < 5; i++) {
      n1.publish(topics.nodeResync('n1'), resync, { qos: 1 });
      n1.publish(topics.nodeMetrics('n1'), sample, { qos: 1 });
    }
    await eventually(() => b.routed.length === 10, 'all handed over');
    expect(b.routed.map((m) => m.topic)).toEqual(Array(5).fill([topics.nodeResync('n1'), topics.nodeMetrics('n1')]).flat());
  });

  it('while an administrator watches metrics topics, they go through aedes: the watcher gets them and the master once', async () => {
    const { admin, seen } = await watchAsAdmin(b.broker, 'skiff/v1/nodes/+/metrics', b.clients);
    const n1 = await b.connect('n1', 'cred-n1');
    await n1.publishAsync(topics.nodeMetrics('n1'), sample, { qos: 1 });
    await eventually(() => seen.includes(topics.nodeMetrics('n1')) && b.routed.length === 1, 'the watcher and the master got it');
    expect(b.queued).toContain(topics.nodeMetrics('n1'));
    expect(b.alive).toEqual(['n1']); // told once, by aedes' authorizePublish
    await admin.unsubscribeAsync('skiff/v1/nodes/+/metrics');
    await eventually(() => !b.broker.queue.livenessWatched, 'no watcher counted');
    b.queued.length = 0;
    await n1.publishAsync(topics.nodeMetrics('n1'), sample, { qos: 1 });
    await eventually(() => b.routed.length === 2, 'the second handed over');
    expect(b.queued.filter((t) => t === topics.nodeMetrics('n1'))).toEqual([]);
  });

  it("metrics on another node's topic, over the payload limit, or retained are not taken: aedes refuses or routes them as before", async () => {
    const n1 = await b.connect('n1', 'cred-n1');
    const closed = new Promise<void>((r) => n1.once('close', () => r()));
    n1.publish(topics.nodeMetrics('n2'), sample, { qos: 1 });
    await closed;
    const n2 = await b.connect('n2', 'cred-n2');
    const bigClosed = new Promise<void>((r) => n2.once('close', () => r()));
    n2.publish(topics.nodeMetrics('n2'), Buffer.alloc(PAYLOAD_LIMITS.nodeMetrics + 1), { qos: 1 });
    await bigClosed;
    expect(b.routed).toEqual([]);
  });

  it.each([
    ['skiff/v1/#', true],
    ['skiff/v1/nodes/+/metrics', true],
    ['skiff/v1/nodes/n1/metrics', true],
    ['skiff/v1/nodes/#', true],
    ['#', true],
    ['skiff/v1/nodes/+/lease', false],
    ['skiff/v1/nodes/n1/metrics/more', false],
    ['skiff/v1/metrics/+', false],
  ])('a subscription to %s may see metrics topics: %s', (filter, may) => {
    expect(mayMatchNodeMetrics(filter)).toBe(may);
  });
});
