/**
 * An API request, handled where it is parsed (issue 16, API latency during a rollout). Through aedes a request took
 * several turns of the event loop before the API saw it — the PUBACK's write completes in a setImmediate, then the
 * broker queue, then the 'publish' event — and during a rollout each turn is a slice of commit, watch delivery and
 * agent reports: a `get` of 0.5 ms answered in 30–70 ms. Here a client's request on its own request topic
 * (`api/{clientId}/req`, QoS 0 or 1, not retained) is picked off its packet stream, checked as aedes' path checks it
 * (the ACL, the identity's payload limit), handed to the master at once, in the task that read it, and acknowledged with
 * its answer (`holdAck`: one write, which over TLS is one loop iteration less).
 * Anything else — a request while a subscription may match request topics (an administrator's `skiff/v1/#`: it must
 * see them), one the ACL or the limit refuses (aedes' path refuses it, with its log line) — goes on to aedes as before.
 *
 * A node's metrics (`nodes/{node}/metrics`, every 10 s from every agent, and after a join or a rollout every node's at
 * once) take the same path (session 22): through aedes each paid the broker queue and the 'publish' event before the
 * router queued it for its turn anyway; here it is checked the same way, counted as proof the node is alive, and handed
 * to the router, which queues it as before.
 *
 * A node's pod status reports (`nodes/{node}/pods`, QoS 1: every pod of a rollout is reported at least once as it
 * starts) take it too (session 23): through aedes each paid the offline-queue lookup, the broker queue and qlobber's
 * matching, the 'publish' event and their allocations before the router queued it for its turn anyway. A report is
 * taken only while none of the node's earlier packets is still in aedes' hands (its `_parsingBatch`: a status, a
 * resync, a lease that needs a write), so the router gets a node's messages in the order the node sent them.
 *
 * A client's PUBACK of a QoS 1 publish `writeNow` wrote to it (a node's desired delta: one per pod of a rollout) is taken
 * here too (session 24): aedes never stored that publish, so its handler only looked it up in the persistence in vain,
 * through a promise and a re-read of the socket. Only ids `writeNow` handed out and recently enough that aedes cannot
 * have handed them out again (`recentId`); every other PUBACK goes to aedes as before.
 *
 * A PUBACK of a request taken here may go out before the PUBACK of a QoS 1 publish the same client sent just before it
 * through aedes (MQTT asks for acknowledgements in order; clients match them by packet id, as mqtt.js does).
 */
import type { Socket } from 'node:net';
import type { Client } from 'aedes';
import { ROOT, topics } from '../../protocol/index.js';
import type { Identity } from './acl.js';
import { mayMatchLevels, pubackPacket, refreshKeepalive, takePackets, type PublishPacket } from './fast-lease.js';

/** What the API fast path needs from the broker. */
export interface FastApiOptions {
  /** True while some subscription may match a request topic: then every request goes through aedes. */
  watched(): boolean;
  /** The ACL's answer for a publish on `topic` by this client (acl.ts mayPublish): a pure function, asked once per topic. */
  mayPublish(id: Identity, clientId: string, topic: string): boolean;
  /** The largest payload this identity may publish on `topic` (limits.ts maxPayload): a pure function, asked once per topic. */
  maxBytes(id: Identity, topic: string): number;
  /** The request, as aedes' path hands it to the master. */
  onRequest(m: { topic: string; payload: Buffer; clientId: string; identity: Identity; address: string }): void;
  /** The received-bytes metrics (as aedes' path counts them). */
  onReceive?: (topic: string, bytes: number) => void;
  /** A node's message that proves it alive was read (aedes' path tells it in authorizePublish). */
  onAlive?: (node: string) => void;
}

type InnerClient = Client & {
  skiff?: Identity;
  skiffRaw?: Socket;
  conn: NodeJS.WritableStream & { remoteAddress?: string };
  _parsingBatch?: number;
  _nextId: number;
  /** Packet ids of QoS 1 publishes `writeNow` wrote to this client and it has not acknowledged yet. */
  skiffAcks?: Set<number>;
  /** PUBACKs of this client's requests not written yet (`holdAck`). */
  skiffHeldAcks?: number[];
};

