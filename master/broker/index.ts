/**
 * The embedded MQTT broker: aedes (MQTT 3.1.1) on TCP, with authentication (no anonymous access) and
 * the topic ACL of acl.ts in aedes' authorize hooks. Inbound messages from clients are handed to one
 * `onMessage` callback together with the publisher's identity; the master publishes in-process.
 */
import { createServer, type Server, type AddressInfo } from 'node:net';
import { Aedes, type Client } from 'aedes';
import type { Logger } from '../../protocol/index.js';
import type { Credentials } from '../credentials.js';
import { safeEqual } from '../credentials.js';
import { mayPublish, maySubscribe, type Identity } from './acl.js';

/** A message a client published, with who sent it. */
export interface Inbound {
  topic: string;
  payload: Buffer;
  clientId: string;
  identity: Identity;
}

/** Options of the broker. */
export interface BrokerOptions {
  port: number;
  host: string;
  credentials: Credentials;
  log: Logger;
  onMessage: (m: Inbound) => void;
  onClientGone?: (clientId: string, identity: Identity) => void;
}

/** Node names are DNS subdomains and so also valid topic levels; `admin` is reserved. */
const nodeName = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

type SkiffClient = Client & { skiff?: Identity };

function authError(): Error & { returnCode: number } {
  return Object.assign(new Error('bad username or password'), { returnCode: 4 });
}

/** The running broker. */
export class Broker {
  private constructor(
    readonly aedes: Aedes,
    readonly server: Server,
  ) {}

  /** The TCP port the broker listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Creates the broker and starts listening. */
  static async start(opts: BrokerOptions): Promise<Broker> {
    const { credentials } = opts;
    const aedes = await Aedes.createBroker({
      // An edge master has few clients; a larger inflight queue absorbs reconnect storms.
      concurrency: 200,
      authenticate(client: SkiffClient, username, password, done) {
        const user = username ?? '';
        const pw = password ? password.toString('utf8') : '';
        let access: ReturnType<Credentials['verifyToken']>;
        if (user === 'admin' && safeEqual(pw, credentials.adminToken)) client.skiff = { role: 'admin', name: 'admin' };
        else if (nodeName.test(user) && credentials.verifyNode(user, pw)) client.skiff = { role: 'node', name: user };
        else if (nodeName.test(user) && (access = credentials.verifyToken(user, pw))) client.skiff = { role: 'user', name: user, access };
        else if (nodeName.test(user) && user !== 'admin' && safeEqual(pw, credentials.joinToken)) client.skiff = { role: 'joiner', name: user };
        else return done(authError() as any, false);
        done(null, true);
      },
      authorizePublish(client: SkiffClient | null, packet, cb) {
        if (!client) return cb(null); // the master's own publishes
        const id = client.skiff;
        if (id && mayPublish(id, client.id, packet.topic, packet.retain)) return cb(null);
        // Refusing a publish closes the client's connection in aedes; log once so the operator can see why.
        opts.log.warn('refused a publish', { role: id?.role, user: id?.name, client: client.id, topic: packet.topic, retain: packet.retain || undefined });
        cb(new Error('not authorized'));
      },
      authorizeSubscribe(client: SkiffClient, sub, cb) {
        const id = client.skiff;
        if (id && maySubscribe(id, client.id, sub.topic)) return cb(null, sub);
        opts.log.warn('refused a subscription', { role: id?.role, user: id?.name, client: client.id, topic: sub.topic });
        cb(null, null); // SUBACK 128 for this filter; the connection stays up
      },
    });
    aedes.on('publish', (packet, client: SkiffClient | null) => {
      if (!client?.skiff || packet.topic.startsWith('$SYS')) return;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload as string);
      try {
        opts.onMessage({ topic: packet.topic, payload, clientId: client.id, identity: client.skiff });
      } catch (err) {
        opts.log.error('message handler failed', { topic: packet.topic, err });
      }
    });
    aedes.on('clientDisconnect', (client: SkiffClient) => {
      if (client.skiff) opts.onClientGone?.(client.id, client.skiff);
    });
    aedes.on('clientError', () => {}); // malformed packets close that client only
    aedes.on('connectionError', () => {});
    const server = createServer(aedes.handle);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host, () => resolve());
    });
    return new Broker(aedes, server);
  }

  /** Publishes from the master (no ACL). Resolves when the broker has taken the message. */
  publish(topic: string, payload: Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) =>
      this.aedes.publish({ cmd: 'publish', topic, payload, qos: opts.qos ?? 1, retain: opts.retain ?? false, dup: false } as any, (err?: Error) =>
        err ? reject(err) : resolve(),
      ),
    );
  }

  /** Disconnects every client whose identity matches (a revoked token, a deleted node). */
  kick(match: (id: Identity) => boolean): number {
    let n = 0;
    for (const c of Object.values((this.aedes as unknown as { clients: Record<string, SkiffClient> }).clients)) {
      if (c.skiff && match(c.skiff)) {
        c.close();
        n++;
      }
    }
    return n;
  }

  /** Number of connected clients. */
  get clients(): number {
    return this.aedes.connectedClients;
  }

  /** Closes the listener and every client. */
  async close(): Promise<void> {
    const listening = new Promise<void>((r) => this.server.close(() => r()));
    await new Promise<void>((r) => this.aedes.close(() => r()));
    await listening;
  }
}
