/**
 * Claiming a DNS-SD instance name on the LAN before announcing it (RFC 6762 §8 probing, §9 conflict
 * resolution), shared by the master (`Skiff master on pi`) and the agents (`web.shop`): two masters on one
 * host, two clusters announcing the same Service, or any other responder holding the name must not leave
 * one of them silent. bonjour-service's own probe gives up and prints a stack trace on a conflict; this one
 * renames, as Apple's and avahi's responders do: `Skiff master on pi (2)`, `(3)`, ...
 *
 * It works on any multicast-dns instance (bonjour-service's `server.mdns`), typed structurally here so
 * protocol/ imports no library. Not covered: a conflict that appears after the name was announced (two
 * LAN segments joined later); restarting the announcer probes again.
 */

/** One resource record as dns-packet decodes it. */
export interface MdnsRecord {
  name: string;
  type: string;
  ttl?: number;
  data?: unknown;
}

/** One packet as dns-packet decodes it. */
export interface MdnsPacket {
  questions?: { name: string; type: string }[];
  answers?: MdnsRecord[];
  authorities?: MdnsRecord[];
  additionals?: MdnsRecord[];
}

/** The multicast-dns calls a probe uses. */
export interface MdnsSocket {
  query(packet: { questions: { name: string; type: string }[]; authorities: MdnsRecord[] }, cb?: (err?: Error | null) => void): void;
  on(event: 'response' | 'query', fn: (packet: MdnsPacket) => void): unknown;
  removeListener(event: 'response' | 'query', fn: (packet: MdnsPacket) => void): unknown;
}

/** What to claim: the instance `name` of `type` (`_skiff-master._tcp`), pointing at `srv`. */
export interface ProbeTarget {
  /** The instance label as it goes on the wire (the caller has mapped what its library would change). */
  name: string;
  /** Service type with protocol, without the domain: `_skiff-master._tcp`. */
  type: string;
  srv: { port: number; target: string };
}

/** RFC 6762 timings; tests shorten them. */
export interface ProbeTiming {
  /** Between probe queries (§8.1: 250 ms), and the first one's random delay up to it. */
  intervalMs: number;
  /** After losing a simultaneous-probe tie-break, before probing again (§8.2: one second). */
  deferMs: number;
  /** Names tried before giving up (§9 bounds the rate; a LAN with 100 twins is a misconfiguration). */
  maxNames: number;
}

/** The RFC's timings. */
export const probeTiming: ProbeTiming = { intervalMs: 250, deferMs: 1000, maxNames: 100 };

/** A DNS label's limit in bytes (RFC 1035 §2.3.4). */
const MAX_LABEL = 63;

/** The `n`th name for `base` (n ≥ 2): `base (n)`, the base shortened so the label stays within 63 bytes. */
export function nthInstanceName(base: string, n: number): string {
  const suffix = ` (${n})`;
  let b = base;
  while (Buffer.byteLength(b + suffix) > MAX_LABEL) b = b.slice(0, -1);
  return b.trimEnd() + suffix;
}

/** The full name of an instance: `<name>.<type>.local`. */
export function instanceFqdn(name: string, type: string): string {
  return `${name}.${type}.local`;
}

