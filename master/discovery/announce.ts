/**
 * The master announces its MQTT listener on the LAN as `_skiff-master._tcp` (a type of its own, so an agent
 * looking for a master asks only for masters, and a `_skiff._tcp` browse lists only Services), TXT
 * `role=master`, `version`, `mqtt=PORT`, and `tls=true` when that port is MQTT over TLS (the default). `skiff-agent join` without `--master` browses for it. The name is
 * probed first and renamed on a conflict (`Skiff master on pi (2)`: a second master on the host, RFC 6762 §9,
 * protocol/mdns-probe.ts). Stopping sends the goodbye (TTL 0) so agents and browsers forget a stopped master
 * at once.
 */
import { hostname } from 'node:os';
import { Bonjour, type Service } from 'bonjour-service';
import { mdnsTypes } from '../../protocol/mdns.js';
import { claimInstanceName, socketOf, type ProbeTiming } from '../../protocol/mdns-probe.js';

/** What the master announces. */
export interface MasterAnnouncement {
  /** The MQTT port agents connect to. */
  mqttPort: number;
  /** That port speaks TLS (TXT `tls=true`: agents dial mqtts://). */
  tls: boolean;
  /** The address the broker is bound to; a specific IPv4 also picks the interface the multicast uses. */
  bind: string;
  version: string;
  /** Instance name; default `Skiff master on <hostname>`. */
  name?: string;
  /** `.local` host name of the SRV record; default `skiff-master-<hostname>.local` (unique even where namespaces share a hostname, given `name`). */
  host?: string;
  /** Probe timings (tests shorten them); default RFC 6762's. */
  timing?: ProbeTiming;
}

/** A running announcement. */
export interface MasterAnnouncer {
  /** Resolves with the name announced once probing is done (undefined if stopped first or nothing could be claimed). */
  readonly announced: Promise<string | undefined>;
  /** Sends the goodbye and closes the socket. */
  stop(): Promise<void>;
}

/** True when a master bound to `bind` can be reached from the LAN at all (loopback-only masters announce nothing). */
export function announceable(bind: string): boolean {
  return !/^127\./.test(bind) && bind !== '::1' && bind !== 'localhost';
}

/**
 * Starts announcing: probes the name (renaming it on a conflict), then publishes. Undefined when the master
 * is bound to loopback only. mDNS errors and renames are reported through `warn`, never thrown.
 */
export function announceMaster(a: MasterAnnouncement, warn: (msg: string) => void): MasterAnnouncer | undefined {
  if (!announceable(a.bind)) return undefined;
  const dnsSafe = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'skiff';
  // bonjour-service turns dots in an instance name into dashes: probe the name it will put on the wire.
  const base = (a.name ?? `Skiff master on ${hostname()}`).replace(/\./g, '-');
  const host = a.host ?? `skiff-master-${dnsSafe(a.name ?? hostname())}.local`;
  const specific = /^\d+\.\d+\.\d+\.\d+$/.test(a.bind) && a.bind !== '0.0.0.0';
  // The socket stays bound to 0.0.0.0 (Linux delivers no multicast to a socket bound to a unicast address).
  const socket = specific ? { interface: a.bind, bind: '0.0.0.0' } : {};
  const bonjour = new Bonjour(socket as object, (err: Error) => warn(`mdns: ${err.message}`));
  const abort = new AbortController();
  let service: Service | undefined;
  const announced = claimInstanceName(socketOf(bonjour), { name: base, type: `_${mdnsTypes.master}._tcp`, srv: { port: a.mqttPort, target: host } }, a.timing, abort.signal).then(
    (name) => {
      if (abort.signal.aborted) return undefined;
      if (name !== base) warn(`mdns: "${base}" is taken on this network; announcing this master as "${name}"`);
      // probe: false — claimed above; bonjour-service's own probe would stop for good on a conflict.
      service = bonjour.publish({ name, type: mdnsTypes.master, protocol: 'tcp', port: a.mqttPort, host, txt: { role: 'master', version: a.version, mqtt: String(a.mqttPort), ...(a.tls ? { tls: 'true' } : {}) }, disableIPv6: true, probe: false });
      return name;
    },
    (err: Error) => {
      warn(`mdns: ${err.message}; this master is not announced`);
      return undefined;
    },
  );
  let stopping: Promise<void> | undefined;
  return {
    announced,
    stop() {
      abort.abort();
      stopping ??= announced.then(() => new Promise<void>((resolve) => (service ? service.stop(() => bonjour.destroy(() => resolve())) : bonjour.destroy(() => resolve()))));
      return stopping;
    },
  };
}
