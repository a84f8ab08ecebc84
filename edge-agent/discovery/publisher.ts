/**
 * Publishing one DNS-SD instance with bonjour-service (pure JS, Node 18, no native addon; see
 * docs/services.md "Discovery" for the library choice). Each instance gets its own responder: bonjour-service
 * unregisters records by name, so stopping one of two instances of the same type on a shared responder
 * would also silence the other's PTR record. The name is probed before it is announced (renamed on a
 * conflict). Stopping sends the RFC 6762 §10.1 goodbye (TTL 0), so browsers drop the instance at once
 * instead of after the 120 s record lifetime.
 */
import { Bonjour, type Service } from 'bonjour-service';
import type { Logger } from '../log.js';
import { claimInstanceName, socketOf, type ProbeTiming } from '../../protocol/mdns-probe.js';
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
  /** Resolves with the instance name on the wire once probed (`web.shop (2)` after a conflict), undefined if stopped first. */
  readonly announced: Promise<string | undefined>;
  /** Sends the goodbye and closes the responder. */
  stop(): Promise<void>;
}

/**
 * Publishes `a` on the LAN under `host`: probes the name first and renames on a conflict (another cluster
 * announcing the same Service; RFC 6762 §9, protocol/mdns-probe.ts). Socket errors are logged, never thrown.
 */
export function publish(a: Announcement, host: HostRecord, log: Logger, timing?: ProbeTiming): Published {
  installLabelDots();
  const bonjour = new Bonjour(mdnsSocket(host.interfaceAddress), (err: Error) => log.warn(`mdns ${a.name}._${a.type}._tcp: ${err.message}`));
  const base = a.name.replaceAll('.', LABEL_DOT);
  const abort = new AbortController();
  let service: Service | undefined;
  const announced = claimInstanceName(socketOf(bonjour), { name: base, type: `_${a.type}._tcp`, srv: { port: a.port, target: host.host } }, timing, abort.signal).then(
    (name) => {
      if (abort.signal.aborted) return undefined;
      const wire = name.replaceAll(LABEL_DOT, '.');
      if (name !== base) log.warn(`_${a.type}._tcp instance "${a.name}" is taken on this network; announcing it as "${wire}"`);
      // probe: false — claimed above; bonjour-service's own probe stops for good on a conflict.
      service = bonjour.publish({ name, type: a.type, protocol: 'tcp', port: a.port, host: host.host, txt: a.txt, disableIPv6: true, probe: false });
      return wire;
    },
    (err: Error) => {
      log.warn(`_${a.type}._tcp instance "${a.name}": ${err.message}; not announced`);
      return undefined;
    },
  );
  let stopping: Promise<void> | undefined;
  return {
    announcement: a,
    announced,
    stop() {
      abort.abort();
      // The goodbye goes out on the socket; destroy closes it only once the send completed.
      stopping ??= announced.then(() => new Promise<void>((resolve) => (service ? service.stop(() => bonjour.destroy(() => resolve())) : bonjour.destroy(() => resolve()))));
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
