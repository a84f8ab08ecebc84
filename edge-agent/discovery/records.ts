/**
 * What one agent announces for one Service: pure functions over the retained `services/{ns}/{name}` message.
 *
 * One announcer per Service, so a phone browsing `_http._tcp` sees one entry per Service, not one per board:
 * the agent whose node name sorts first among the nodes of the Service's ready endpoints. Every agent reads
 * the same retained message, so they agree without talking to each other; that node is alive (its pod was
 * just reported ready), and a Service without ready endpoints is announced by nobody — a phone would only
 * get a refused connection. Every agent's proxy listens on the NodePort, so any node is a correct SRV target.
 */
import { announcedOnLan, mdnsTypes, serviceInstanceName } from '../../protocol/mdns.js';
import type { ServiceMessage } from '../../protocol/messages.js';

/** One DNS-SD service instance to publish. */
export interface Announcement {
  /** DNS-SD type without underscore/protocol: `skiff` or `http`. */
  type: string;
  /** The instance name as it goes on the wire. */
  name: string;
  /** SRV port: the Service's NodePort. */
  port: number;
  txt: Record<string, string>;
}

/**
 * The instance name of a Service: `<name>.<namespace>`, one DNS label with a dot in it (RFC 6763 §4.3;
 * avahi shows it as `web\.shop`). publisher.ts gets the dot onto the wire (see dns-names.ts). TXT
 * carries both parts too, so clients never need to split the instance name.
 */
export function instanceName(namespace: string, name: string): string {
  return serviceInstanceName(namespace, name);
}

/** The node that announces this Service: the first, by name, of the nodes with a ready endpoint; undefined if none. */
export function announcerOf(msg: ServiceMessage): string | undefined {
  const nodes = msg.endpoints.filter((e) => e.ready !== false && typeof e.node === 'string' && e.node).map((e) => e.node);
  return nodes.length ? nodes.sort()[0] : undefined;
}

/** True when the Service is meant for the LAN: NodePort or LoadBalancer (a clusterIP is a loopback address on each node), not opted out. */
export function reachableFromLan(msg: ServiceMessage): boolean {
  return announcedOnLan(msg.type, msg.annotations);
}

/**
 * What `node` announces for `msg`: nothing unless it is the Service's announcer; else one `_skiff._tcp`
 * instance (SRV = the first TCP port's NodePort) and one `_http._tcp` instance for a TCP port named `http`.
 */
export function announcementsOf(msg: ServiceMessage, node: string): Announcement[] {
  if (!reachableFromLan(msg) || announcerOf(msg) !== node) return [];
  const tcp = msg.ports.filter((p) => p.protocol === 'TCP' && Number.isInteger(p.nodePort) && p.nodePort! > 0);
  if (tcp.length === 0) return [];
  const name = instanceName(msg.namespace, msg.name);
  const base = { namespace: msg.namespace, name: msg.name };
  // TXT `ports` lists every TCP port as name=port/nodePort, so one instance describes a multi-port Service.
  const ports = tcp.map((p) => `${p.name ?? ''}=${p.port}/${p.nodePort}`).join(',');
  const first = tcp[0];
  const out: Announcement[] = [{ type: mdnsTypes.service, name, port: first.nodePort!, txt: { ...base, port: String(first.port), ...(tcp.length > 1 ? { ports } : {}) } }];
  const http = tcp.find((p) => p.name === 'http');
  // RFC 6763 §7 / the DNS-SD http registration: TXT `path` is the page to open.
  if (http) out.push({ type: mdnsTypes.http, name, port: http.nodePort!, txt: { ...base, port: String(http.port), path: '/' } });
  return out;
}
