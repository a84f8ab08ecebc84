/**
 * An API request, handled where it is parsed (issue 16, API latency during a rollout). Through aedes a request took
 * several turns of the event loop before the API saw it — the PUBACK's write completes in a setImmediate, then the
 * broker queue, then the 'publish' event — and during a rollout each turn is a slice of commit, watch delivery and
 * agent reports: a `get` of 0.5 ms answered in 30–70 ms. Here a client's request on its own request topic
 * (`api/{clientId}/req`, QoS 0 or 1, not retained) is picked off its packet stream, checked as aedes' path checks it
 * (the ACL, the identity's payload limit), acknowledged, and handed to the master at once, in the task that read it.
 * Anything else — a request while a subscription may match request topics (an administrator's `skiff/v1/#`: it must
 * see them), one the ACL or the limit refuses (aedes' path refuses it, with its log line) — goes on to aedes as before.
 *
 * A PUBACK of a request taken here may go out before the PUBACK of a QoS 1 publish the same client sent just before it
 * through aedes (MQTT asks for acknowledgements in order; clients match them by packet id, as mqtt.js does).
 */
import type { Socket } from 'node:net';
import type { Client } from 'aedes';
import mqttPacket from 'mqtt-packet';
import { ROOT, topics } from '../../protocol/index.js';
import type { Identity } from './acl.js';
import { mayMatchLevels, refreshKeepalive, takePackets, type PublishPacket } from './fast-lease.js';

/** What the API fast path needs from the broker. */
export interface FastApiOptions {
  /** True while some subscription may match a request topic: then every request goes through aedes. */
  watched(): boolean;
  /** The ACL's answer for a publish on `topic` by this client (acl.ts mayPublish). */
  mayPublish(id: Identity, clientId: string, topic: string): boolean;
  /** The largest payload this identity may publish on `topic` (limits.ts maxPayload). */
  maxBytes(id: Identity, topic: string): number;
  /** The request, as aedes' path hands it to the master. */
  onRequest(m: { topic: string; payload: Buffer; clientId: string; identity: Identity; address: string }): void;
  /** The received-bytes metrics (as aedes' path counts them). */
  onReceive?: (topic: string, bytes: number) => void;
}

type InnerClient = Client & { skiff?: Identity; skiffRaw?: Socket; conn: NodeJS.WritableStream & { remoteAddress?: string } };

/** Puts the API fast path in front of one client's packet handling. */
export function fastApi(client: Client, o: FastApiOptions): void {
  const c = client as InnerClient;
  let topic: string | undefined; // this client's request topic
  takePackets(client, (p: PublishPacket) => {
    if (p.cmd !== 'publish' || p.retain || (p.qos !== 0 && p.qos !== 1) || !c.connected || !c.skiff) return false;
    topic ??= topics.apiReq(c.id);
    if (p.topic !== topic || o.watched()) return false;
    const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
    if (!payload || !o.mayPublish(c.skiff, c.id, topic) || payload.length > o.maxBytes(c.skiff, topic)) return false;
    if (p.qos === 1) mqttPacket.writeToStream({ cmd: 'puback', messageId: p.messageId! }, c.conn);
    refreshKeepalive(client);
    o.onReceive?.(topic, payload.length);
    o.onRequest({ topic, payload, clientId: c.id, identity: c.skiff, address: (c.skiffRaw ?? c.conn).remoteAddress ?? '' });
    return true;
  });
}

/** The levels of a request topic: ROOT, `api`, any client, `req`. */
const requestLevels: (string | undefined)[] = [...ROOT.split('/'), 'api', undefined, 'req'];

/** True when the subscription `filter` may match some client's API request topic. */
export function mayMatchApiRequest(filter: string): boolean {
  return mayMatchLevels(filter, requestLevels);
}
