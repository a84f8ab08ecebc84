/**
 * Publishing one DNS-SD instance with bonjour-service (pure JS, Node 18, no native addon; see
 * docs/services.md "Discovery" for the library choice). Each instance gets its own responder: bonjour-service
 * unregisters records by name, so stopping one of two instances of the same type on a shared responder
 * would also silence the other's PTR record. Stopping sends the RFC 6762 §10.1 goodbye (TTL 0), so
 * browsers drop the instance at once instead of after the 120 s record lifetime.
 */
import { Bonjour, type Service } from 'bonjour-service';
import type { Logger } from '../log.js';
import { LABEL_DOT, installLabelDots } from './dns-names.js';
import type { Announcement } from './records.js';

/** Where this host's announcements point. */
export interface HostRecord {
  /** `skiff-<node>.local`: unique per node, since several boards (or namespaces) may share a hostname. */
  host: string;
  /** The IPv4 address whose interface carries the multicast (the node's InternalIP); undefined = the default route's. */
  interfaceAddress?: string;
}

/** One published instance. */
export interface Published {
  readonly announcement: Announcement;
  /** Sends the goodbye and closes the responder. */
  stop(): Promise<void>;
}

/** Publishes `a` on the LAN under `host`. Socket errors are logged, never thrown. */
export function publish(a: Announcement, host: HostRecord, log: Logger): Published {
  installLabelDots();
  const bonjour = new Bonjour(mdnsSocket(host.interfaceAddress), (err: Error) => log.warn(`mdns ${a.name}._${a.type}._tcp: ${err.message}`));
  // probe: false — the one-announcer rule makes this node the instance's owner; bonjour-service's probe would
  // stop the instance for good if the previous announcer's goodbye were still on its way.
  const service: Service = bonjour.publish({ name: a.name.replaceAll('.', LABEL_DOT), type: a.type, protocol: 'tcp', port: a.port, host: host.host, txt: a.txt, disableIPv6: true, probe: false });
  let stopping: Promise<void> | undefined;
  return {
    announcement: a,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        const done = () => bonjour.destroy(() => resolve());
        // The goodbye goes out on the socket; destroy closes it only once the send completed.
        service.stop(done);
      });
      return stopping;
    },
  };
}

/**
 * Options for the multicast-dns socket under a Bonjour instance: `interface` picks the interface that joins
 * 224.0.0.251 and sends (the node's InternalIP), so a board with several links speaks mDNS on the cluster's.
 * `bind` stays 0.0.0.0: multicast-dns would otherwise bind to that unicast address, and Linux delivers no
 * multicast to such a socket. (Bonjour passes these through; its type names only ServiceConfig fields.)
 */
export function mdnsSocket(interfaceAddress: string | undefined): object {
  return interfaceAddress && /^\d+\.\d+\.\d+\.\d+$/.test(interfaceAddress) && !interfaceAddress.startsWith('127.') && interfaceAddress !== '0.0.0.0'
    ? { interface: interfaceAddress, bind: '0.0.0.0' }
    : {};
}
