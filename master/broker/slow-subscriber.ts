/**
 * A subscriber that does not read holds nobody else up, and what it is owed is bounded.
 *
 * aedes hands a message to each subscriber and reports it delivered only once that subscriber's socket took it: when
 * the socket is full it waits for 'drain'. The broker queue (emitter.ts) delivers 200 messages at once, so a client
 * that subscribed and stopped reading held one slot per message it was sent, and after 200 of them nothing else on
 * the queue moved: a view token subscribed to `skiff/v1/events` and never reading stopped every other watcher's events
 * (another reader got 131 of 600 in 30 s), and `skiff/v1/services/#` would have stopped every agent's endpoints the
 * same way, while the queue grew without bound (test/security/slow-subscriber.test.ts).
 *
 * Here each client's deliveries report done once the message is written to the client's connection — into its
 * buffer, without waiting for the socket to take it — so the queue never waits for a socket. What a client has been
 * handed and its socket has not taken yet is counted: past `maxUnwrittenBytes` the client is disconnected, and past
 * `maxUnwrittenPerIdentity` for all of an identity's clients together the one owing the most is — as Kubernetes ends
 * a watch whose client cannot keep up, and as Mosquitto drops what is queued past `max_queued_bytes`. The client
 * reconnects and subscribes again; retained messages (service endpoints) bring it up to date.
 * Liveness never waited behind a subscriber (emitter.ts) and API answers and watch streams are written apart from the
 * queue with bounds of their own (api/request-gate.ts, api/server.ts `streamBacklog`).
 */
import type { Client } from 'aedes';

/** What one client may have been handed and not yet taken: past it, it is disconnected. */
export const maxUnwrittenBytes = 8 * 1024 * 1024;

/**
 * What all of one identity's clients may have been handed and not yet taken, together: past it, the one that owes the
 * most is disconnected. Every connection of a token is its identity's, so opening more of them buys nothing; each
 * node is an identity of its own, so a fleet's reconnect storm (every agent sent the retained endpoints at once) is
 * never counted together.
 */
export const maxUnwrittenPerIdentity = 4 * maxUnwrittenBytes;

type Deliver = (packet: { topic?: string; payload?: { length: number } | string }, cb: () => void) => void;
type DeliveringClient = Client & { deliver0: Deliver; deliverQoS: Deliver; closed?: boolean; skiff?: { role: string; name: string } };

/** Bytes a packet puts on the wire, near enough for the bound (topic and payload). */
function sizeOf(packet: Parameters<Deliver>[0]): number {
  const p = packet.payload;
  return (packet.topic?.length ?? 0) + (typeof p === 'string' ? Buffer.byteLength(p) : (p?.length ?? 0));
}

/** One client's debt: handed and not yet written. */
interface Debt {
  client: DeliveringClient;
  owner: string;
  bytes: number;
}

/** What each identity's clients owe (one per broker). */
export class SubscriberDebts {
  private readonly byOwner = new Map<string, { bytes: number; debts: Set<Debt> }>();

  constructor(readonly perClient = maxUnwrittenBytes, readonly perIdentity = maxUnwrittenPerIdentity) {}

  add(d: Debt, bytes: number): void {
    let o = this.byOwner.get(d.owner);
    if (!o) this.byOwner.set(d.owner, (o = { bytes: 0, debts: new Set() }));
    d.bytes += bytes;
    o.bytes += bytes;
    o.debts.add(d);
  }

  paid(d: Debt, bytes: number): void {
    d.bytes -= bytes;
    const o = this.byOwner.get(d.owner);
    if (!o) return;
    o.bytes -= bytes;
    if (d.bytes === 0) o.debts.delete(d);
    if (o.debts.size === 0) this.byOwner.delete(d.owner);
  }

  /**
   * The identity's client that owes the most, when `bytes` more would put the identity past its bound. What clients
   * already closed owe does not count (it is let go as their connections close): one disconnect per excess, not one
   * for every packet until their writes are answered.
   */
  over(owner: string, bytes: number): DeliveringClient | undefined {
    const o = this.byOwner.get(owner);
    if (!o || o.bytes + bytes <= this.perIdentity) return undefined;
    let open = o.bytes + bytes;
    let most: Debt | undefined;
    for (const d of o.debts) {
      if (d.client.closed) open -= d.bytes;
      else if (!most || d.bytes > most.bytes) most = d;
    }
    return open > this.perIdentity ? most?.client : undefined;
  }

  /** Bytes owed by an identity's clients (tests). */
  owed(owner: string): number {
    return this.byOwner.get(owner)?.bytes ?? 0;
  }
}

/**
 * Wraps `client`'s two delivery functions (aedes builds each subscription's listener from them, so this runs before
 * the client subscribes). A client past its own bound, or owing the most when its identity is past the identity's, is
 * closed, and `onSlow` told which and why.
 */
export function boundDeliveries(client: Client, debts: SubscriberDebts, onSlow: (client: Client, why: string) => void): void {
  const c = client as DeliveringClient;
  let debt: Debt | undefined; // made at the first delivery: the identity is known by then (deliveries follow a subscription)
  const close = (who: DeliveringClient, why: string) => {
    onSlow(who, why);
    who.close();
  };
  const wrap = (deliver: Deliver): Deliver =>
    function boundedDelivery(packet, cb) {
      if (c.closed) return cb();
      const bytes = sizeOf(packet);
      const d = (debt ??= { client: c, owner: c.skiff ? `${c.skiff.role}:${c.skiff.name}` : `client:${c.id}`, bytes: 0 });
      if (d.bytes + bytes > debts.perClient) {
        close(c, `${d.bytes} bytes unwritten (limit ${debts.perClient})`);
        return cb();
      }
      const biggest = debts.over(d.owner, bytes);
      if (biggest) close(biggest, `the clients of ${d.owner} owe ${debts.owed(d.owner)} bytes unwritten (limit ${debts.perIdentity})`);
      if (c.closed) return cb();
      debts.add(d, bytes);
      deliver(packet, () => debts.paid(d, bytes)); // written (or drained, or the client closed)
      // Done one immediate later: after aedes' own immediate has written the packet (for a clean session, at once),
      // so that what the master writes to the client directly after it (fast-api.ts writeNow) cannot overtake it.
      setImmediate(cb);
    };
  // aedes' deliverQoS hands a QoS 0 packet to `client.deliver0` — the wrapped one, which counts it: not counted twice.
  const deliverQoS = c.deliverQoS;
  const qos1 = wrap(deliverQoS);
  c.deliver0 = wrap(c.deliver0);
  c.deliverQoS = (packet, cb) => ((packet as { qos?: number }).qos === 0 ? deliverQoS(packet, cb) : qos1(packet, cb));
}
