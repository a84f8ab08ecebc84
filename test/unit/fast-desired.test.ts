/**
 * A node's desired sets written straight onto its connection (master/broker/index.ts Broker.publish, writeDesired), over
 * real MQTT connections to the embedded broker: the node gets every set, in order, never through the broker queue;
 * whenever someone else may get the message (an administrator's `skiff/v1/#`), it is retained, the node has not
 * subscribed, a persistent session exists, or an earlier set is still in aedes' path, it goes through aedes as before.
 * And the broker queue's remembered matches follow subscriptions as they come and go.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectAsync, type MqttClient } from 'mqtt';
import { Broker, desiredNodeOf } from '../../master/broker/index.js';
import { BrokerQueue } from '../../master/broker/emitter.js';
import { recentId } from '../../master/broker/fast-api.js';
import { silentLogger, topics } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';
import { fastPathCredentials as credentials, tapQueue, watchAsAdmin } from '../helpers/broker-taps.js';

describe('broker: desired sets written to the node at once', () => {
  let broker: Broker;
  /** Topics that went through the broker queue (aedes' path). */
  let queued: string[];
  /** The desired sets among them. */
  const desiredQueued = () => queued.filter((t) => t.endsWith('/desired'));
  const clients: MqttClient[] = [];
  const connect = async (username: string, password: string, clientId = `skiff-agent-${username}`, clean = true) => {
    const c = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { username, password, clientId, clean, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  /** A node subscribed to its desired topic (QoS 1, as the agent), and the payloads it receives there, in order. */
  const node = async (name: string) => {
    const c = await connect(name, `cred-${name}`);
    const got: string[] = [];
    c.on('message', (t, p) => t === topics.nodeDesired(name) && got.push(p.toString()));
    await c.subscribeAsync(topics.nodeDesired(name), { qos: 1 });
    return { c, got };
  };
  beforeEach(async () => {
    broker = await Broker.start({ port: 0, host: '127.0.0.1', credentials, log: silentLogger, onMessage: () => {} });
    queued = tapQueue(broker);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    await broker.close();
  });

  it('the node gets each set once, in order, at QoS 1, never through the queue', async () => {
    const n1 = await node('n1');
    const sent = Array.from({ length: 50 }, (_, i) => `set ${i}`);
    await Promise.all(sent.map((s) => broker.publish(topics.nodeDesired('n1'), Buffer.from(s))));
    await eventually(() => n1.got.length === sent.length, 'every set arrived');
    expect(n1.got).toEqual(sent);
    expect(desiredQueued()).toEqual([]);
    // The node acknowledged them (QoS 1) and the connection is still up: the next set arrives too.
    await broker.publish(topics.nodeDesired('n1'), Buffer.from('after'));
    await eventually(() => n1.got.at(-1) === 'after', 'the next set arrived');
    expect(n1.c.connected).toBe(true);
  });

  it("the node's PUBACKs of sets written at once are taken where they are read; those of aedes' own deliveries reach aedes", async () => {
    const acked: (number | undefined)[] = [];
    broker.aedes.on('ack', (packet: { messageId?: number } | undefined) => acked.push(packet?.messageId));
    const n1 = await node('n1');
    for (let i = 0; i < 20; i++) await broker.publish(topics.nodeDesired('n1'), Buffer.from(`set ${i}`));
    await eventually(() => n1.got.length === 20, 'every set arrived');
    // The node acknowledged each (mqtt.js answers a QoS 1 message at once): none of those reached aedes' handler.
    await new Promise((r) => setTimeout(r, 100));
    expect(acked).toEqual([]);
    expect(n1.c.connected).toBe(true);
    // A retained set goes through aedes, which delivers it with an id of its own: that PUBACK is aedes' to handle.
    await broker.publish(topics.nodeDesired('n1'), Buffer.from('retained'), { retain: true });
    await eventually(() => n1.got.at(-1) === 'retained' && acked.length === 1, "aedes handled its own delivery's PUBACK");
    await broker.publish(topics.nodeDesired('n1'), Buffer.from('after'));
    await eventually(() => n1.got.at(-1) === 'after', 'the next set arrived');
    await new Promise((r) => setTimeout(r, 100));
    expect(acked).toHaveLength(1);
  });

  it.each([
    // next id to hand out, an acknowledged id, recent enough to be writeNow's
    [100, 99, true],
    [100, 1, true],
    [1, 65535, true],
    [5, 65530, true],
    [40000, 40000 - 32768, true],
    [40000, 40000 - 32769, false], // older than half the id space: aedes may have handed it out since
    [100, 100, false], // the next id: handed out 65,535 ids ago
    [100, 101, false],
  ])('a PUBACK of id %s → %s is recent: %s', (next, id, recent) => {
    expect(recentId(next, id)).toBe(recent);
  });

  it('while an administrator watches desired topics, sets go through aedes: both get them', async () => {
    const n1 = await node('n1');
    const { admin, seen } = await watchAsAdmin(broker, 'skiff/v1/#', clients);
    await broker.publish(topics.nodeDesired('n1'), Buffer.from('one'));
    await eventually(() => n1.got.length === 1 && seen.includes(topics.nodeDesired('n1')), 'the node and the watcher got it');
    expect(desiredQueued()).toEqual([topics.nodeDesired('n1')]);
    await admin.unsubscribeAsync('skiff/v1/#');
    await eventually(async () => (await broker.publish(topics.nodeDesired('n1'), Buffer.from('probe')), desiredQueued().length === 1), 'the watcher gone');
    await eventually(() => n1.got.at(-1) === 'probe', 'the node got the last one');
    expect(seen.filter((t) => t === topics.nodeDesired('n1'))).toHaveLength(1);
  });

  it('a retained set goes through aedes (kept for the next subscriber); a set after it is written at once', async () => {
    const n1 = await node('n1');
    await broker.publish(topics.nodeDesired('n1'), Buffer.from('full'), { retain: true });
    await broker.publish(topics.nodeDesired('n1'), Buffer.from('delta'));
    await eventually(() => n1.got.length === 2, `both arrived (got ${JSON.stringify(n1.got)})`);
    expect(n1.got).toEqual(['full', 'delta']);
    expect(desiredQueued()).toEqual([topics.nodeDesired('n1')]);
    const late = await connect('admin', 'admin-token', 'late');
    const lateGot: string[] = [];
    late.on('message', (_t, p) => lateGot.push(p.toString()));
    await late.subscribeAsync(topics.nodeDesired('n1'), { qos: 1 });
    await eventually(() => lateGot.includes('full'), 'the retained set reached a later subscriber');
  });

  it('a set published while an earlier one is still in aedes\' path follows it there (no overtaking)', async () => {
    const n1 = await node('n1');
    const first = broker.publish(topics.nodeDesired('n1'), Buffer.from('first'), { retain: true });
    const second = broker.publish(topics.nodeDesired('n1'), Buffer.from('second'));
    await Promise.all([first, second]);
    expect(desiredQueued()).toEqual([topics.nodeDesired('n1'), topics.nodeDesired('n1')]);
    await broker.publish(topics.nodeDesired('n1'), Buffer.from('third')); // aedes is done with both: written at once
    await eventually(() => n1.got.includes('third'), 'the third arrived');
    expect(desiredQueued()).toHaveLength(2);
  });

  it('a node that has not subscribed, or is not connected, gets nothing written: aedes has the message', async () => {
    await connect('n2', 'cred-n2');
    await broker.publish(topics.nodeDesired('n2'), Buffer.from('x'));
    await broker.publish(topics.nodeDesired('n3'), Buffer.from('y'));
    expect(desiredQueued()).toEqual([topics.nodeDesired('n2'), topics.nodeDesired('n3')]);
  });

  it('while a persistent session exists, sets go through aedes (it may queue them for that session)', async () => {
    const n1 = await node('n1');
    await connect('admin', 'admin-token', 'keeper', false);
    await broker.publish(topics.nodeDesired('n1'), Buffer.from('kept'));
    await eventually(() => n1.got.includes('kept'), 'the node got it');
    expect(desiredQueued()).toEqual([topics.nodeDesired('n1')]);
  });

  it.each([
    ['skiff/v1/nodes/n1/desired', 'n1'],
    ['skiff/v1/nodes/board-7/desired', 'board-7'],
    ['skiff/v1/nodes//desired', undefined],
    ['skiff/v1/nodes/a/b/desired', undefined],
    ['skiff/v1/nodes/n1/lease', undefined],
    ['skiff/v1/api/n1/desired', undefined],
  ])('desiredNodeOf(%s) = %s', (topic, node) => {
    expect(desiredNodeOf(topic)).toBe(node);
  });
});

describe('broker queue: remembered matches', () => {
  it('follow subscriptions as they are added and removed', async () => {
    const q = new BrokerQueue(10);
    const got: string[] = [];
    const a = (p: { topic: string }, done: () => void) => (got.push(`a ${p.topic}`), done());
    const b = (p: { topic: string }, done: () => void) => (got.push(`b ${p.topic}`), done());
    expect(q.hasListener('x/y')).toBe(false);
    q.on('x/+', a);
    expect(q.hasListener('x/y')).toBe(true);
    q.on('x/y', b);
    expect(q.listenersOf('x/y')).toHaveLength(2);
    await new Promise<void>((r) => q.emit({ topic: 'x/y' }, () => r()));
    expect(got.sort()).toEqual(['a x/y', 'b x/y']);
    await new Promise<void>((r) => q.removeListener('x/+', a, r));
    expect(q.listenersOf('x/y')).toEqual([b]);
    q.removeAllListeners('x/y');
    expect(q.hasListener('x/y')).toBe(false);
  });
});
