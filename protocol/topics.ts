/**
 * The MQTT topic tree (see docs/protocol.md). Every topic is built and parsed here and nowhere else.
 * `{node}` is the node name and also the agent's MQTT username.
 */

/** The root of every Skiff topic. */
export const ROOT = 'skiff/v1';

/** Topic builders. */
export const topics = {
  /** agent → master, QoS 1, retained; the Will publishes `{online: false}`. */
  nodeStatus: (node: string) => `${ROOT}/nodes/${node}/status`,
  /** agent → master, QoS 1 (QoS 0 from older agents): heartbeat; its PUBACK stands in for the agent's keep-alive ping. */
  nodeLease: (node: string) => `${ROOT}/nodes/${node}/lease`,
  /**
   * master → agent, QoS 1: the whole desired pod set with a generation (retained for agents that never asked
   * for deltas), or, to an agent that sent `resync`, a delta on top of the generation it holds.
   */
  nodeDesired: (node: string) => `${ROOT}/nodes/${node}/desired`,
  /** agent → master, QoS 1: "send me the full desired set" (on every connect, and when a delta does not follow). */
  nodeResync: (node: string) => `${ROOT}/nodes/${node}/resync`,
  /** agent → master, QoS 1: batched pod status changes. */
  nodePods: (node: string) => `${ROOT}/nodes/${node}/pods`,
  /** agent → master, QoS 0: cpu/memory samples. */
  nodeMetrics: (node: string) => `${ROOT}/nodes/${node}/metrics`,
  /** master → agent, QoS 1: an on-demand call (logs, exec, describe). */
  nodeRpcReq: (node: string, id: string) => `${ROOT}/nodes/${node}/rpc/${id}/req`,
  /** agent → master, QoS 1: the answer (or a stream of chunks) to an RPC. */
  nodeRpcRes: (node: string, id: string) => `${ROOT}/nodes/${node}/rpc/${id}/res`,
  /** agent → master, QoS 1: a certificate signing request for the node's next certificate (renewal). */
  nodeCsr: (node: string) => `${ROOT}/nodes/${node}/csr`,
  /** master → agent, QoS 1: the certificate signed for that request, or why not. */
  nodeCert: (node: string) => `${ROOT}/nodes/${node}/cert`,
  /** joining agent → master: the steps of the join exchange (protocol/join.ts); `session` is a random id the joiner chose. */
  joinReq: (session: string) => `${ROOT}/join/${session}/req`,
  /** master → joining agent: the challenge, then the result (the credential sealed to the joiner's key). */
  joinRes: (session: string) => `${ROOT}/join/${session}/res`,
  /** master → agents, QoS 1, retained: a service's ready endpoints (empty retained = deleted). */
  service: (namespace: string, name: string) => `${ROOT}/services/${namespace}/${name}`,
  /** client → master: API request `{id, verb, ...}`. */
  apiReq: (clientId: string) => `${ROOT}/api/${clientId}/req`,
  /** master → client: API response `{id, ok, result | error}`. */
  apiRes: (clientId: string) => `${ROOT}/api/${clientId}/res`,
  /** client → master: a manifest as UTF-8 YAML or JSON (several documents allowed). */
  apply: `${ROOT}/apply`,
  /**
   * master → agents, QoS 1, retained: `{intervalMs}`, the lease interval the master assigns to every agent
   * (protocol/lease.ts). Agents that predate it never subscribe.
   */
  leaseConfig: `${ROOT}/cluster/lease`,
  /** master → watchers, QoS 0: cluster events (apply outcomes among them). */
  events: `${ROOT}/events`,
  /** master → watchers, QoS 0: the events of one namespace (also on `events`); what namespaced tokens may read. */
  namespaceEvents: (namespace: string) => `${ROOT}/events/${namespace}`,
  /** client → master: one number (UTF-8 text or JSON `{value}`), an external metric for autoscaling. */
  metric: (name: string) => `${ROOT}/metrics/${name}`,
} as const;

/** Wildcard subscriptions the master makes. */
export const masterSubscriptions = [
  `${ROOT}/nodes/+/status`,
  `${ROOT}/nodes/+/lease`,
  `${ROOT}/nodes/+/pods`,
  `${ROOT}/nodes/+/metrics`,
  `${ROOT}/nodes/+/rpc/+/res`,
  `${ROOT}/nodes/+/csr`,
  `${ROOT}/join/+/req`,
  `${ROOT}/api/+/req`,
  `${ROOT}/apply`,
] as const;

