/**
 * The cluster DNS server of one node (CoreDNS's role, for this node's pods): UDP and TCP on the cluster DNS
 * address (`10.43.0.10:53`, on skiff0), which every container pod gets as its only resolver with the search path
 * `<ns>.svc.cluster.local svc.cluster.local cluster.local` and ndots 5. Cluster names are answered from
 * ClusterNames; every other name is forwarded to the node's own resolvers (/etc/resolv.conf) and the answer
 * passed back, as CoreDNS's `forward . /etc/resolv.conf`. Bounded: at most MAX_INFLIGHT forwards at a time
 * (more are answered SERVFAIL), each given FORWARD_TIMEOUT_MS.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import * as dns from 'dns-packet';
import type { Logger } from '../log.js';
import { CLUSTER_TTL_S, type ClusterNames } from './cluster-dns.js';

const MAX_INFLIGHT = 256;
const FORWARD_TIMEOUT_MS = 2000;
const RCODE = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3 } as const;

/** The nameservers of a resolv.conf (IPv4 and IPv6), in order. */
export function upstreamsOf(resolvConf: string): string[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((a): a is string => !!a && net.isIP(a) !== 0);
}

/** An answer packet for `q` with rcode and A records. */
function reply(q: dns.DecodedPacket, rcode: number, addresses: string[], authoritative: boolean): Buffer {
  const question = q.questions?.[0];
  const flags = (q.flags ?? 0) & dns.RECURSION_DESIRED;
  return dns.encode({
    id: q.id,
    type: 'response',
    flags: flags | dns.RECURSION_AVAILABLE | (authoritative ? dns.AUTHORITATIVE_ANSWER : 0) | rcode,
    questions: q.questions ?? [],
    answers: question ? addresses.map((data) => ({ type: 'A' as const, class: 'IN' as const, name: question.name, ttl: CLUSTER_TTL_S, data })) : [],
  });
}

/** The cluster DNS server. */
export class ClusterDnsServer {
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private inflight = 0;
  private readonly upstreams: { address: string; port: number }[];

  constructor(
    private readonly names: ClusterNames,
    private readonly log: Logger,
    /** The node's resolvers: /etc/resolv.conf's nameservers (port 53) unless given. */
    upstreams?: { address: string; port: number }[],
  ) {
    let text = '';
    try {
      if (!upstreams) text = fs.readFileSync('/etc/resolv.conf', 'utf8');
    } catch {
      // no resolv.conf: cluster names only
    }
    this.upstreams = upstreams ?? upstreamsOf(text).map((address) => ({ address, port: 53 }));
  }

  /** The UDP port it listens on (what `listen` bound, e.g. for port 0). */
  get port(): number | undefined {
    return this.udp?.address().port;
  }

  /** Listens on `address:port` (UDP and TCP); rejects when either cannot bind. */
  async listen(address: string, port = 53): Promise<void> {
    const udp = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
    udp.on('message', (m, r) => void this.handle(m).then((out) => out && udp.send(out, r.port, r.address)));
    udp.on('error', (err) => this.log.warn(`dns ${address}:${port}/UDP: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => resolve());
    });
    this.udp = udp;
    const tcp = net.createServer((s) => this.serveTcp(s));
    tcp.maxConnections = 256; // each lives at most 10 s idle: a pod cannot hold the server open
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(this.port ?? port, address, () => resolve()); // the same port as UDP, also when it was 0
    });
    this.tcp = tcp;
  }

  /** Stops both listeners. */
  async close(): Promise<void> {
    this.udp?.close();
    await new Promise<void>((r) => (this.tcp ? this.tcp.close(() => r()) : r()));
  }

  /** One query in, one answer out (undefined: not a query worth answering). */
  async handle(msg: Buffer): Promise<Buffer | undefined> {
    let q: dns.DecodedPacket;
    try {
      q = dns.decode(msg);
    } catch {
      return undefined;
    }
    if (q.type !== 'query' || !q.questions?.length) return undefined;
    const question = q.questions[0];
    const a = this.names.answer(question.name, question.type);
    if (a.kind === 'nxdomain') return reply(q, RCODE.NXDOMAIN, [], true);
    if (a.kind === 'records') return reply(q, RCODE.NOERROR, a.addresses, true);
    return (await this.forward(msg)) ?? reply(q, RCODE.SERVFAIL, [], false);
  }

  /** Asks the node's resolvers in turn; undefined when none answers in time (or too many are in flight). */
  private async forward(msg: Buffer): Promise<Buffer | undefined> {
    if (this.inflight >= MAX_INFLIGHT) return undefined;
    this.inflight++;
    try {
      for (const server of this.upstreams) {
        const out = await askUdp(server.address, server.port, msg).catch(() => undefined);
        if (out) return out;
      }
      return undefined;
    } finally {
      this.inflight--;
    }
  }

  /** DNS over TCP: two-byte length, then the message (RFC 1035 §4.2.2). */
  private serveTcp(s: net.Socket): void {
    let buf = Buffer.alloc(0);
    s.setTimeout(10_000, () => s.destroy());
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > 65537) return s.destroy();
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const m = buf.subarray(2, 2 + buf.readUInt16BE(0));
        buf = buf.subarray(2 + m.length);
        void this.handle(Buffer.from(m)).then((out) => {
          if (!out || s.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          s.write(Buffer.concat([len, out]));
        });
      }
    });
  }
}

/** One UDP exchange with an upstream resolver. */
function askUdp(server: string, port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(server) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('timeout'));
    }, FORWARD_TIMEOUT_MS);
    sock.on('error', (err) => {
      clearTimeout(timer);
      sock.close();
      reject(err);
    });
    sock.on('message', (m) => {
      // Only the answer to this query (same id) from that server.
      if (m.length < 2 || m.readUInt16BE(0) !== msg.readUInt16BE(0)) return;
      clearTimeout(timer);
      sock.close();
      resolve(m);
    });
    sock.send(msg, port, server);
  });
}
