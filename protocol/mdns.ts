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