/**
 * Unacknowledged direct writes remembered per client; past this many the memory starts over (their PUBACKs then go to
 * aedes, which finds nothing to clear, as before): a client that never acknowledges cannot grow it.
 */
export const maxPendingAcks = 1024;

/**
 * True when packet id `id` was handed out at most half the id space ago (ids run 1…65,535 and wrap; `nextId` is the
 * next one to hand out). aedes and `writeNow` share the client's counter, so an id `writeNow` used is aedes' again only
 * 65,535 ids later: a PUBACK of an id this recent cannot be one of aedes' own deliveries.
 */
export function recentId(nextId: number, id: number): boolean {
  const ago = (nextId - id + 65535) % 65535;
  return ago >= 1 && ago <= 32768;
}

/** Puts the API fast path in front of one client's packet handling. */
export function fastApi(client: Client, o: FastApiOptions): void {
  const c = client as InnerClient;
  let request: string | undefined; // this client's request topic
  let metrics: string | undefined; // a node's metrics topic
  let pods: string | undefined; // a node's pod reports topic
  // The ACL's answer and the payload limit of each of those topics for this client: pure functions of its identity,
  // which never changes while it is connected — asked once, not for every report and request (~0.4 % of a rollout).
  const limits = new Map<string, number>();
  const limitOf = (id: Identity, topic: string): number => {
    let max = limits.get(topic);
    if (max === undefined) limits.set(topic, (max = o.mayPublish(id, c.id, topic) ? o.maxBytes(id, topic) : -1));
    return max;
  };
  takePackets(client, (p: PublishPacket) => {
    // The PUBACK of a set written directly (a node's desired delta, one per pod of a rollout): aedes never stored
    // that publish, so its handler would look for it in the persistence, find nothing, and take a promise and a
    // re-read of the socket to say so. Any other PUBACK (aedes' own deliveries) goes to aedes.
    if (p.cmd === 'puback') {
      if (!c.connected || !c.skiffAcks?.delete(p.messageId!) || !recentId(c._nextId, p.messageId!)) return false;
      refreshKeepalive(client);
      return true;
    }
    if (p.cmd !== 'publish' || p.retain || (p.qos !== 0 && p.qos !== 1) || !c.connected || !c.skiff) return false;
    request ??= topics.apiReq(c.id);
    if (c.skiff.role === 'node') {
      metrics ??= topics.nodeMetrics(c.skiff.name);
      pods ??= topics.nodePods(c.skiff.name);
    }
    const topic = p.topic === request ? request : p.topic === metrics ? metrics : p.topic === pods ? pods : undefined;
    // A node's reports keep their order (metrics deltas apply to what the master holds): none is taken here while an
    // earlier packet of the node is still in aedes' hands.
    if (!topic || o.watched() || (topic !== request && (c._parsingBatch ?? 0) > 0)) return false;
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    if (!payload || payload.length > limitOf(c.skiff, topic)) return false; // refused (-1) or too large
    // A request's PUBACK goes out with its answer (`holdAck`); a node's report's is one small write in this task, as
    // the lease's (writeToStream would cork it to the next tick, after an answer written at once).
    if (p.qos === 1) {
      if (topic === request) holdAck(c, p.messageId!);
      else c.conn.write(pubackPacket(p.messageId!));
    }
    refreshKeepalive(client);
    if (topic !== request) o.onAlive?.(c.skiff.name); // metrics and pod reports prove the node alive (router.ts)
    o.onReceive?.(topic, payload.length);
    o.onRequest({ topic, payload, clientId: c.id, identity: c.skiff, address: (c.skiffRaw ?? c.conn).remoteAddress ?? '' });
    return true;
  });
}

/**
 * Keeps a request's PUBACK to go out in one write with its answer (`writeNow` writes held PUBACKs first), or at the
 * next check phase when no answer was written by then (a list waiting for the informers, a watch, an answer through
 * aedes). Over TLS two writes cost the answer a loop iteration: Node's TLS socket finishes a write that the kernel took
 * at once only in a native immediate (src/crypto/crypto_tls.cc EncOut: "Simulate asynchronous finishing"), and writes
 * nothing more on the connection until then, so an answer written right after its PUBACK waited for the next check
 * phase — during a rollout p50 9 ms, p99 40 ms of a get's time (`SKIFF_API_TIMING`, docs/scale.md "Session 29").
 * On a plain socket it saves a write. Clients match a PUBACK by its packet id, whenever it comes (mqtt.js does); MQTT's
 * order of PUBACKs among themselves is kept.
 */
