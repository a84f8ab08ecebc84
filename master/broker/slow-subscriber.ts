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
 * buffer, without waiting for the socket to take it — so the queue never waits for a socket; what a client has been handed and its socket
 * has not taken yet is counted, and past `maxUnwrittenBytes` the client is disconnected — as Kubernetes ends a watch
 * whose client cannot keep up, and as Mosquitto drops what is queued past `max_queued_bytes`. The client reconnects and
 * subscribes again; retained messages (service endpoints) bring it up to date.
 * Liveness never waited behind a subscriber (emitter.ts) and API answers and watch streams are written apart from the
 * queue with bounds of their own (api/request-gate.ts, api/server.ts `streamBacklog`).
 */
import type { Client } from 'aedes';

/** What one client may have been handed and not yet taken: past it, it is disconnected. */
export const maxUnwrittenBytes = 8 * 1024 * 1024;

type Deliver = (packet: { topic?: string; payload?: { length: number } | string }, cb: () => void) => void;
type DeliveringClient = Client & { deliver0: Deliver; deliverQoS: Deliver; closed?: boolean };

/** Bytes a packet puts on the wire, near enough for the bound (topic and payload). */
function sizeOf(packet: Parameters<Deliver>[0]): number {
  const p = packet.payload;
  return (packet.topic?.length ?? 0) + (typeof p === 'string' ? Buffer.byteLength(p) : (p?.length ?? 0));
}

/**
 * Wraps `client`'s two delivery functions (aedes builds each subscription's listener from them, so this runs before
 * the client subscribes). `onSlow` is told once when the bound is passed; the client is then closed.
 */
export function boundDeliveries(client: Client, onSlow: (unwritten: number) => void, max = maxUnwrittenBytes): void {
  const c = client as DeliveringClient;
  let unwritten = 0;
  let slow = false;
  const wrap = (deliver: Deliver): Deliver =>
    function boundedDelivery(packet, cb) {
      if (slow || c.closed) return cb();
      const bytes = sizeOf(packet);
      if (unwritten + bytes > max) {
        slow = true;
        onSlow(unwritten);
        c.close();
        return cb();
      }
      unwritten += bytes;
      deliver(packet, () => (unwritten -= bytes)); // written (or drained, or the client closed)
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
