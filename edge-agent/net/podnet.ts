/**
 * Decides, once at agent start, how container pods get a network (docs/networking.md):
 *   bridge  each pod its own network namespace on the engine's bridge network; services at their pod-network
 *           mirror on skiff0 (skiff0.ts), names from the agent's cluster DNS (dns-server.ts). Needs root and
 *           iproute2 (and an engine that runs bridge networks: rootful Docker or Podman).
 *   host    every container in the node's network, as a process pod: clusterIPs on loopback reach the proxy
 *           directly, no cluster DNS (the node's resolver), containerPorts bound on the node itself.
 * `auto` (the default) is bridge when the agent runs as root and skiff0 can be made, else host, with the reason
 * logged and reported in the node's PodNetwork condition.
 */
import { clusterDnsIP } from '../../protocol/service-ips.js';
import type { Logger } from '../log.js';
import type { PodNetwork } from '../pods/oci.js';
import { ClusterNames } from './cluster-dns.js';
import { ClusterDnsServer } from './dns-server.js';
import { ensureServiceInterface, SERVICE_IFACE } from './skiff0.js';

/** The default pod-network service range (K3s's service CIDR). */
export const DEFAULT_POD_SERVICE_RANGE = '10.43.0.0';

/** What the agent ends up with. */
export interface PodNetworkSetup {
  network: PodNetwork;
  /** The cluster names the DNS server answers from (bridge only): fed with the service messages. */
  names?: ClusterNames;
  dns?: ClusterDnsServer;
  /** Why it is host when bridge was possible in principle (for the node condition). */
  reason?: string;
}

/** Sets up the pod network of `mode`; `bridge` that cannot be set up rejects, `auto` falls back to host. */
export async function setupPodNetwork(o: { mode: 'auto' | 'bridge' | 'host'; range?: string; log: Logger; isRoot?: boolean }): Promise<PodNetworkSetup> {
  if (o.mode === 'host') return { network: { mode: 'host' }, reason: 'the agent was started with the host pod network' };
  const range = o.range ?? DEFAULT_POD_SERVICE_RANGE;
  const isRoot = o.isRoot ?? process.getuid?.() === 0;
  const fallback = (reason: string): PodNetworkSetup => {
    if (o.mode === 'bridge') throw new Error(`pod network bridge: ${reason}`);
    o.log.warn(`container pods use the host network: ${reason} (docs/networking.md)`);
    return { network: { mode: 'host' }, reason };
  };
  if (!isRoot) return fallback('the agent does not run as root, so it cannot make the service interface skiff0');
  const dnsIP = clusterDnsIP(range);
  try {
    const made = await ensureServiceInterface(range, dnsIP);
    if (made.kind !== 'existing') o.log.info(`made ${SERVICE_IFACE} (${made.kind}) with ${dnsIP} and the local route ${range}/16 for pod-network services`);
  } catch (err) {
    return fallback(`cannot make ${SERVICE_IFACE}: ${(err as Error).message}`);
  }
  const names = new ClusterNames(range);
  const dns = new ClusterDnsServer(names, o.log);
  try {
    await dns.listen(dnsIP, 53);
  } catch (err) {
    await dns.close().catch(() => undefined);
    return fallback(`the cluster DNS cannot listen on ${dnsIP}:53: ${(err as Error).message}`);
  }
  return { network: { mode: 'bridge', dns: { server: dnsIP }, serviceRange: range }, names, dns };
}
