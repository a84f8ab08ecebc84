/**
 * The lease path at the broker (master/broker/fast-lease.ts), over real MQTT connections to the embedded broker: a
 * Ready node's lease is handled once, off the connection (the router never sees it), a QoS 1 one acknowledged there;
 * one that needs more, a watched one, a QoS 2 or a garbled one goes through aedes as before; a node that only leases
 * is not dropped for silence (the keep-alive is refreshed where aedes would have); and a client whose leases are
 * acknowledged sends no keep-alive pings (mqtt.js defers them on every acknowledgement: edge-agent LEASE_QOS).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { connectAsync, type MqttClient } from 'mqtt';
import { generate } from 'mqtt-packet';
import { Broker, type Inbound } from '../../master/broker/index.js';
import { pubackPacket } from '../../master/broker/fast-lease.js';
import { encode, silentLogger, topics, type LeaseMessage } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';
import { fastPathCredentials as credentials, watchAsAdmin } from '../helpers/broker-taps.js';


describe('broker: the fast lease path', () => {
  let broker: Broker;
  let routed: Inbound[];
  let heard: { node: string; lease?: LeaseMessage }[];
  /** What onLease answers: true = handled. */
  let handled: boolean;
  const clients: MqttClient[] = [];
  const sockets: net.Socket[] = [];
  const connect = async (username: string, password: string, keepalive = 60) => {
    const c = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { username, password, clientId: `skiff-agent-${username}`, protocolVersion: 4, keepalive, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  beforeEach(async () => {
    routed = [];
    heard = [];
    handled = true;
    broker = await Broker.start({
      port: 0,
      host: '127.0.0.1',
      credentials,
      log: silentLogger,
      onMessage: (m) => void routed.push(m),
      onLease: (node, lease) => (heard.push({ node, ...(lease ? { lease } : {}) }), !!lease && handled),
    });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    for (const s of sockets.splice(0)) s.destroy();
    await broker.close();
  });

  it('a Ready node\'s lease is heard once, with its message, and never routed', async () => {
    const n1 = await connect('n1', 'cred-n1');
    for (let i = 0; i < 3; i++) n1.publish(topics.nodeLease('n1'), encode({ generation: i, intervalMs: 10_000 }), { qos: 0 });
    await n1.publishAsync(topics.nodePods('n1'), encode({ pods: [] }), { qos: 1 }); // a fence: everything before it was read
    await eventually(() => routed.length === 1, 'the pods message routed');
    expect(routed.map((m) => m.topic)).toEqual([topics.nodePods('n1')]);
    expect(heard).toEqual([
      { node: 'n1', lease: { generation: 0, intervalMs: 10_000 } },
      { node: 'n1', lease: { generation: 1, intervalMs: 10_000 } },
      { node: 'n1', lease: { generation: 2, intervalMs: 10_000 } },
      { node: 'n1' }, // the pods message proves it alive too (authorizePublish), without a lease
    ]);
  });

  it('a QoS 1 lease is acknowledged where it is taken (the PUBACK arrives), heard once and never routed', async () => {
    const n1 = await connect('n1', 'cred-n1');
    const pubacks: number[] = [];
    n1.on('packetreceive', (p) => void (p.cmd === 'puback' && pubacks.push(p.messageId!)));
    await n1.publishAsync(topics.nodeLease('n1'), encode({ generation: 7, intervalMs: 10_000 }), { qos: 1 }); // resolves on its PUBACK
    expect(pubacks).toHaveLength(1);
    await n1.publishAsync(topics.nodePods('n1'), encode({ pods: [] }), { qos: 1 }); // a fence
    await eventually(() => routed.length === 1, 'the pods message routed');
    expect(routed.map((m) => m.topic)).toEqual([topics.nodePods('n1')]);
    expect(heard[0]).toEqual({ node: 'n1', lease: { generation: 7, intervalMs: 10_000 } });
  });

  it('a lease that needs more (onLease says false, QoS 0 or 1), a QoS 2 lease and a garbled one go on through aedes to the router', async () => {
    const n1 = await connect('n1', 'cred-n1');
    handled = false;
    n1.publish(topics.nodeLease('n1'), encode({ generation: 1 }), { qos: 0 });
    await eventually(() => routed.length === 1, 'the lease routed');
    await n1.publishAsync(topics.nodeLease('n1'), encode({ generation: 2 }), { qos: 1 }); // acknowledged by aedes
    await eventually(() => routed.length === 2, 'the QoS 1 lease that needs more routed');
    handled = true;
    await n1.publishAsync(topics.nodeLease('n1'), encode({ generation: 3 }), { qos: 2 });
    n1.publish(topics.nodeLease('n1'), Buffer.from([0xc1, 0x00]), { qos: 0 });
    await eventually(() => routed.length === 4, 'the QoS 2 and the garbled lease routed');
    expect(routed.every((m) => m.topic === topics.nodeLease('n1') && m.identity.name === 'n1')).toBe(true);
  });

  it('a client whose leases go at QoS 1 sends no keep-alive pings; at QoS 0 it pings every keep-alive (mqtt.js)', async () => {
    const pings = async (qos: 0 | 1) => {
      const c = await connect(`n${qos + 1}`, `cred-n${qos + 1}`, 1); // keep-alive 1 s: mqtt.js pings 1 s after its last acknowledgement
      let n = 0;
      c.on('packetsend', (p) => void (p.cmd === 'pingreq' && n++));
      const until = Date.now() + 2_600;
      while (Date.now() < until) {
        c.publish(topics.nodeLease(`n${qos + 1}`), encode({ intervalMs: 300 }), { qos });
        await new Promise((r) => setTimeout(r, 300));
      }
      return n;
    };
    const [acked, unacked] = await Promise.all([pings(1), pings(0)]);
    expect(acked).toBe(0);
    expect(unacked).toBeGreaterThanOrEqual(1);
  });

  it('repeated lease bytes are heard as the same lease each time; a changed or garbled one in between is read anew', async () => {
    const n1 = await connect('n1', 'cred-n1');
    const a = encode({ generation: 1, intervalMs: 10_000 });
    const b = encode({ generation: 2, intervalMs: 10_000 });
    for (const payload of [a, a, b, Buffer.from([0xc1]), b, a]) n1.publish(topics.nodeLease('n1'), payload, { qos: 1 });
    await n1.publishAsync(topics.nodePods('n1'), encode({ pods: [] }), { qos: 1 }); // a fence
    await eventually(() => routed.length === 2, 'the garbled lease and the pods message routed');
    expect(heard.filter((h) => h.lease).map((h) => h.lease!.generation)).toEqual([1, 1, 2, 2, 1]);
    expect(routed.map((m) => m.payload.length)).toEqual([1, encode({ pods: [] }).length]);
  });

  it.each([1, 255, 256, 4660, 65535])('the PUBACK of message id %i is the bytes mqtt-packet generates', (id) => {
    expect(pubackPacket(id)).toEqual(generate({ cmd: 'puback', messageId: id }));
  });

  it('a node\'s lease on another node\'s topic is refused as before (the connection closes)', async () => {
    const n1 = await connect('n1', 'cred-n1');
    const closed = new Promise<void>((r) => n1.once('close', () => r()));
    n1.publish(topics.nodeLease('n2'), encode({}), { qos: 0 });
    await closed;
    expect(heard.filter((h) => h.lease)).toEqual([]);
    expect(routed).toEqual([]);
  });

  it('while an administrator watches lease topics, leases reach the watcher (through the queue); after it leaves they are picked off again', async () => {
    const { admin, seen } = await watchAsAdmin(broker, 'skiff/v1/nodes/+/lease', clients);
    const n1 = await connect('n1', 'cred-n1');
    n1.publish(topics.nodeLease('n1'), encode({ generation: 1 }), { qos: 0 });
    await eventually(() => seen.length === 1 && routed.length === 1, 'the lease delivered to the watcher and routed');
    await admin.unsubscribeAsync('skiff/v1/nodes/+/lease');
    await eventually(() => !broker.queue.livenessWatched, 'no watcher counted');
    n1.publish(topics.nodeLease('n1'), encode({ generation: 2 }), { qos: 0 });
    await eventually(() => heard.some((h) => h.lease?.generation === 2), 'the second lease heard');
    expect(seen).toHaveLength(1);
    expect(routed).toHaveLength(1);
  });

  it('a node that only leases keeps its connection past the keep-alive (1 s: aedes closes at 1.5 s of silence)', async () => {
    // A raw socket: mqtt.js would add PINGREQs of its own, and the leases must be all the broker hears.
    const socket = net.connect(broker.port, '127.0.0.1');
    sockets.push(socket);
    let closed = false;
    socket.on('close', () => (closed = true));
    const connack = new Promise<void>((r) => socket.once('data', () => r()));
    socket.write(generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'skiff-agent-n1', username: 'n1', password: Buffer.from('cred-n1'), keepalive: 1, clean: true }));
    await connack;
    const lease = generate({ cmd: 'publish', topic: topics.nodeLease('n1'), payload: encode({ generation: 1 }), qos: 0, retain: false, dup: false } as never);
    const started = Date.now();
    while (Date.now() - started < 3_500 && !closed) {
      socket.write(lease);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(closed).toBe(false);
    expect(heard.filter((h) => h.lease).length).toBeGreaterThan(8);
    expect(routed).toEqual([]);
    // Silent now: the keep-alive still closes it.
    await eventually(() => closed, 'closed for silence', 5_000);
  });
});
