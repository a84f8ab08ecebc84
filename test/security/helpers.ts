/**
 * Tools of an attacker, for the issue-9 tests: raw MQTT packets over a plain socket (what a hostile client can
 * send that mqtt.js would not), and a TCP relay that records every byte and can hold the client's traffic —
 * a sniffer or a rogue master in the middle.
 */
import net from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import mqttPacket from 'mqtt-packet';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { startMaster, type Master } from '../../master/index.js';
import { testEngine } from '../helpers/cluster.js';
import { tempDir } from '../helpers/wait.js';

/** A master in this process (plain MQTT on loopback), its administrator's API and a view token: an attacker's start. */
export interface ViewerSetup {
  master: Master;
  admin: Api;
  /** The view token's secret (user `viewer`). */
  viewSecret: string;
  stop(): Promise<void>;
}

export async function masterWithViewer(timeoutMs = 5000): Promise<ViewerSetup> {
  const dir = await tempDir();
  const master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine });
  const admin = await connectApi({ server: master.url, user: 'admin', token: master.adminToken, timeoutMs });
  const viewSecret = (await admin.request<{ token: string }>('token', { action: 'create', name: 'viewer', access: 'view' })).token;
  return {
    master,
    admin,
    viewSecret,
    async stop() {
      await admin.close();
      await master.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Encodes one MQTT 3.1.1 packet (mqtt-packet's generator: it writes what it is given, bad client ids included). */
export function packet(p: Record<string, unknown>): Buffer {
  return mqttPacket.generate(p as unknown as mqttPacket.Packet);
}

/** The MQTT remaining-length bytes of `n` [MQTT-2.2.3]. */
export function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}

/** A CONNECT packet, by hand: mqtt-packet refuses some of what an attacker sends (an empty id without a clean session). */
export function connectPacket(o: { clientId: string; username?: string; password?: string; clean?: boolean }): Buffer {
  const str = (s: string | Buffer) => {
    const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const flags = (o.username !== undefined ? 0x80 : 0) | (o.password !== undefined ? 0x40 : 0) | (o.clean === false ? 0 : 0x02);
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, 0, 30]),
    str(o.clientId),
    ...(o.username !== undefined ? [str(o.username)] : []),
    ...(o.password !== undefined ? [str(o.password)] : []),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** Connects a raw socket and resolves with the CONNACK return code, or 'closed' when the broker closed without one. */
export function rawConnect(port: number, o: Parameters<typeof connectPacket>[0]): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(connectPacket(o)));
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') {
        resolve((p as mqttPacket.IConnackPacket).returnCode ?? 0);
        s.destroy();
      }
    });
    s.on('data', (b) => parser.parse(b));
    s.on('error', () => undefined);
    s.on('close', () => resolve('closed'));
  });
}

/** A TCP relay in front of `target`: records both directions; `onClientPacket` may hold a client packet (return a promise). */
export interface Relay {
  port: number;
  url: string;
  /** Every byte the client sent, and every byte the server sent. */
  fromClient(): Buffer;
  fromServer(): Buffer;
  close(): Promise<void>;
}

/**
 * Starts a relay to 127.0.0.1:`target`. Client packets are parsed (mqtt-packet) and forwarded one at a time, in
 * order; `onClientPacket` sees each before it is forwarded and can delay it by returning a promise.
 */
export async function startRelay(target: number, onClientPacket?: (p: mqttPacket.Packet) => void | Promise<void>): Promise<Relay> {
  const up: Buffer[] = [];
  const down: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client).add(upstream);
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    let chain = Promise.resolve();
    parser.on('packet', (p) => {
      chain = chain.then(async () => {
        await onClientPacket?.(p);
        if (!upstream.destroyed) upstream.write(mqttPacket.generate(p));
      });
    });
    client.on('data', (b) => {
      up.push(Buffer.from(b));
      parser.parse(b);
    });
    upstream.on('data', (b) => {
      down.push(Buffer.from(b));
      if (!client.destroyed) client.write(b);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    fromClient: () => Buffer.concat(up),
    fromServer: () => Buffer.concat(down),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** True when `secret` appears in `bytes` as UTF-8 (a password, a token, a credential in the clear). */
export function contains(bytes: Buffer, secret: string): boolean {
  return bytes.includes(Buffer.from(secret, 'utf8'));
}