const sameName = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** SRV rdata as bytes (priority, weight, port, then the target's labels), for §8.2's lexicographic compare. */
function srvBytes(srv: { port?: number; target?: string; priority?: number; weight?: number }): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt16BE(srv.priority ?? 0, 0);
  head.writeUInt16BE(srv.weight ?? 0, 2);
  head.writeUInt16BE(srv.port ?? 0, 4);
  const labels = String(srv.target ?? '').toLowerCase().split('.').filter(Boolean).map((l) => {
    const b = Buffer.from(l);
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([head, ...labels, Buffer.from([0])]);
}

/**
 * §8.2 simultaneous probe tie-break: compares another prober's proposed SRV with ours; > 0 when theirs is
 * lexicographically later (they win and we defer), 0 when identical (no conflict: it is us, or our twin).
 */
export function compareProposals(theirs: { port?: number; target?: string }, ours: { port: number; target: string }): number {
  return Buffer.compare(srvBytes(theirs), srvBytes(ours));
}

/**
 * True when a response claims `fqdn` for someone else: it carries a record of that name, and no SRV of that
 * name identical to ours (identical records are one responder's echo or a twin, never a conflict: §9).
 */
export function claimsName(p: MdnsPacket, fqdn: string, ours: ProbeTarget['srv']): boolean {
  const records = [...(p.answers ?? []), ...(p.additionals ?? []), ...(p.authorities ?? [])].filter((r) => typeof r?.name === 'string' && sameName(r.name, fqdn));
  if (!records.length) return false;
  return !records.some((r) => r.type === 'SRV' && compareProposals((r.data ?? {}) as { port?: number; target?: string }, ours) === 0);
}

/** The multicast-dns instance under a bonjour-service `Bonjour` (its `server.mdns`, untyped there). */
export function socketOf(bonjour: unknown): MdnsSocket {
  return (bonjour as { server: { mdns: MdnsSocket } }).server.mdns;
}

/** One round of three probes for one name: 'won', 'conflict' (someone has it), or 'defer' (lost a tie-break). */
function probeOnce(mdns: MdnsSocket, t: ProbeTarget, timing: ProbeTiming, signal?: AbortSignal): Promise<'won' | 'conflict' | 'defer'> {
  const fqdn = instanceFqdn(t.name, t.type);
  const proposal: MdnsRecord = { name: fqdn, type: 'SRV', ttl: 120, data: { port: t.srv.port, target: t.srv.target, priority: 0, weight: 0 } };
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: 'won' | 'conflict' | 'defer') => {
      clearTimeout(timer);
      mdns.removeListener('response', onResponse);
      mdns.removeListener('query', onQuery);
      signal?.removeEventListener('abort', aborted);
      resolve(r);
    };
    const aborted = () => finish('won');
    signal?.addEventListener('abort', aborted);
    const onResponse = (p: MdnsPacket) => {
      if (claimsName(p, fqdn, t.srv)) finish('conflict');
    };
    const onQuery = (p: MdnsPacket) => {
      if (!(p.questions ?? []).some((q) => sameName(q.name, fqdn))) return;
      const theirs = (p.authorities ?? []).find((r) => r.type === 'SRV' && sameName(r.name, fqdn));
      if (theirs && compareProposals((theirs.data ?? {}) as { port?: number; target?: string }, t.srv) > 0) finish('defer');
    };
    mdns.on('response', onResponse);
    mdns.on('query', onQuery);
    let sent = 0;
    const send = () => {
      if (sent === 3) return finish('won');
      sent++;
      mdns.query({ questions: [{ name: fqdn, type: 'ANY' }], authorities: [proposal] }, () => undefined);
      timer = setTimeout(send, timing.intervalMs);
    };
    timer = setTimeout(send, Math.random() * timing.intervalMs);
  });
}

/**
 * Probes for `t.name`, renaming on every conflict (`name (2)`, `(3)`, ...) and probing again after a lost
 * tie-break; resolves with the name that is ours to announce. Throws after `maxNames` names. An abort
 * (the announcer stopped meanwhile) resolves at once; the caller then announces nothing.
 */
export async function claimInstanceName(mdns: MdnsSocket, t: ProbeTarget, timing: ProbeTiming = probeTiming, signal?: AbortSignal): Promise<string> {
  let n = 1;
  let name = t.name;
  while (n <= timing.maxNames) {
    const r = await probeOnce(mdns, { ...t, name }, timing, signal);
    if (r === 'won' || signal?.aborted) return name;
    if (r === 'defer') await new Promise((resolve) => setTimeout(resolve, timing.deferMs));
    else name = nthInstanceName(t.name, ++n);
  }
  throw new Error(`mDNS: every name from "${t.name}" to "${name}" is taken on this network`);
}