/** A parsed Skiff topic. */
export type ParsedTopic =
  | { type: 'nodeStatus' | 'nodeLease' | 'nodeDesired' | 'nodeResync' | 'nodePods' | 'nodeMetrics' | 'nodeCsr' | 'nodeCert'; node: string }
  | { type: 'nodeRpcReq' | 'nodeRpcRes'; node: string; id: string }
  | { type: 'joinReq' | 'joinRes'; session: string }
  | { type: 'service'; namespace: string; name: string }
  | { type: 'apiReq' | 'apiRes'; clientId: string }
  | { type: 'apply' }
  | { type: 'leaseConfig' }
  | { type: 'events' }
  | { type: 'namespaceEvents'; namespace: string }
  | { type: 'metric'; name: string };

/** The last level of a node topic → its type (a Map: a topic level is the client's string, never a property name). */
const nodeLeaves = new Map<string, 'nodeStatus' | 'nodeLease' | 'nodeDesired' | 'nodeResync' | 'nodePods' | 'nodeMetrics' | 'nodeCsr' | 'nodeCert'>([
  ['csr', 'nodeCsr'],
  ['cert', 'nodeCert'],
  ['status', 'nodeStatus'],
  ['lease', 'nodeLease'],
  ['desired', 'nodeDesired'],
  ['resync', 'nodeResync'],
  ['pods', 'nodePods'],
  ['metrics', 'nodeMetrics'],
]);

/** Parses a topic of the tree; undefined for anything else. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (!topic.startsWith(ROOT + '/')) return undefined;
  const p = topic.slice(ROOT.length + 1).split('/');
  if (p.some((s) => s.length === 0)) return undefined;
  switch (p[0]) {
    case 'nodes':
      if (p.length === 3 && nodeLeaves.has(p[2])) return { type: nodeLeaves.get(p[2])!, node: p[1] };
      if (p.length === 5 && p[2] === 'rpc' && (p[4] === 'req' || p[4] === 'res'))
        return { type: p[4] === 'req' ? 'nodeRpcReq' : 'nodeRpcRes', node: p[1], id: p[3] };
      return undefined;
    case 'join':
      if (p.length === 3 && (p[2] === 'req' || p[2] === 'res')) return { type: p[2] === 'req' ? 'joinReq' : 'joinRes', session: p[1] };
      return undefined;
    case 'services':
      return p.length === 3 ? { type: 'service', namespace: p[1], name: p[2] } : undefined;
    case 'api':
      if (p.length === 3 && (p[2] === 'req' || p[2] === 'res')) return { type: p[2] === 'req' ? 'apiReq' : 'apiRes', clientId: p[1] };
      return undefined;
    case 'apply':
      return p.length === 1 ? { type: 'apply' } : undefined;
    case 'cluster':
      return p.length === 2 && p[1] === 'lease' ? { type: 'leaseConfig' } : undefined;
    case 'events':
      if (p.length === 2) return { type: 'namespaceEvents', namespace: p[1] };
      return p.length === 1 ? { type: 'events' } : undefined;
    case 'metrics':
      return p.length >= 2 ? { type: 'metric', name: p.slice(1).join('/') } : undefined;
    default:
      return undefined;
  }
}

/** True when `s` can be one level of a topic: no wildcards, no separators, not empty. */
export function isTopicLevel(s: string): boolean {
  return s.length > 0 && s.length <= 253 && !/[+#/\u0000]/.test(s);
}

/**
 * The MQTT client ids the broker accepts (docs/protocol.md "Client ids"): 1–128 ASCII letters, digits, "_", "-",
 * "." and ":". A client id names the API answer topic (`api/{clientId}/res`), so it must be one plain topic
 * level: no "/", "+", "#", NUL or anything else a broker or a shell could read as structure. An empty id (what
 * mosquitto_pub/_sub send without -i) is not matched here: the broker assigns one when the session is clean.
 */
export const CLIENT_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/** True when `s` is an acceptable MQTT client id (see CLIENT_ID). */
export function isClientId(s: unknown): s is string {
  return typeof s === 'string' && CLIENT_ID.test(s);
}
