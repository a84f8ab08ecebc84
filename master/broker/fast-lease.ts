/**
 * A node's lease, handled where it is parsed (issue 16, idle CPU: 1,000 agents leasing cost the master a fifth of a
 * core). A lease is an unretained publish on the node's own `nodes/{node}/lease` with a tiny payload — QoS 1 from
 * agents since session 22 (its PUBACK is the agent's proof the master is alive, so mqtt.js sends no PINGREQ while
 * leases flow: edge-agent/telemetry.ts LEASE_QOS), QoS 0 from older ones; nothing
 * but the master reads it, and the master only needs "this node is alive now". Through aedes it paid the ACL, the
 * payload limit, the broker queue, the 'publish' event and the router, and was heard twice (authorizePublish, then
 * the router). Here it is picked off the client's packet stream before aedes handles it, checked (the node's own
 * topic, QoS 0 or 1, not retained, within the lease payload limit, a map), told to `onLease` once, and a QoS 1 lease
 * acknowledged here (written at once: aedes would have added a turn for it). Anything else —
 * and a lease while a subscription may match lease topics (an administrator's `skiff/v1/#`), or one that needs a
 * write (onLease says false: the node is not Ready, its heartbeat is due) — goes on to aedes as before.
 */
import type { Client } from 'aedes';
import { ROOT, decodeObject, ownBytes, topics, type LeaseMessage } from '../../protocol/index.js';
import type { Identity } from './acl.js';

/** The parts of an aedes client this reaches into (not in its typings): its parser and keep-alive timer. */
type InnerClient = Client & {
  skiff?: Identity;
  conn: NodeJS.WritableStream;
  _parser: NodeJS.EventEmitter;
  _keepaliveInterval?: number;
  _keepaliveTimer?: { refresh(): void } | null;
};

/** What a parsed MQTT publish looks like (mqtt-packet). */
export interface PublishPacket {
  cmd: string;
  topic?: string;
  qos?: number;
  retain?: boolean;
  messageId?: number;
  payload?: Buffer | string;
}

/** What the fast path needs from the broker. */
export interface FastLeaseOptions {
  /** The largest lease payload accepted (limits.ts), bytes. */
  maxBytes: number;
  /** True while some subscription may match a lease topic: then every lease goes through aedes. */
  watched(): boolean;
  /** The lease of `node`; true when it needs nothing more. */
  onLease(node: string, lease: LeaseMessage): boolean;
  /** The received-bytes metrics (as aedes' path counts them). */
  onReceive?: (topic: string, bytes: number) => void;
}

/**
 * Puts the fast path in front of one client's packet handling. Leases the fast path takes are finished here: aedes
 * never sees them, so the client's keep-alive is refreshed here as aedes would ([MQTT-3.1.2-24]: any control packet
 * counts), and no batch accounting changes (aedes counts a packet only when its handler starts).
 */
export function fastLeases(client: Client, o: FastLeaseOptions): void {
  const c = client as InnerClient;
  let topic: string | undefined; // the node's own lease topic, once it authenticated as a node
  // An agent's leases repeat the same bytes until its generation or interval changes: the last one read is kept
  // (a copy: the packet's buffer may be a slice of a larger read) and not decoded again.
  let last: { bytes: Buffer; lease: Readonly<LeaseMessage> } | undefined;
  takePackets(client, take);

  function take(p: PublishPacket): boolean {
    if (p.cmd !== 'publish' || (p.qos !== 0 && p.qos !== 1) || p.retain || !c.connected || c.skiff?.role !== 'node') return false;
    topic ??= topics.nodeLease(c.skiff.name);
    if (p.topic !== topic || o.watched()) return false;
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    if (!payload || payload.length > o.maxBytes) return false; // aedes' path refuses it, with its log line
    if (!last?.bytes.equals(payload)) {
      try {
        last = { bytes: ownBytes(payload), lease: Object.freeze(decodeObject<LeaseMessage>(payload).value) };
      } catch {
        last = undefined;
        return false; // the router logs what it cannot decode
      }
    }
    if (!o.onLease(c.skiff.name, last.lease)) return false;
    // One small write, in this task (writeToStream would cork it to the next tick): the PUBACK is all the agent
    // waits for ([MQTT-4.3.2-2]).
    if (p.qos === 1) c.conn.write(pubackPacket(p.messageId!));
    o.onReceive?.(topic, payload.length);
    refreshKeepalive(client);
    return true;
  }
}

/**
 * The PUBACK of `messageId` as mqtt-packet generates it (MQTT 3.1.1 §3.4: type 4, remaining length 2, the id; also a
 * valid MQTT 5 PUBACK, reason Success), made directly: mqtt-packet's generate builds it through a stream writer,
 * ~13× the time, for every lease of every node (test/unit/fast-lease.test.ts compares the bytes).
 */
export function pubackPacket(messageId: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b[0] = 0x40;
  b[1] = 2;
  b.writeUInt16BE(messageId, 2);
  return b;
}

/**
 * Puts `take` in front of one aedes client's packet handling: a packet it takes (returns true for) is finished
 * there and never reaches aedes; any other goes on as before. Shared by the lease and API fast paths (fast-api.ts).
 */
export function takePackets(client: Client, take: (p: PublishPacket) => boolean): void {
  const parser = (client as InnerClient)._parser;
  const handlers = parser?.listeners('packet') as ((this: unknown, p: unknown) => void)[] | undefined;
  if (!parser || !handlers?.length) throw new Error('aedes changed: a client has no parser with a packet handler to put a fast path in front of');
  parser.removeAllListeners('packet');
  parser.on('packet', function (this: unknown, packet: PublishPacket) {
    if (!take(packet)) for (const h of handlers) h.call(this, packet);
  });
}

/** A packet the fast path took counts for the keep-alive as aedes would count it ([MQTT-3.1.2-24]: any control packet). */
export function refreshKeepalive(client: Client): void {
  const c = client as InnerClient;
  if ((c._keepaliveInterval ?? -1) > 0) c._keepaliveTimer?.refresh();
}

/** The levels of a lease topic: ROOT, `nodes`, any node, `lease`. */
const leaseLevels: (string | undefined)[] = [...ROOT.split('/'), 'nodes', undefined, 'lease'];

/** True when the subscription `filter` may match some node's lease topic ([MQTT-4.7]: `+` one level, `#` the rest). */
export function mayMatchLease(filter: string): boolean {
  return mayMatchLevels(filter, leaseLevels);
}

/** True when `filter` may match some topic of `levels` (undefined: any one level). */
export function mayMatchLevels(filter: string, levels: (string | undefined)[]): boolean {
  const f = filter.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= levels.length) return false;
    if (f[i] === '+' || levels[i] === undefined) continue;
    if (f[i] !== levels[i]) return false;
  }
  return f.length === levels.length;
}
