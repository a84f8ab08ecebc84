/**
 * The master announces its MQTT listener on the LAN as `_skiff-master._tcp` (a type of its own, so an agent
 * looking for a master asks only for masters, and a `_skiff._tcp` browse lists only Services), TXT
 * `role=master`, `version`, `mqtt=PORT`. `skiff-agent join` without `--master` browses for it. Stopping
 * sends the goodbye (TTL 0) so agents and browsers forget a stopped master at once.
 */
import { hostname } from 'node:os';
import { Bonjour } from 'bonjour-service';
import { mdnsTypes } from '../../protocol/mdns.js';

/** What the master announces. */
export interface MasterAnnouncement {
  /** The MQTT port agents connect to. */
  mqttPort: number;
  /** The address the broker is bound to; a specific IPv4 also picks the interface the multicast uses. */
  bind: string;
  version: string;
  /** Instance name; default `Skiff master on <hostname>`. */
  name?: string;
  /** `.local` host name of the SRV record; default `skiff-master-<hostname>.local` (unique even where namespaces share a hostname, given `name`). */
  host?: string;
}

/** A running announcement. */
export interface MasterAnnouncer {
  /** Sends the goodbye and closes the socket. */
  stop(): Promise<void>;
}

/** True when a master bound to `bind` can be reached from the LAN at all (loopback-only masters announce nothing). */
export function announceable(bind: string): boolean {
  return !/^127\./.test(bind) && bind !== '::1' && bind !== 'localhost';
}

/** Starts announcing; undefined when the master is bound to loopback only. mDNS errors are logged, never thrown. */
export function announceMaster(a: MasterAnnouncement, warn: (msg: string) => void): MasterAnnouncer | undefined {
  if (!announceable(a.bind)) return undefined;
  const dnsSafe = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'skiff';
  const name = a.name ?? `Skiff master on ${hostname()}`;
  const host = a.host ?? `skiff-master-${dnsSafe(a.name ?? hostname())}.local`;
  const specific = /^\d+\.\d+\.\d+\.\d+$/.test(a.bind) && a.bind !== '0.0.0.0';
  // The socket stays bound to 0.0.0.0 (Linux delivers no multicast to a socket bound to a unicast address).
  const socket = specific ? { interface: a.bind, bind: '0.0.0.0' } : {};
  const bonjour = new Bonjour(socket as object, (err: Error) => warn(`mdns: ${err.message}`));
  const service = bonjour.publish({
    name,
    type: mdnsTypes.master,
    protocol: 'tcp',
    port: a.mqttPort,
    host,
    txt: { role: 'master', version: a.version, mqtt: String(a.mqttPort) },
    disableIPv6: true,
  });
  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= new Promise<void>((resolve) => service.stop(() => bonjour.destroy(() => resolve())));
      return stopping;
    },
  };
}
