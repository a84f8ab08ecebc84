/**
 * `skiff-agent join` without `--master`: browse the LAN for `_skiff-master._tcp` (the master announces its
 * MQTT listener there) and return `mqtt://ADDRESS:PORT` of the first master that answers. The query is
 * repeated every second (RFC 6762 §5.2 continuous querying, simplified) so a master that starts after the
 * agent is found too; after `timeoutMs` the promise rejects with a message that says what to do instead.
 */
import net from 'node:net';
import { Bonjour, type Service } from 'bonjour-service';
import { SkiffError } from '../../protocol/errors.js';
import { mdnsTypes } from '../../protocol/mdns.js';
import { mdnsSocket } from './publisher.js';

/** How to look for the master. */
export interface FindMasterOptions {
  /** Give up after this long; default 10000 (10 s). */
  timeoutMs?: number;
  /** The IPv4 address whose interface to browse on (the node's InternalIP); default the system's choice. */
  interfaceAddress?: string;
  /** Re-send the query this often while nothing answered; default 1000 (1 s). */
  requeryMs?: number;
}

/** The MQTT URL a `_skiff-master._tcp` answer points at, or undefined when it carries no usable IPv4 address. */
export function masterUrlOf(s: Pick<Service, 'addresses' | 'port' | 'referer' | 'txt'>): string | undefined {
  const addr = (s.addresses ?? []).find((a) => net.isIPv4(a)) ?? (s.referer && net.isIPv4(s.referer.address) ? s.referer.address : undefined);
  if (!addr || !Number.isInteger(s.port) || s.port <= 0) return undefined;
  const scheme = (s.txt as Record<string, unknown> | undefined)?.tls === 'true' ? 'mqtts' : 'mqtt';
  return `${scheme}://${addr}:${s.port}`;
}

/** A master found on the LAN. */
export interface FoundMaster {
  /** `mqtt://ADDRESS:PORT` */
  url: string;
  /** The DNS-SD instance name it announced (`Skiff master on HOST`). */
  instance: string;
}

/**
 * Finds a master on the LAN; rejects with SKIFF_ERR_TIMEOUT naming `--master` when none answers in time. The
 * first answer wins: nothing on the LAN is trusted for it — the join exchange makes the master prove it knows
 * the join token before the agent sends anything secret (edge-agent/join.ts).
 */
export function findMaster(o: FindMasterOptions = {}): Promise<FoundMaster> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  return new Promise<FoundMaster>((resolve, reject) => {
    let settled = false;
    const bonjour = new Bonjour(mdnsSocket(o.interfaceAddress), (err: Error) => finish(undefined, err));
    const browser = bonjour.find({ type: mdnsTypes.master, protocol: 'tcp' });
    const requery = setInterval(() => browser.update(), o.requeryMs ?? 1000);
    const timer = setTimeout(() => finish(), timeoutMs);
    function finish(found?: FoundMaster, err?: Error): void {
      if (settled) return;
      settled = true;
      clearInterval(requery);
      clearTimeout(timer);
      browser.stop();
      bonjour.destroy();
      if (found) return resolve(found);
      const where = o.interfaceAddress ? ` on the interface of ${o.interfaceAddress}` : '';
      const why = err ? `mDNS failed: ${err.message}` : `no Skiff master answered on the LAN within ${Math.round(timeoutMs / 100) / 10} s (browsed _${mdnsTypes.master}._tcp by mDNS${where})`;
      reject(new SkiffError('SKIFF_ERR_TIMEOUT', `${why}; is the master running without --no-mdns, on this network? Or pass --master mqtts://HOST:8883`));
    }
    browser.on('up', (s: Service) => {
      const url = masterUrlOf(s);
      if (url) finish({ url, instance: String(s.name ?? '').slice(0, 255) });
    });
  });
}
