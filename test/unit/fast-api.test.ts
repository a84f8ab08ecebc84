/**
 * The API request path at the broker (master/broker/fast-api.ts), over real MQTT connections to the embedded broker:
 * a client's request on its own request topic is acknowledged and handed to the master in the task that read it —
 * never through the broker queue; while an administrator watches request topics it goes through aedes (the watcher
 * gets it); a request on another client's topic, or over the identity's payload limit, is refused by aedes as before.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectAsync, type MqttClient } from 'mqtt';
import { Broker, type Inbound } from '../../master/broker/index.js';
import mqttPacket from 'mqtt-packet';
import { mayMatchApiRequest, publishHeader } from '../../master/broker/fast-api.js';
import { PAYLOAD_LIMITS } from '../../master/broker/limits.js';
import { decode, encode, silentLogger, topics } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';
import { fastPathCredentials as credentials, tapQueue } from '../helpers/broker-taps.js';


describe('broker: the API request fast path', () => {
  let broker: Broker;
  let routed: Inbound[];
  /** Topics that went through the broker queue (aedes' path). */
  let queued: string[];
  const clients: MqttClient[] = [];
  const connect = async (clientId: string) => {
    const c = await connectAsync(`mqtt://127.0.0.1:${broker.port}`, { username: 'admin', password: 'admin-token', clientId, protocolVersion: 4, reconnectPeriod: 0 });
    clients.push(c);
    return c;
  };
  beforeEach(async () => {
    routed = [];
    broker = await Broker.start({ port: 0, host: '127.0.0.1', credentials, log: silentLogger, onMessage: (m) => void routed.push(m) });
    queued = tapQueue(broker);
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    await broker.close();
  });
  /** The broker again, with `onMessage` doing more than noting what came. */
  const restartWith = async (onMessage: (m: Inbound) => void) => {
    await broker.close();
    return Broker.start({ port: 0, host: '127.0.0.1', credentials, log: silentLogger, onMessage: (m) => (routed.push(m), onMessage(m)) });
  };

  it('a request (QoS 1 and 0) is acknowledged and handed over once, with its client and identity, never through the queue', async () => {
    const cli = await connect('cli-1');
    await cli.publishAsync(topics.apiReq('cli-1'), encode({ id: '1', verb: 'get' }), { qos: 1 }); // resolves on the PUBACK
    cli.publish(topics.apiReq('cli-1'), encode({ id: '2', verb: 'get' }), { qos: 0 });
    await eventually(() => routed.length === 2, 'both requests handed over');
    expect(routed.map((m) => [m.topic, m.clientId, m.identity.role, m.address])).toEqual([
      [topics.apiReq('cli-1'), 'cli-1', 'admin', '127.0.0.1'],
      [topics.apiReq('cli-1'), 'cli-1', 'admin', '127.0.0.1'],
    ]);
    expect(queued.filter((t) => t === topics.apiReq('cli-1'))).toEqual([]);
  });

  it('while an administrator watches request topics, a request goes through aedes: the watcher gets it and the master once', async () => {
    const watcher = await connect('watcher');
    const seen: string[] = [];
    watcher.on('message', (t) => seen.push(t));
    await watcher.subscribeAsync('skiff/v1/#', { qos: 0 });
    const cli = await connect('cli-1');
    await cli.publishAsync(topics.apiReq('cli-1'), encode({ id: '1', verb: 'get' }), { qos: 1 });
    await eventually(() => seen.includes(topics.apiReq('cli-1')) && routed.length === 1, 'the watcher and the master got it');
    expect(queued).toContain(topics.apiReq('cli-1'));
    await watcher.unsubscribeAsync('skiff/v1/#');
    await eventually(() => !broker.queue.livenessWatched, 'no watcher counted');
    queued.length = 0;
    await cli.publishAsync(topics.apiReq('cli-1'), encode({ id: '2', verb: 'get' }), { qos: 1 });
    await eventually(() => routed.length === 2, 'the second request handed over');
    expect(queued).toEqual([]);
  });

  it("a request on another client's topic, or over the payload limit, is refused as before (the connection closes)", async () => {
    const cli = await connect('cli-1');
    const closed = new Promise<void>((r) => cli.once('close', () => r()));
    cli.publish(topics.apiReq('cli-2'), encode({ id: '1', verb: 'get' }), { qos: 1 });
    await closed;
    const big = await connect('cli-3');
    const bigClosed = new Promise<void>((r) => big.once('close', () => r()));
    big.publish(topics.apiReq('cli-3'), Buffer.alloc(PAYLOAD_LIMITS.apiWrite + 1), { qos: 1 });
    await bigClosed;
    expect(routed).toEqual([]);
  });

  it("an answer is written to its client in the caller's task (not an immediate later), in order, at the subscription's QoS, acknowledged", async () => {
    const cli = await connect('cli-1');
    const got: { n: number; qos: number }[] = [];
    cli.on('message', (_t, payload, packet) => got.push({ n: Number(payload.toString()), qos: packet.qos }));
    await cli.subscribeAsync(topics.apiRes('cli-1'), { qos: 1 });
    const order: string[] = [];
    setImmediate(() => order.push('the next immediate'));
    const written = Promise.all([1, 2, 3].map((n) => broker.publishTo('cli-1', topics.apiRes('cli-1'), Buffer.from(String(n))))).then(() => order.push('written'));
    await written;
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['written', 'the next immediate']);
    await eventually(() => got.length === 3, 'three answers');
    expect(got).toEqual([1, 2, 3].map((n) => ({ n, qos: 1 })));
    // A QoS 0 subscription gets QoS 0; the connection took the PUBACKs of the QoS 1 ones and is still up.
    await cli.unsubscribeAsync(topics.apiRes('cli-1'));
    await cli.subscribeAsync(topics.apiRes('cli-1'), { qos: 0 });
    await broker.publishTo('cli-1', topics.apiRes('cli-1'), Buffer.from('4'));
    await eventually(() => got.length === 4, 'the fourth answer');
    expect(got[3]).toEqual({ n: 4, qos: 0 });
    expect(cli.connected).toBe(true);
  });

  it("a request's PUBACK goes out in the same write as its answer, ahead of it; unanswered, it goes out anyway, in order", async () => {
    const answering = new Set(['1']);
    broker = await restartWith((m) => {
      const { id } = decode<{ id: string }>(m.payload).value;
      if (answering.has(id)) void broker.publishTo(m.clientId, topics.apiRes(m.clientId), encode({ id, ok: true }));
    });
    const cli = await connect('cli-1');
    await cli.subscribeAsync(topics.apiRes('cli-1'), { qos: 1 });
    const chunks: Buffer[] = [];
    cli.stream.on('data', (b: Buffer) => chunks.push(b));
    const request = (id: string, messageId: number) => mqttPacket.generate({ cmd: 'publish', topic: topics.apiReq('cli-1'), payload: encode({ id, verb: 'get' }), qos: 1, messageId, dup: false, retain: false });
    cli.stream.write(request('1', 101));
    await eventually(() => chunks.length > 0, 'the first bytes');
    // One chunk: the PUBACK of 101 (0x40 0x02 0x00 0x65), then the answer's PUBLISH (QoS 1).
    expect([...chunks[0]!.subarray(0, 5)]).toEqual([0x40, 0x02, 0x00, 101, 0x32]);
    // Three requests in one write, none answered: their PUBACKs come all the same, in order.
    chunks.length = 0;
    cli.stream.write(Buffer.concat([request('2', 102), request('3', 103), request('4', 104)]));
    await eventually(() => Buffer.concat(chunks).length >= 12, 'three PUBACKs');
    expect([...Buffer.concat(chunks)]).toEqual([102, 103, 104].flatMap((id) => [0x40, 0x02, 0x00, id]));
    expect(cli.connected).toBe(true);
  });

  it('answers waiting for a full socket share one pair of listeners, resolve when it drains, and when the client is disconnected', async () => {
    const cli = await connect('cli-1');
    let got = 0;
    cli.on('message', () => got++);
    await cli.subscribeAsync(topics.apiRes('cli-1'), { qos: 0 });
    const stream = (cli as unknown as { stream: { pause(): void; resume(): void } }).stream;
    const conn = (broker as unknown as { holders: Map<string, { conn: NodeJS.EventEmitter }> }).holders.get('cli-1')!.conn;
    const answer = Buffer.alloc(64 * 1024, 0x61);
    const burst = () => {
      let done = 0;
      const all = Array.from({ length: 500 }, () => broker.publishTo('cli-1', topics.apiRes('cli-1'), answer).then(() => done++));
      return { all: Promise.all(all), done: () => done };
    };
    const listeners = () => conn.listenerCount('drain') + conn.listenerCount('close');
    const before = listeners();
    stream.pause();
    const first = burst();
    await new Promise((r) => setTimeout(r, 200));
    expect(first.done()).toBeLessThan(500); // the socket is full: the rest wait for it to drain
    expect(listeners() - before).toBe(2); // one pair, not one per waiting answer
    stream.resume();
    await first.all;
    await eventually(() => got === 500, 'every answer read');
    stream.pause();
    const second = burst();
    await new Promise((r) => setTimeout(r, 200));
    expect(second.done()).toBeLessThan(500);
    expect(broker.disconnect('cli-1')).toBe(true);
    await second.all; // closed before it drained: every writer is answered
    expect(broker.disconnect('cli-1')).toBe(false);
    expect(broker.disconnect('nobody')).toBe(false);
  });

  it('an answer in pieces (a long list) arrives as one message, its pieces in order; through aedes too', async () => {
    const cli = await connect('cli-1');
    const got: Buffer[] = [];
    cli.on('message', (_t, payload) => got.push(payload));
    await cli.subscribeAsync(topics.apiRes('cli-1'), { qos: 1 });
    // Sizes either side of MQTT's remaining-length steps, and one piece of ~3 MB (more than a socket takes at once).
    const pieces = [Buffer.from('head'), Buffer.alloc(0), Buffer.alloc(200, 1), Buffer.alloc(20_000, 2), Buffer.alloc(3_000_000, 3), Buffer.from('tail')];
    await broker.publishTo('cli-1', topics.apiRes('cli-1'), pieces);
    await eventually(() => got.length === 1, 'the answer');
    expect(got[0]!.equals(Buffer.concat(pieces))).toBe(true);
    // Not subscribed to exactly the topic (a wildcard): aedes' path, the pieces joined.
    const other = await connect('cli-2');
    const seen: Buffer[] = [];
    other.on('message', (_t, payload) => seen.push(payload));
    await other.subscribeAsync('skiff/v1/api/cli-2/#', { qos: 1 });
    await broker.publishTo('cli-2', topics.apiRes('cli-2'), pieces.slice(0, 4));
    await eventually(() => seen.length === 1, 'the answer through aedes');
    expect(seen[0]!.equals(Buffer.concat(pieces.slice(0, 4)))).toBe(true);
    expect(cli.connected && other.connected).toBe(true);
  });

  it.each([
    ['skiff/v1/#', true],
    ['skiff/v1/api/+/req', true],
    ['skiff/v1/api/cli-1/req', true],
    ['skiff/v1/api/+/#', true],
    ['#', true],
    ['skiff/v1/api/cli-1/res', false],
    ['skiff/v1/api/+/res', false],
    ['skiff/v1/nodes/+/lease', false],
    ['skiff/v1/api/cli-1/req/more', false],
    ['skiff/v1/api', false],
  ])('a subscription to %s may see request topics: %s', (filter, may) => {
    expect(mayMatchApiRequest(filter)).toBe(may);
  });
});

