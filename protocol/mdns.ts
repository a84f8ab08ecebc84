/**
 * The DNS-SD names Skiff uses on the LAN (RFC 6763), shared by the master (which announces itself) and
 * the agents (which announce services and browse for the master). See docs/services.md, "Discovery".
 */

/** DNS-SD service types, without the leading underscore and protocol (`skiff` = `_skiff._tcp`). */
export const mdnsTypes = {
  /** Every announced Service, one instance each: TXT namespace, name, port. */
  service: 'skiff',
  /** A Service's port named `http`, so browsers and phones list it as a web page. */
  http: 'http',
  /** The master's MQTT listener, for `skiff-agent join` without `--master`. */
  master: 'skiff-master',
} as const;

/** A Service annotation: `"false"` keeps a NodePort/LoadBalancer service off the LAN. */
export const mdnsAnnotation = 'skiff.io/mdns';

/** The `.local` host name a node's announcements point at; `skiff-` keeps it clear of the board's own avahi name. */
export function nodeHostName(node: string): string {
  return `skiff-${node.replace(/\./g, '-')}.local`;
}

/**
 * The DNS-SD instance name of a Service: `<name>.<namespace>`, one DNS label with a dot in it (RFC 6763
 * §4.3; avahi shows it as `web\.shop`).
 */
export function serviceInstanceName(namespace: string, name: string): string {
  return `${name}.${namespace}`;
}

/** True when a Service of this type is announced on the LAN: NodePort or LoadBalancer (a clusterIP is a loopback address on each node), not opted out. */
export function announcedOnLan(type: string | undefined, annotations: Record<string, string> | undefined): boolean {
  if (type !== 'NodePort' && type !== 'LoadBalancer') return false;
  return annotations?.[mdnsAnnotation] !== 'false';
}

/**
 * The names a Service is found by on the LAN while one of its endpoints is ready (docs/services.md,
 * "Discovery"): `<name>.<namespace>._skiff._tcp.local`, and `..._http._tcp.local` for a TCP port named
 * `http`. None for a Service that is not announced or has no TCP NodePort.
 */
export function lanNames(svc: { namespace: string; name: string; type?: string; annotations?: Record<string, string>; ports: { name?: string; protocol?: string; nodePort?: number }[] }): string[] {
  if (!announcedOnLan(svc.type, svc.annotations)) return [];
  const tcp = svc.ports.filter((p) => (p.protocol ?? 'TCP') === 'TCP' && Number.isInteger(p.nodePort) && p.nodePort! > 0);
  if (tcp.length === 0) return [];
  const instance = serviceInstanceName(svc.namespace, svc.name);
  return [`${instance}._${mdnsTypes.service}._tcp.local`, ...(tcp.some((p) => p.name === 'http') ? [`${instance}._${mdnsTypes.http}._tcp.local`] : [])];
}
