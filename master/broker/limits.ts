/**
 * How big an MQTT packet may be, before and after authentication (docs/protocol.md "Sizes"). aedes buffers a
 * whole packet before it parses it, so the announced length is checked first (frame-guard.ts): a CONNECT
 * announcing 256 MB is refused after its first bytes, not after the master allocated 256 MB.
 */
import { maxRequestBytes, parseTopic } from '../../protocol/index.js';
import type { Identity } from './acl.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Any packet before the CONNECT is authenticated: a CONNECT (client id, user, password, a small Will) needs well under this. */
export const PRE_AUTH_PACKET_BYTES = 16 * KiB;

/** Packets other than PUBLISH after authentication (SUBSCRIBE with many filters, acks, pings). */
export const CONTROL_PACKET_BYTES = 64 * KiB;

/** A PUBLISH carries its topic (≤ 64 KiB by the MQTT length prefix) and a message id besides its payload. */
const PUBLISH_OVERHEAD_BYTES = 64 * KiB + 4;

/**
 * The largest payload per topic class. Applies and write requests are what the API reads at all
 * (protocol/limits.ts maxRequestBytes: 3 MiB, kube-apiserver's request body limit; objects themselves are
 * limited to 1.5 MiB); node reports are bounded by the pods of one board.
 */
export const PAYLOAD_LIMITS = Object.freeze({
  /** `skiff/v1/apply` (edit and admin; a view identity gets apiRead, its apply is refused with an event). */
  apply: maxRequestBytes,
  /** `api/{clientId}/req` of an identity that may apply (its requests carry manifests). */
  apiWrite: maxRequestBytes,
  /** `api/{clientId}/req` of a view identity: names, selectors, options. */
  apiRead: 64 * KiB,
  nodeStatus: 256 * KiB,
  nodeLease: 4 * KiB,
  /** `{generation}`: a few bytes. */
  nodeResync: 4 * KiB,
  nodePods: 1 * MiB,
  nodeMetrics: 1 * MiB,
  /** Exec and logs answers come in chunks of ≤ 64 KiB of text. */
  nodeRpcRes: 1 * MiB,
  joinReq: 64 * KiB,
  /** A certificate signing request (PEM, ~450 bytes for P-256). */
  nodeCsr: 8 * KiB,
  /** `skiff/v1/metrics/NAME`: one number. */
  metric: 4 * KiB,
});

/** The largest payload `id` may publish on `topic`; 0 for topics outside the tree (the ACL refuses those anyway). */
export function maxPayload(id: Identity, topic: string): number {
  const t = parseTopic(topic);
  switch (t?.type) {
    case 'apply':
      // A view identity's apply is refused by the API (with an event): nothing it sends there needs room.
      return id.role === 'user' && id.access === 'view' ? PAYLOAD_LIMITS.apiRead : PAYLOAD_LIMITS.apply;
    case 'apiReq':
      return id.role === 'admin' || (id.role === 'user' && id.access !== 'view') ? PAYLOAD_LIMITS.apiWrite : PAYLOAD_LIMITS.apiRead;
    case 'nodeStatus':
      return PAYLOAD_LIMITS.nodeStatus;
    case 'nodeLease':
      return PAYLOAD_LIMITS.nodeLease;
    case 'nodeResync':
      return PAYLOAD_LIMITS.nodeResync;
    case 'nodePods':
      return PAYLOAD_LIMITS.nodePods;
    case 'nodeMetrics':
      return PAYLOAD_LIMITS.nodeMetrics;
    case 'nodeRpcRes':
      return PAYLOAD_LIMITS.nodeRpcRes;
    case 'joinReq':
      return PAYLOAD_LIMITS.joinReq;
    case 'nodeCsr':
      return PAYLOAD_LIMITS.nodeCsr;
    case 'metric':
      return PAYLOAD_LIMITS.metric;
    default:
      return 0;
  }
}

/** The largest PUBLISH payload an identity may send on any topic (what the frame guard allows it to announce). */
function maxPublishPayload(id: Identity): number {
  switch (id.role) {
    case 'admin':
      return PAYLOAD_LIMITS.apply;
    case 'user':
      return id.access === 'view' ? PAYLOAD_LIMITS.apiRead : PAYLOAD_LIMITS.apply;
    case 'node':
      return PAYLOAD_LIMITS.nodePods;
    case 'joiner':
      return PAYLOAD_LIMITS.joinReq;
  }
}

/** MQTT control packet types (the high nibble of the first byte) the limits tell apart. */
export const PACKET = Object.freeze({ CONNECT: 1, PUBLISH: 3 });

/** The largest packet (remaining length) a client may announce: `id` undefined until its CONNECT is authenticated. */
export function maxPacket(id: Identity | undefined, type: number): number {
  if (!id) return PRE_AUTH_PACKET_BYTES;
  return type === PACKET.PUBLISH ? maxPublishPayload(id) + PUBLISH_OVERHEAD_BYTES : CONTROL_PACKET_BYTES;
}
