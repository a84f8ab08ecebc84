/**
 * Service addresses as each side sees them (docs/networking.md). The master gives every Service a clusterIP in
 * 127.77.0.0/16: loopback, so every process on a node reaches it without any interface. A container in its own
 * network namespace has a loopback of its own and cannot; for it the agent mirrors the same host part into a
 * routable range on a dummy interface (`skiff0`, default 10.43.0.0/16 — K3s's service range): 127.77.a.b is
 * 10.43.a.b inside every pod network. Host `.0.10` of that range is the cluster DNS server, so the master never
 * gives 127.77.0.10 to a Service.
 */

/** The host part (low 16 bits) of the cluster DNS address, reserved in the service range (kube-dns's usual .10). */
export const clusterDnsHost = 10;

/** The cluster domain (kubelet's --cluster-domain default). */
export const clusterDomain = 'cluster.local';

/** An IPv4 address as a 32-bit unsigned number; undefined when it is not one. */
export function ipv4ToNumber(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) return undefined;
  return m.slice(1).reduce((n, x) => n * 256 + Number(x), 0);
}

/** A 32-bit number as a dotted IPv4 address. */
export function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * The pod-network mirror of a clusterIP: the same low 16 bits in the /16 that starts at `podRange`
 * (`10.43.0.0`). Undefined for a headless service or anything that is not an IPv4 address.
 */
export function mirrorServiceIP(clusterIP: string | undefined, podRange: string): string | undefined {
  const ip = clusterIP === undefined ? undefined : ipv4ToNumber(clusterIP);
  const base = ipv4ToNumber(podRange);
  if (ip === undefined || base === undefined) return undefined;
  return numberToIpv4(((base & 0xffff0000) | (ip & 0xffff)) >>> 0);
}

/** The cluster DNS server's address in the pod-network range (`10.43.0.10`). */
export function clusterDnsIP(podRange: string): string {
  const base = ipv4ToNumber(podRange) ?? 0;
  return numberToIpv4(((base & 0xffff0000) | clusterDnsHost) >>> 0);
}