describe('publishHeader', () => {
  // Remaining lengths across every varint width (127/128, 16383/16384, 2097151/2097152), QoS 0 and 1, a UTF-8 topic.
  it.each([
    ['skiff/v1/api/c1/res', 0, 0, 0],
    ['skiff/v1/api/c1/res', 1, 1, 1],
    ['skiff/v1/nodes/n1/desired', 1, 65535, 100],
    ['t', 0, 0, 124],
    ['t', 0, 0, 125],
    ['t', 1, 7, 16378],
    ['t', 1, 7, 16379],
    ['t', 0, 0, 2_097_148],
    ['t', 0, 0, 2_097_149],
    ['ü/ß/topic', 1, 300, 10],
  ] as const)('%s QoS %s id %s + %s payload bytes: what mqtt-packet generates', (topic, qos, messageId, bytes) => {
    const payload = Buffer.alloc(bytes, 7);
    const ours = Buffer.concat([publishHeader(topic, qos, messageId, bytes), payload]);
    const theirs = mqttPacket.generate({ cmd: 'publish', topic, payload, qos, messageId: qos ? messageId : undefined, retain: false, dup: false } as mqttPacket.IPublishPacket);
    expect(ours.equals(theirs)).toBe(true);
  });

  it('refuses what MQTT cannot carry', () => {
    expect(() => publishHeader('x'.repeat(65536), 0, 0, 0)).toThrow(RangeError);
    expect(() => publishHeader('t', 0, 0, 268_435_455)).toThrow(RangeError);
  });
});
