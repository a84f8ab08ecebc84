/**
 * A subscriber whose socket takes nothing for the drain timeout is disconnected by aedes (master/broker/index.ts
 * `drainTimeoutMs`) — and the master says so: aedes reports it as a client error, which the broker otherwise ignores,
 * so the disconnect was silent in the master's log. Over a real socket to the embedded broker, with a short timeout,
 * and less than the slow-subscriber bound (8 MiB) sent, so that it is the drain timeout that closes the client.
 */
import net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { afterEach, describe, expect, it } from 'vitest';
import { Broker } from '../../master/broker/index.js';
import { maxUnwrittenBytes } from '../../master/broker/slow-subscriber.js';
import type { LogFields, Logger } from '../../protocol/index.js';
import { fastPathCredentials as credentials } from '../helpers/broker-taps.js';
import { eventually } from '../helpers/wait.js';
import { connectPacket } from '../security/helpers.js';

describe('broker: the drain timeout', () => {
  let broker: Broker | undefined;
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
  });

  it('disconnects a subscriber that reads nothing, and logs it naming the client', async () => {
    const warnings: { msg: string; fields?: LogFields }[] = [];
    const log: Logger = { debug() {}, info() {}, error() {}, warn: (msg, fields) => void warnings.push({ msg, fields }) };
    broker = await Broker.start({ port: 0, host: '127.0.0.1', credentials, log, onMessage: () => undefined, drainTimeoutMs: 300 });
    const socket = net.connect(broker.port, '127.0.0.1');
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    socket.on('error', () => undefined);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const subscribed = new Promise<void>((resolve) => parser.on('packet', (p) => p.cmd === 'suback' && resolve()));
    const onData = (b: Buffer) => parser.parse(b);
    socket.on('data', onData);
    socket.write(connectPacket({ clientId: 'stuck', username: 'admin', password: 'admin-token' }));
    socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'skiff/v1/events', qos: 0 }] } as mqttPacket.ISubscribePacket));
    await subscribed;
    // From here on the client reads nothing: the kernel's buffers fill, then the connection's.
    socket.off('data', onData);
    socket.pause();
    const piece = Buffer.alloc(256 * 1024, 1);
    const sent = Math.floor((maxUnwrittenBytes * 0.9) / piece.length);
    for (let i = 0; i < sent; i++) await broker.publish('skiff/v1/events', piece, { qos: 0 });
    await eventually(() => warnings.some((w) => /drain timeout/.test(w.msg)), 'the drain timeout logged');
    // The client sees the close once it reads again.
    socket.resume();
    await closed;
    const timedOut = warnings.filter((x) => /drain timeout/.test(x.msg));
    expect(timedOut).toHaveLength(1); // once, however many writes were waiting
    const w = timedOut[0]!;
    expect(w.fields).toMatchObject({ client: 'stuck', role: 'admin', timeoutMs: 300 });
    // It was the drain timeout, not the slow-subscriber bound, that closed it.
    expect(warnings.some((x) => /does not read what it subscribed to/.test(x.msg))).toBe(false);
  });
});
