/**
 * The embedded MQTT broker: aedes (MQTT 3.1.1) on two listeners — plain TCP (loopback unless
 * `--insecure-listen`) and TLS (8883, the cluster's server certificate; nodes present their client
 * certificates, docs/security.md) — with authentication (no anonymous access) and the topic ACL of acl.ts in
 * aedes' authorize hooks. Inbound messages from clients are handed to one `onMessage` callback together with
 * the publisher's identity; the master publishes in-process.
 *
 * Before aedes sees a byte, a connection passes PreAuthAdmission (a bound on strangers, counted from the TCP
 * accept, so TLS handshakes count too) and a FrameGuard (a bound on the length a packet may announce, small
 * until the CONNECT is authenticated); a CONNECT's client id is checked and may not take over another
 * identity's session (client-ids.ts). Every connection — plain TCP, TLS, or a WebSocket on the HTTPS port (the
 * dashboard, websocket.ts) — is served by the same `serve` after the same `admit`, so all pass the same
 * admission, guards, authentication and ACL.
 */
import type { IncomingMessage } from 'node:http';
import { createServer, type Server, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { LeaseMessage, Logger } from '../../protocol/index.js';
import type { Credentials } from '../credentials.js';
import { mayPublish, mayReceive, maySubscribe, type Identity } from './acl.js';
import { PreAuthAdmission } from './admission.js';
import { boundDeliveries, SubscriberDebts } from './slow-subscriber.js';
import { AGENT_CLIENT_PREFIX, CONNACK, clientIdRefusal, reservedIdRefusal, takeoverRefusal } from './client-ids.js';
import { ConnectionCaps, sameIdentity, type ConnectionLimits } from './connection-caps.js';
import { guardClient } from './frame-guard.js';
import { certRefusal, identify, type PeerCert, type Transport } from './identify.js';
import { fastLeases, mayMatchLease } from './fast-lease.js';
import { fastApi, mayMatchApiRequest, mayMatchNodeMetrics, mayMatchNodePods, wholePayload, writeNow } from './fast-api.js';
import { PAYLOAD_LIMITS, maxPacket, maxPayload } from './limits.js';
import { RetainedBudget } from './retained.js';
import { BrokerQueue } from './emitter.js';
import { ROOT, ownBytes } from '../../protocol/index.js';
import { topicType } from './topic-type.js';
import { ApiLane } from './api-lane.js';
import { loopBudget } from '../loop-budget.js';

/** A message a client published, with who sent it. */
export interface Inbound {
  topic: string;
  payload: Buffer;
  clientId: string;
  identity: Identity;
  /** The client's source address (rate limits). */
  address: string;
}

/** The TLS listener's settings. */
export interface BrokerTls {
  port: number;
  host: string;
  /** The server key and certificate chain. */
  key: string;
  cert: string;
  /** The cluster CA (PEM): node certificates are verified against it. */
  ca: string;
}

/** A node's heartbeat topics (lease, status): served ahead of all other traffic (emitter.ts). */
function isLiveness(topic: string): boolean {
  const t = topicType(topic);
  return t === 'nodeLease' || t === 'nodeStatus';
}

/**
 * A node's messages that prove it alive, as the router counts them (router.ts: a lease, and the pod reports and
 * metrics an agent sends instead of a lease when it has them, edge-agent/telemetry.ts).
 */
function provesAlive(topic: string): boolean {
  const type = topicType(topic);
  return type === 'nodeLease' || type === 'nodePods' || type === 'nodeMetrics';
}

/** Messages aedes delivers at once (each waits for its slowest subscriber's socket); more wait in the queue. */
const CONCURRENCY = 200;

/** How long a TLS handshake may take before the connection is closed (it holds a pre-authentication slot). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Options of the broker. */
export interface BrokerOptions {
  /** The plain listener; port -1 = none. */
  port: number;
  host: string;
  /** The TLS listener, if any. */
  tls?: BrokerTls;
  credentials: Credentials;
  log: Logger;
  onMessage: (m: Inbound) => void;
  onClientGone?: (clientId: string, identity: Identity) => void;
  /**
   * A node's lease (or another message that proves it alive: provesAlive), told the moment the broker reads it
   * (before any queue): liveness is recorded even while the master is behind on everything else (issue 16). A lease
   * comes with its message, picked off the connection (fast-lease.ts): true means it needs nothing more and goes no
   * further; false (or any other message) follows through `onMessage`.
   */
  onLease?: (node: string, lease?: LeaseMessage) => boolean;
  /** Told of every message the broker delivers to a client (one per subscriber): the sent-bytes metrics. */
  onDeliver?: (topic: string, bytes: number) => void;
  /** Told of every message a client publishes (after the ACL): the received-bytes metrics. */
  onReceive?: (topic: string, bytes: number) => void;
  /** How many connections one identity may hold open (connection-caps.ts; defaults there). */
  connectionLimits?: ConnectionLimits;
  /** Told of every CONNECT refused after it was read, with its CONNACK return code (2, 3, 4 or 5): the refused-connects metric. */
  onConnectRefused?: (returnCode: number) => void;
  /** A client whose socket has not drained for this long is disconnected (aedes' drainTimeout); 60 s by default. */
  drainTimeoutMs?: number;
}

/**
 * An aedes client with the identity it authenticated as, why its CONNECT is refused before authentication, and
 * the TCP socket its pre-authentication slot is counted on (under TLS, not the socket aedes reads).
 */
type SkiffClient = Client & {
  skiff?: Identity;
  skiffRefusal?: string;
  skiffRaw?: Socket;
  /** The topic the ACL last let this client receive on (authorizeForward). */
  skiffReceives?: string;
  subscriptions?: Record<string, { func?: unknown } | undefined>;
};

/** What the broker knows to write a node's desired set straight onto its connection (Broker.publish). */
interface DirectState {
  /** Node name → the node's client that authenticated last. */
  nodes: Map<string, SkiffClient>;
  /** Client ids that connected with a persistent session (clean = false): aedes may keep subscriptions of theirs offline. */
  persistent: Set<string>;
  /** Desired-set topics → the master's publishes of them still in aedes' path (a direct write must not overtake them). */
  viaAedes: Map<string, number>;
}

const desiredPrefix = `${ROOT}/nodes/`;
const desiredSuffix = '/desired';

/** The node of a desired-set topic (`skiff/v1/nodes/{node}/desired`), or undefined. */
export function desiredNodeOf(topic: string): string | undefined {
  if (!topic.startsWith(desiredPrefix) || !topic.endsWith(desiredSuffix)) return undefined;
  const node = topic.slice(desiredPrefix.length, topic.length - desiredSuffix.length);
  return node && !node.includes('/') ? node : undefined;
}

/** What a TLS client's certificate says (the broker requests one from every client; only nodes need one). */
function peerCert(socket: TLSSocket): PeerCert | undefined {
  const c = socket.getPeerCertificate();
  if (!c || Object.keys(c).length === 0) return undefined;
  const o = c.subject?.O;
  const cn = c.subject?.CN;
  return {
    authorized: socket.authorized,
    ...(socket.authorizationError ? { error: String(socket.authorizationError) } : {}),
    ...(typeof cn === 'string' ? { cn } : {}),
    orgs: Array.isArray(o) ? o : o ? [o] : [],
    serial: c.serialNumber,
    usages: (c as { ext_key_usage?: string[] }).ext_key_usage ?? [],
  };
}

/** How `conn` is connected. */
function transportOf(conn: unknown): Transport {
  const s = conn as Partial<TLSSocket>;
  return s.encrypted ? { tls: true, cert: peerCert(s as TLSSocket) } : { tls: false };
}

function connackError(returnCode: number, message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

/** The running broker. */
export class Broker {
  private constructor(
    readonly aedes: Aedes,
    /** aedes' message queue (its depth and peak for telemetry and tests). */
    readonly queue: BrokerQueue,
    /** The plain listener, if any. */
    readonly server: Server | undefined,
    /** The TLS listener, if any. */
    readonly tlsServer: TlsServer | undefined,
    /** Client id → the authenticated client that holds it now. */
    private readonly holders: Map<string, SkiffClient>,
    readonly admission: PreAuthAdmission,
    /** Admission, then `serve`: the path of every connection. */
    private readonly admitAndServe: (conn: Duplex, raw: Socket, req?: IncomingMessage) => void,
    private readonly direct: DirectState,
    /** The API clients' connections, read between the loop's turns (api-lane.ts). */
    readonly lane: ApiLane,
    /** Takes the lane out of the loop budget's hooks. */
    private readonly unhookLane: () => void,
  ) {}

  /**
   * Serves a connection that arrived elsewhere — a WebSocket on the HTTPS port (websocket.ts): `conn` is its
   * byte stream, `raw` the TCP socket under it, `req` the upgrade request. The same admission, frame guard,
   * authentication and ACL as the MQTT listeners.
   */
  accept(conn: Duplex, raw: Socket, req?: IncomingMessage): void {
    this.admitAndServe(conn, raw, req);
  }

  /** Connected clients by role (admin, node, user, joiner): the broker's client gauge. */
  clientsByRole(): Map<Identity['role'], number> {
    const n = new Map<Identity['role'], number>();
    for (const c of this.holders.values()) if (c.skiff && !c.closed) n.set(c.skiff.role, (n.get(c.skiff.role) ?? 0) + 1);
    return n;
  }

  /** The plain port, or -1 when there is no plain listener. */
  get port(): number {
    return this.server ? (this.server.address() as AddressInfo).port : -1;
  }

  /** The TLS port, or -1 when there is no TLS listener. */
  get tlsPort(): number {
    return this.tlsServer ? (this.tlsServer.address() as AddressInfo).port : -1;
  }

  /** Serves a new server key and certificate to new TLS connections (a renewed server certificate). */
  setServerCert(key: string, cert: string): void {
    this.tlsServer?.setSecureContext({ ...this.tlsOptions, key, cert });
  }

  private tlsOptions: { ca?: string } = {};

  /** Creates the broker and starts listening. */
  static async start(opts: BrokerOptions): Promise<Broker> {
    const { credentials, log } = opts;
    const holders = new Map<string, SkiffClient>();
    const direct: DirectState = { nodes: new Map(), persistent: new Set(), viaAedes: new Map() };
    const admission = new PreAuthAdmission();
    const caps = new ConnectionCaps(opts.connectionLimits);
    const debts = new SubscriberDebts();
    const retained = new RetainedBudget();
    // Administrators' and users' connections are read between the loop's turns too (api-lane.ts): their requests do not
    // wait for a rollout's whole iteration.
    const lane = new ApiLane();
    const isApiClient = (id: Identity | undefined) => id?.role === 'admin' || id?.role === 'user';
    const who = (c: SkiffClient | null) => ({ role: c?.skiff?.role, user: c?.skiff?.name, client: c?.id });
    // Counted: the subscriptions that may see a topic a fast path takes (a lease, an API request, a node's metrics or pod reports);
    // while one exists, those go through aedes so the subscriber gets them.
    const mq = new BrokerQueue(CONCURRENCY, isLiveness, (filter) => mayMatchLease(filter) || mayMatchApiRequest(filter) || mayMatchNodeMetrics(filter) || mayMatchNodePods(filter));
    const aedes = await Aedes.createBroker({
      // An edge master has few clients; a larger inflight queue absorbs reconnect storms.
      concurrency: CONCURRENCY,
      // No recursion on long queues, O(1) dequeue, leases and status first (emitter.ts).
      mq: mq as any,
      // A connection that sends no CONNECT holds a pre-authentication slot for at most this long.
      connectTimeout: 10_000,
      // A client whose socket has not drained for this long is disconnected; and with a timeout aedes keeps one
      // 'drain' listener per client for all its waiting writes, not one each (slow-subscriber.ts).
      drainTimeout: opts.drainTimeoutMs ?? 60_000,
      preConnect(client: SkiffClient, packet, cb) {
        client.skiffRefusal = clientIdRefusal(packet.clientId ?? '', packet.clean !== false);
        cb(null, true); // refused in authenticate, where aedes can answer with a CONNACK code
      },
      authenticate(client: SkiffClient, username, password, done) {
        const refuse = (code: number, why: string) => {
          log.warn('refused a CONNECT', { client: String(client.id).slice(0, 140), user: String(username ?? '').slice(0, 80), reason: why, returnCode: code });
          opts.onConnectRefused?.(code);
          done(connackError(code, why) as any, false);
        };
        if (client.skiffRefusal) return refuse(CONNACK.IDENTIFIER_REJECTED, client.skiffRefusal);
        const id = identify(credentials, username, password);
        if (!id) {
          // Not logged (a password guesser would fill the log), counted: skiff_broker_connects_refused_total.
          opts.onConnectRefused?.(CONNACK.BAD_CREDENTIALS);
          return done(connackError(CONNACK.BAD_CREDENTIALS, 'bad username or password') as any, false);
        }
        const holder = holders.get(client.id);
        const why = certRefusal(credentials, id, transportOf(client.conn)) ?? reservedIdRefusal(client.id, id) ?? takeoverRefusal(client.id, id, holder && !holder.closed ? holder.skiff : undefined);
        if (why) return refuse(CONNACK.NOT_AUTHORIZED, why);
        const takesOver = holder !== undefined && !holder.closed && sameIdentity(holder.skiff, id);
        const tooMany = caps.refusal(id, takesOver || (id.role === 'node' && client.id === AGENT_CLIENT_PREFIX + id.name));
        if (tooMany) return refuse(CONNACK.SERVER_UNAVAILABLE, tooMany);
        client.skiff = id;
        // Counted until the connection closes; one that closed while it was being authenticated counts for nothing.
        const uncount = caps.add(id);
        if ((client.conn as Duplex).destroyed) uncount();
        else client.conn.once('close', uncount);
        holders.set(client.id, client);
        client.conn.once('close', () => holders.get(client.id) === client && holders.delete(client.id));
        // aedes keeps a persistent session's subscriptions until the same id connects clean (then it drops them).
        if (client.clean === false) direct.persistent.add(client.id);
        else direct.persistent.delete(client.id);
        if (id.role === 'node') {
          const node = id.name;
          direct.nodes.set(node, client);
          client.conn.once('close', () => direct.nodes.get(node) === client && direct.nodes.delete(node));
        }
        admission.release(client.skiffRaw ?? (client.conn as Socket));
        if (isApiClient(id)) lane.add(client.conn, () => betweenBatches(client));
        done(null, true);
      },
      authorizePublish(client: SkiffClient | null, packet, cb) {
        if (!client) return cb(null); // the master's own publishes
        const id = client.skiff;
        const size = packet.payload?.length ?? 0;
        if (id && mayPublish(id, client.id, packet.topic, packet.retain)) {
          const max = maxPayload(id, packet.topic);
          if (size > max) {
            log.warn('refused a publish: payload too large', { ...who(client), topic: packet.topic, bytes: size, limit: max });
            return cb(new Error('payload too large'));
          }
          // aedes lets this hook change the packet: beyond the budget it goes out live, not retained.
          if (packet.retain && packet.topic.startsWith(`${ROOT}/metrics/`) && !retained.admit(packet.topic, size)) {
            if (retained.warnDue())
              log.warn('not retaining an external metric: the retained metrics are at their limit; delivered live only', {
                ...who(client),
                topic: packet.topic,
                retained: retained.usage(),
                limit: retained.limits(),
              });
            packet.retain = false;
          }
          if (id.role === 'node' && opts.onLease && provesAlive(packet.topic)) opts.onLease(id.name);
          return cb(null);
        }
        // Refusing a publish closes the client's connection in aedes; log once so the operator can see why.
        log.warn('refused a publish', { ...who(client), topic: packet.topic, retain: packet.retain || undefined });
        cb(new Error('not authorized'));
      },
      authorizeSubscribe(client: SkiffClient, sub, cb) {
        const id = client.skiff;
        if (id && maySubscribe(id, client.id, sub.topic)) return cb(null, sub);
        log.warn('refused a subscription', { ...who(client), topic: sub.topic });
        cb(null, null); // SUBACK 128 for this filter; the connection stays up
      },
      authorizeForward(client: SkiffClient, packet) {
        const id = client.skiff;
        if (!id) return null;
        // The topic this client was last allowed: a client's deliveries are mostly on one topic (an API client's
        // answers and watch events, a node's desired sets), and its identity never changes while it is connected.
        if (client.skiffReceives !== packet.topic) {
          if (!mayReceive(id, client.id, packet.topic)) return null;
          client.skiffReceives = packet.topic;
        }
        opts.onDeliver?.(packet.topic, packet.payload?.length ?? 0);
        return packet;
      },
    });
    aedes.on('publish', (packet, client: SkiffClient | null) => {
      if (!client?.skiff || packet.topic.startsWith('$SYS')) return;
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload as string);
      opts.onReceive?.(packet.topic, payload.length);
      if (isApiClient(client.skiff)) lane.asked(client.conn);
      try {
        opts.onMessage({ topic: packet.topic, payload, clientId: client.id, identity: client.skiff, address: (client.skiffRaw ?? (client.conn as Socket)).remoteAddress ?? '' });
      } catch (err) {
        log.error('message handler failed', { topic: packet.topic, err });
      }
    });
    aedes.on('clientDisconnect', (client: SkiffClient) => {
      if (client.skiff) opts.onClientGone?.(client.id, client.skiff);
    });
    // Malformed packets close that client only (the frame guard logs the large ones). A socket that did not drain in
    // time is closed by aedes: said here, else that disconnect would be silent.
    const drainTimedOut = new WeakSet<SkiffClient>(); // aedes reports it once per write that was waiting: said once
    aedes.on('clientError', (client: SkiffClient, err: Error) => {
      if (err?.message !== 'drain timeout' || drainTimedOut.has(client)) return;
      drainTimedOut.add(client);
      log.warn('disconnected a client whose socket took nothing for the drain timeout', { ...who(client), timeoutMs: opts.drainTimeoutMs ?? 60_000 });
    });
    aedes.on('connectionError', () => {});
    // `conn` is what aedes reads and writes (the socket, a TLS socket over it, or a WebSocket's stream over it);
    // `raw` the TCP socket underneath, on which admission counts; `req` a WebSocket's upgrade request.
    const serve = (conn: Duplex, raw: Socket, req?: IncomingMessage) => {
      // aedes answers a PUBLISH with a PUBACK and the forwarded message as two small writes: with Nagle on, the
      // second waits for the peer's delayed ACK (~40 ms on Linux) — every request/response round trip paid it.
      raw.setNoDelay(true);
      const client: SkiffClient = aedes.handle(conn, req as any);
      client.skiffRaw = raw;
      boundDeliveries(client, debts, (slow, reason) => log.warn('disconnected a client that does not read what it subscribed to', { ...who(slow as SkiffClient), reason }));
      guardClient(client, (type) => maxPacket(client.skiff, type), (why) => log.warn('closed a connection: packet too large', { ...(client.skiff ? who(client) : { from: raw.remoteAddress }), reason: why }));
      pollBeforeParse(client, lane);
      if (opts.onLease) fastLeases(client, { maxBytes: PAYLOAD_LIMITS.nodeLease, watched: () => mq.livenessWatched, onLease: opts.onLease, onReceive: opts.onReceive });
      fastApi(client, {
        watched: () => mq.livenessWatched,
        mayPublish: (id, clientId, topic) => mayPublish(id, clientId, topic, false),
        maxBytes: maxPayload,
        onRequest: (m) => {
          lane.asked(client.conn);
          try {
            opts.onMessage(m);
          } catch (err) {
            log.error('message handler failed', { topic: m.topic, err });
          }
        },
        onReceive: opts.onReceive,
        onAlive: (node) => opts.onLease?.(node),
      });
    };
    const admit = (socket: Socket) => {
      if (admission.admit(socket)) return true;
      socket.destroy(); // too many unauthenticated connections (from this source)
      return false;
    };
    let server: Server | undefined;
    let tlsServer: TlsServer | undefined;
    try {
      if (opts.port >= 0) {
        server = createServer((socket) => admit(socket) && serve(socket, socket));
        await listen(server, opts.port, opts.host);
      }
      if (opts.tls) {
        tlsServer = tlsListener(opts.tls, admit, serve);
        await listen(tlsServer, opts.tls.port, opts.tls.host);
      }
    } catch (err) {
      server?.close();
      tlsServer?.close();
      await new Promise<void>((r) => aedes.close(() => r()));
      throw err;
    }
    const broker = new Broker(
      aedes,
      mq,
      server,
      tlsServer,
      holders,
      admission,
      (conn, raw, req) => {
        if (admit(raw)) serve(conn, raw, req);
        else conn.destroy();
      },
      direct,
      lane,
      loopBudget.addPreempt(() => lane.poll()),
    );
    if (opts.tls) broker.tlsOptions = { ca: opts.tls.ca };
    return broker;
  }

  /** The identity of the client connected with `clientId` now, if any (answers go only to the identity that asked). */
  holderOf(clientId: string): Identity | undefined {
    const c = this.holders.get(clientId);
    return c && !c.closed ? c.skiff : undefined;
  }

  /**
   * Publishes from the master (no ACL). Resolves when the broker has taken the message. A retained payload is
   * kept in memory for as long as the topic lives, so it is given memory of its own (ownBytes).
   *
   * A node's desired set (not retained) whose only subscriber is that node's own clean session is written straight
   * onto its connection, now, as API answers are (fast-api.ts writeNow) — see `writeDesired`.
   */
  publish(topic: string, payload: Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const qos = opts.qos ?? 1;
    const node = desiredNodeOf(topic);
    if (node !== undefined && !opts.retain) {
      const written = this.writeDesired(node, topic, payload, qos);
      if (written) return written;
    }
    if (opts.retain) payload = ownBytes(payload);
    // A desired set through aedes is counted until aedes is done with it: a later one is not written past it.
    const { viaAedes } = this.direct;
    if (node !== undefined) viaAedes.set(topic, (viaAedes.get(topic) ?? 0) + 1);
    return new Promise((resolve, reject) =>
      this.aedes.publish({ cmd: 'publish', topic, payload, qos, retain: opts.retain ?? false, dup: false } as any, (err?: Error) => {
        if (node !== undefined) {
          const left = (viaAedes.get(topic) ?? 1) - 1;
          if (left > 0) viaAedes.set(topic, left);
          else viaAedes.delete(topic);
        }
        return err ? reject(err) : resolve();
      }),
    );
  }

  /**
   * Writes a node's desired set onto the node's connection in the caller's task (session 23). Through aedes each of a
   * rollout's ~10,000 sets paid the broker queue, qlobber's matching, aedes' offline-queue lookup, and a write one
   * `setImmediate` later — outside the loop's budget (../loop-budget.ts), which the desired flush's turns keep — so
   * the flush's sets now leave within its turn. Only when nothing else may get the message: the node's own clean session
   * is the topic's one subscriber (an administrator's `skiff/v1/#` or a second subscription makes two), no persistent
   * session exists (aedes would queue the message for it while it is offline), and none of the master's earlier
   * publishes of the topic is still in aedes' path (order). Otherwise, or when the node is not connected: false.
   */
  private writeDesired(node: string, topic: string, payload: Buffer, qos: 0 | 1): Promise<void> | false {
    const { nodes, persistent, viaAedes } = this.direct;
    if (persistent.size > 0 || viaAedes.has(topic)) return false;
    const c = nodes.get(node);
    const sub = c?.subscriptions && Object.hasOwn(c.subscriptions, topic) ? c.subscriptions[topic] : undefined;
    if (!c || c.closed || !sub) return false;
    const listeners = this.queue.listenersOf(topic);
    if (listeners.length !== 1 || listeners[0] !== sub.func) return false;
    return writeNow(c, topic, payload, qos, true);
  }

  /**
   * Publishes to one connected client only (API answers and watch events), straight onto its connection: never
   * through the shared queue, so a slow client holds none of the broker's delivery slots and its backlog is its
   * own (api/server.ts bounds it). Resolves once the packet is written to the socket (or the socket drained);
   * falls back to `publish` when the client has not subscribed to exactly `topic`. `payload` may come in pieces (a
   * long list's answer: api/encoding.ts `answerPieces`), written one after the other.
   */
  publishTo(clientId: string, topic: string, payload: Buffer | readonly Buffer[], qos: 0 | 1 = 1): Promise<void> {
    const c = this.holders.get(clientId);
    if (!c || c.closed) return Promise.resolve();
    if (!c.subscriptions || !Object.hasOwn(c.subscriptions, topic)) return this.publish(topic, wholePayload(payload), { qos });
    return writeNow(c, topic, payload, qos) || new Promise((resolve) => c.publish({ cmd: 'publish', topic, payload: wholePayload(payload), qos, retain: false, dup: false } as any, () => resolve()));
  }

  /** Disconnects the client connected with this id (an API client that does not read its answers: api/request-gate.ts). */
  disconnect(clientId: string): boolean {
    const c = this.holders.get(clientId);
    if (!c || c.closed) return false;
    c.close();
    return true;
  }

  /** Disconnects every client whose identity matches (a revoked token, a deleted node). */
  kick(match: (id: Identity) => boolean): number {
    let n = 0;
    for (const c of [...this.holders.values()]) {
      if (c.skiff && !c.closed && match(c.skiff)) {
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

  /** Closes the listeners and every client. */
  async close(): Promise<void> {
    this.unhookLane();
    const listening = [this.server, this.tlsServer].map((s) => (s ? new Promise<void>((r) => s.close(() => r())) : undefined));
    await new Promise<void>((r) => this.aedes.close(() => r()));
    await Promise.all(listening);
  }
}

/**
 * True when aedes would read this client's stream now: no batch of its packets still in hand and not paused. aedes'
 * `nextBatch` is both the stream's 'readable' listener and each packet's done callback, counting both down: bytes pushed
 * while a batch is in hand make it read the next batch early (its packets then handled beside the last ones). libuv
 * does it too when it reads meanwhile, once an iteration; the lane, reading far more often, must not (api-lane.ts).
 */
function betweenBatches(client: Client): boolean {
  const c = client as unknown as { _parsingBatch?: number; _paused?: boolean };
  return !c._paused && !((c._parsingBatch ?? 0) > 0);
}

/**
 * Polls the API lane (at most once a millisecond: ApiLane.poll) before aedes parses what was read from a connection
 * that is not in the lane itself (a node's, a joiner's): the poll phase reads the nodes' connections one after the
 * other (over TLS each decrypted first), and a request that arrives meanwhile is read before the next node's bytes are
 * parsed and answered in the ticks right after them (api-lane.ts). Never before a lane member's own parse, which would
 * push into the stream aedes is reading at that moment: polling before every parse (5991e13) made an administrator's
 * flood of 3,000 publishes end in a closed connection (test/security/metrics.test.ts), with or without
 * `betweenBatches` (the path inside aedes that closes it was not traced).
 */
function pollBeforeParse(client: Client, lane: ApiLane): void {
  const parser = (client as unknown as { _parser?: { parse?: (buf: Buffer) => number } })._parser;
  if (typeof parser?.parse !== 'function') return; // guardClient has already refused such an aedes
  const parse = parser.parse.bind(parser);
  const conn = (client as unknown as { conn: Duplex }).conn;
  parser.parse = (buf: Buffer) => {
    if (!lane.has(conn)) lane.poll();
    return parse(buf);
  };
}

function listen(server: Server | TlsServer, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * The TLS listener. Every client is asked for a certificate (nodes must give theirs; users and joiners have none)
 * and chains are checked against the cluster CA, but an unverified one is not refused here: authenticate decides,
 * with a log line naming the reason. The pre-authentication slot is taken on the TCP socket at accept, before
 * the handshake, and found again for the TLS socket by its peer address.
 */
function tlsListener(t: BrokerTls, admit: (raw: Socket) => boolean, serve: (socket: Duplex, raw: Socket) => void): TlsServer {
  const handshaking = new Map<string, Socket>();
  const peer = (s: Socket) => `${s.remoteAddress}|${s.remotePort}`;
  const server = createTlsServer({ key: t.key, cert: t.cert, ca: t.ca, requestCert: true, rejectUnauthorized: false, handshakeTimeout: HANDSHAKE_TIMEOUT_MS, minVersion: 'TLSv1.2' });
  server.on('connection', (raw: Socket) => {
    if (!admit(raw)) return;
    const k = peer(raw);
    handshaking.set(k, raw);
    raw.once('close', () => handshaking.get(k) === raw && handshaking.delete(k));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const k = peer(socket);
    const raw = handshaking.get(k);
    handshaking.delete(k);
    serve(socket, raw ?? socket);
  });
  server.on('tlsClientError', () => {}); // a failed handshake closes that connection only
  return server;
}