function holdAck(c: InnerClient, messageId: number): void {
  const held = (c.skiffHeldAcks ??= []);
  held.push(messageId);
  if (held.length === 1) setImmediate(writeHeldAcks, c);
}

/** Writes the PUBACKs `holdAck` kept for this client, if it is still there (the caller corks when it writes more). */
function writeHeldAcks(c: { skiffHeldAcks?: number[]; connected?: boolean; conn: NodeJS.WritableStream }): void {
  const held = c.skiffHeldAcks;
  if (!held || held.length === 0) return;
  c.skiffHeldAcks = undefined;
  if (!c.connected) return;
  for (const id of held) c.conn.write(pubackPacket(id));
}

/** The levels of a request topic: ROOT, `api`, any client, `req`. */
const requestLevels: (string | undefined)[] = [...ROOT.split('/'), 'api', undefined, 'req'];

/** The levels of a node's metrics topic: ROOT, `nodes`, any node, `metrics`. */
const metricsLevels: (string | undefined)[] = [...ROOT.split('/'), 'nodes', undefined, 'metrics'];

/** True when the subscription `filter` may match some client's API request topic. */
export function mayMatchApiRequest(filter: string): boolean {
  return mayMatchLevels(filter, requestLevels);
}

/** The levels of a node's pod reports topic: ROOT, `nodes`, any node, `pods`. */
const podsLevels: (string | undefined)[] = [...ROOT.split('/'), 'nodes', undefined, 'pods'];

/** True when the subscription `filter` may match some node's metrics topic. */
export function mayMatchNodeMetrics(filter: string): boolean {
  return mayMatchLevels(filter, metricsLevels);
}

/** True when the subscription `filter` may match some node's pod reports topic. */
export function mayMatchNodePods(filter: string): boolean {
  return mayMatchLevels(filter, podsLevels);
}

/** The parts of an aedes client the answer path reaches into (not in its typings). */
type AnswerClient = Client & {
  conn: NodeJS.WritableStream;
  subscriptions?: Record<string, { qos?: number } | undefined>;
  _nextId: number;
  broker: { authorizeForward(client: Client, packet: unknown): unknown };
  skiffAcks?: Set<number>;
  skiffHeldAcks?: number[];
};

/**
 * The fixed header, topic name and message id of a PUBLISH (MQTT 3.1.1 §3.3: not dup, not retained) as mqtt-packet
 * generates them; the payload of `payloadBytes` follows. Built in one buffer: mqtt-packet's generate writes a publish in
 * five pieces through a stream writer (with a debug call each), for every answer, watch event and desired set.
 * Throws on a topic or a packet longer than MQTT allows (mqtt-packet refuses them too).
 */
export function publishHeader(topic: string, qos: 0 | 1, messageId: number, payloadBytes: number): Buffer {
  const topicBytes = Buffer.byteLength(topic);
  if (topicBytes > 0xffff) throw new RangeError('topic too long');
  const idBytes = qos > 0 ? 2 : 0;
  let remaining = 2 + topicBytes + idBytes + payloadBytes;
  if (remaining > 268_435_455) throw new RangeError('packet too large');
  const lengthBytes = remaining < 0x80 ? 1 : remaining < 0x4000 ? 2 : remaining < 0x200000 ? 3 : 4;
  const b = Buffer.allocUnsafe(1 + lengthBytes + 2 + topicBytes + idBytes);
  let i = 0;
  b[i++] = 0x30 | (qos << 1);
  do {
    const digit = remaining % 0x80;
    remaining = Math.floor(remaining / 0x80);
    b[i++] = remaining > 0 ? digit | 0x80 : digit;
  } while (remaining > 0);
  b.writeUInt16BE(topicBytes, i);
  i += 2;
  i += b.write(topic, i);
  if (qos > 0) b.writeUInt16BE(messageId, i);
  return b;
}

/** A payload that may come in pieces (an API answer: api/encoding.ts `answerPieces`), as one buffer. */
export function wholePayload(payload: Buffer | readonly Buffer[]): Buffer {
  return Buffer.isBuffer(payload) ? payload : payload.length === 1 ? payload[0]! : Buffer.concat(payload);
}

