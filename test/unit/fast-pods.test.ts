/**
 * A node's pod status reports at the broker (master/broker/fast-api.ts), over real MQTT connections to the embedded
 * broker: taken where they are parsed — handed to the master once, in order, the node told alive, acknowledged, never
 * through the broker queue; while an administrator watches pod report topics they go through aedes (the watcher gets
 * them); a node reporting on another node's topic, or over the payload limit, is refused by aedes as before.
 */
import { describe, expect, it } from 'vitest';
import { mayMatchNodePods } from '../../master/broker/fast-api.js';
import { PAYLOAD_LIMITS } from '../../master/broker/limits.js';
import { decode, encode, topics, type PodsMessage } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';
import { nodeReportsBroker, watchAsAdmin } from '../helpers/broker-taps.js';

const report = (i: number) => encode({ pods: [{ namespace: 'default', name: `p${i}`, uid: `u${i}`, status: { phase: 'Running' } }] } as PodsMessage);

describe('broker: pod reports on the fast path', () => {
  const b = nodeReportsBroker();

  it('reports (QoS 1) are acknowledged and handed over once each, in order, with the identity, the node told b.alive, never through the queue', async () => {
    const n1 = await b.connect('n1', 'cred-n1');
    for (let i = 0; i < 20; i++) await n1.publishAsync(topics.nodePods('n1'), report(i), { qos: 1 }); // resolves on the PUBACK
    await eventually(() => b.routed.length === 20, 'all handed over');
    expect(b.routed.map((m) => decode<PodsMessage>(m.payload).value.pods[0]!.name)).toEqual(Array.from({ length: 20 }, (_, i) => `p${i}`));
    expect(b.routed.every((m) => m.topic === topics.nodePods('n1') && m.identity.role === 'node' && m.identity.name === 'n1')).toBe(true);
    expect(b.alive).toEqual(Array(20).fill('n1'));
    expect(b.queued.filter((t) => t === topics.nodePods('n1'))).toEqual([]);
  });

  it('a report sent while an earlier message of the node is still in aedes\' hands follows it there, in order', async () => {
    const n1 = await b.connect('n1', 'cred-n1');
    // A resync goes through aedes; the report right behind it (one write, one read) must not overtake it.
    const resync = encode({ generation: 0 });
    for (let i = 0; i < 5; i++) {
      n1.publish(topics.nodeResync('n1'), resync, { qos: 1 });
      n1.publish(topics.nodePods('n1'), report(i), { qos: 1 });
    }
    await eventually(() => b.routed.length === 10, 'all handed over');
    expect(b.routed.map((m) => m.topic)).toEqual(Array(5).fill([topics.nodeResync('n1'), topics.nodePods('n1')]).flat());
  });

  it('while an administrator watches pod report topics, they go through aedes: the watcher gets them and the master once', async () => {
    const { admin, seen } = await watchAsAdmin(b.broker, 'skiff/v1/nodes/+/pods', b.clients);
    const n1 = await b.connect('n1', 'cred-n1');
    await n1.publishAsync(topics.nodePods('n1'), report(1), { qos: 1 });
    await eventually(() => seen.includes(topics.nodePods('n1')) && b.routed.length === 1, 'the watcher and the master got it');
    expect(b.queued).toContain(topics.nodePods('n1'));
    expect(b.alive).toEqual(['n1']); // told once, by aedes' authorizePublish
    await admin.unsubscribeAsync('skiff/v1/nodes/+/pods');
    await eventually(() => !b.broker.queue.livenessWatched, 'no watcher counted');
    b.queued.length = 0;
    await n1.publishAsync(topics.nodePods('n1'), report(2), { qos: 1 });
    await eventually(() => b.routed.length === 2, 'the second handed over');
    expect(b.queued.filter((t) => t === topics.nodePods('n1'))).toEqual([]);
  });

  it("reports on another node's topic or over the payload limit are not taken: aedes refuses them as before", async () => {
    const n1 = await b.connect('n1', 'cred-n1');
    const closed = new Promise<void>((r) => n1.once('close', () => r()));
    n1.publish(topics.nodePods('n2'), report(1), { qos: 1 });
    await closed;
    const n2 = await b.connect('n2', 'cred-n2');
    const bigClosed = new Promise<void>((r) => n2.once('close', () => r()));
    // One taken first: the limit it was checked against (asked once per topic) still refuses the next, larger one.
    await n2.publishAsync(topics.nodePods('n2'), report(2), { qos: 1 });
    n2.publish(topics.nodePods('n2'), Buffer.alloc(PAYLOAD_LIMITS.nodePods + 1), { qos: 1 });
    await bigClosed;
    expect(b.routed.map((m) => m.topic)).toEqual([topics.nodePods('n2')]);
  });

  it.each([
    ['skiff/v1/#', true],
    ['skiff/v1/nodes/+/pods', true],
    ['skiff/v1/nodes/n1/pods', true],
    ['skiff/v1/nodes/+/+', true],
    ['skiff/v1/nodes/+/metrics', false],
    ['skiff/v1/nodes/n1/pods/x', false],
  ])('a subscription to %s may see pod report topics: %s', (filter, may) => {
    expect(mayMatchNodePods(filter)).toBe(may);
  });
});