/**
 * Writes a publish to one clean-session client now, in the caller's task, as aedes' own delivery does it one
 * `setImmediate` later (lib/client.js deliverQoS: the packet cleared by `authorizeForward`, the QoS lowered to the
 * subscription's, the next message id of the client, mqtt-packet onto the connection). That immediate ran behind every
 * other task queued for the check phase — in a rollout the store's turns, watch delivery, agent messages — so an API
 * answer computed in well under a millisecond left the master one whole check phase later (~10 ms, measured: half of
 * a `get`'s time). Resolves once written (or the socket drained). False when the client needs aedes' path (not a clean
 * session — its outgoing QoS 1 messages are kept for redelivery — or not subscribed to exactly `topic`).
 *
 * `flush`: the bytes go to the socket before this returns (a desired set, one per node per flush: the flush's turn then
 * measures its writes against the loop's budget). Otherwise they are corked until the end of the tick, as mqtt-packet
 * does, so a stream's events written in one task go out in one write.
 */
export function writeNow(client: Client, topic: string, payload: Buffer | readonly Buffer[], qos: 0 | 1, flush = false): Promise<void> | false {
  const c = client as AnswerClient;
  const sub = c.subscriptions && Object.hasOwn(c.subscriptions, topic) ? c.subscriptions[topic] : undefined;
  if (!c.clean || !sub || !c.connected) return false;
  const pieces = Buffer.isBuffer(payload) ? [payload] : payload;
  let size = 0;
  for (const b of pieces) size += b.length;
  // The ACL reads the topic, and the delivery count the payload's length (a payload in pieces: their byte count).
  const packet = { cmd: 'publish' as const, topic, payload: pieces.length === 1 ? pieces[0]! : { length: size }, qos: Math.min(qos, sub.qos ?? 0), retain: false, dup: false, messageId: 0 };
  if (!c.broker.authorizeForward(c, packet)) return Promise.resolve(); // refused, as aedes drops it
  if (packet.qos > 0) {
    packet.messageId = c._nextId;
    c._nextId = c._nextId >= 65535 ? 1 : c._nextId + 1;
    const acks = (c.skiffAcks ??= new Set());
    if (acks.size >= maxPendingAcks) acks.clear();
    acks.add(packet.messageId); // its PUBACK is taken by the fast path (fastApi)
  }
  let header: Buffer;
  try {
    header = publishHeader(topic, packet.qos as 0 | 1, packet.messageId, size);
  } catch {
    return Promise.resolve(); // a packet MQTT cannot carry is dropped, as aedes' write drops it
  }
  const conn = c.conn;
  conn.cork();
  writeHeldAcks(c); // a request's PUBACK, in the same write as its answer (holdAck)
  let ok = conn.write(header);
  for (const b of pieces) if (b.length > 0) ok = conn.write(b);
  if (flush) conn.uncork();
  else process.nextTick(() => conn.uncork());
  if (ok) return Promise.resolve();
  return drained(conn);
}

/** The writers waiting for each connection to drain (`drained`). */
const drainWaiters = new WeakMap<NodeJS.WritableStream, (() => void)[]>();

/**
 * Resolves once `conn` drains, or closes before it drains (aedes' waitForDrain answers its writers then too). One
 * pair of listeners per connection, however many writers wait: a listener each (as before) made a watcher's burst of
 * events during a join 401 `drain` and 401 `close` listeners on one socket (Node's MaxListenersExceededWarning), and
 * removing each from the others' array was quadratic in the burst.
 */
function drained(conn: NodeJS.WritableStream): Promise<void> {
  const stream = conn as NodeJS.WritableStream & { destroyed?: boolean; closed?: boolean };
  if (stream.destroyed || stream.closed) return Promise.resolve(); // neither event comes any more
  let waiters = drainWaiters.get(conn);
  if (!waiters) {
    const list: (() => void)[] = (waiters = []);
    drainWaiters.set(conn, list);
    const done = () => {
      conn.off('drain', done);
      conn.off('close', done);
      drainWaiters.delete(conn);
      for (const resolve of list) resolve();
    };
    conn.on('drain', done);
    conn.on('close', done);
  }
  return new Promise((resolve) => waiters.push(resolve));
}
