/**
 * The master's TLS: the cluster CA, and the server certificate its MQTT-over-TLS listener and HTTPS present.
 * The server certificate names this host (hostname, hostname.local, localhost, 127.0.0.1, ::1), the addresses
 * the master listens on (every interface address when bound to all) and `--tls-san` extras. It is issued at
 * start when missing, not signed by the CA, short of a name it needs or past 2/3 of its life, and checked again
 * every 10 minutes (DHCP gives a board a new address; a master runs for months): a new one is handed to the
 * listeners without a restart (`setSecureContext`).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import type { Logger } from '../../protocol/index.js';
import { loadOrCreateCa, tlsPaths, writeAtomic, type ClusterCa } from './ca.js';
import { issueServerCert, sansOf, signNodeCsr, type Sans } from './certs.js';

/** How often the server certificate is checked while the master runs. */
const CHECK_EVERY_MS = 10 * 60_000;
/** The server certificate's life: one year, as kubeadm's serving certificates. */
const SERVER_CERT_LIFETIME_MS = 365 * 86_400_000;

/** What the master's TLS needs from its config. */
export interface TlsSettings {
  dataDir: string;
  /** The address the TLS listeners are bound to (0.0.0.0 or :: = every interface). */
  bind: string;
  /** `--tls-san`: more names or addresses for the server certificate. */
  extraSans: readonly string[];
  /** Lifetime of node certificates. */
  nodeCertLifetimeMs: number;
}

/** Key and chain for node:tls (`createServer`, `setSecureContext`). */
export interface ServerContext {
  key: string;
  /** The server certificate then the CA's: a joining agent finds the CA it pins in the chain. */
  cert: string;
}

/** The names and addresses the server certificate must cover now. */
export function wantedSans(bind: string, extra: readonly string[]): Sans {
  const names = [hostname(), `${hostname()}.local`, 'localhost', '127.0.0.1', '::1', ...extra];
  if (bind === '0.0.0.0' || bind === '::') {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (!a.address.startsWith('fe80:')) names.push(a.address);
  } else names.push(bind);
  return sansOf(names);
}

/** Why `certPem` must be reissued, or undefined when it serves. */
export function reissueReason(certPem: string, ca: ClusterCa, sans: Sans, now = Date.now()): string | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return 'unreadable';
  }
  if (!cert.checkIssued(ca.cert) || !cert.verify(ca.cert.publicKey)) return 'not signed by the cluster CA';
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (now > from + ((to - from) * 2) / 3) return `past 2/3 of its life (valid to ${cert.validTo})`;
  const missing = [...sans.dns.filter((d) => cert.checkHost(d, { subject: 'never' }) === undefined), ...sans.ips.filter((ip) => cert.checkIP(ip) === undefined)];
  if (missing.length) return `it does not name ${missing.join(', ')}`;
  return undefined;
}

/** The master's TLS material, kept current. */
export class MasterTls {
  private context!: ServerContext;
  private readonly listeners: ((c: ServerContext) => void)[] = [];
  private timer?: NodeJS.Timeout;

  private constructor(
    readonly ca: ClusterCa,
    private readonly settings: TlsSettings,
    private readonly log: Logger,
  ) {}

  /** Loads (or makes) the CA and the server certificate; starts the periodic check. */
  static async start(settings: TlsSettings, log: Logger): Promise<MasterTls> {
    const t = new MasterTls(await loadOrCreateCa(settings.dataDir), settings, log);
    await t.refresh();
    t.timer = setInterval(() => void t.refresh().catch((err) => log.error('could not renew the server certificate', { err })), CHECK_EVERY_MS);
    t.timer.unref();
    return t;
  }

  /** The key and certificate chain listeners serve now. */
  get serverContext(): ServerContext {
    return this.context;
  }

  /** Calls `fn` with each new server context (a listener's `setSecureContext`). */
  onRenew(fn: (c: ServerContext) => void): void {
    this.listeners.push(fn);
  }

  /** Signs a node's CSR with the configured node certificate lifetime. */
  signNode(node: string, csrPem: unknown): ReturnType<typeof signNodeCsr> {
    return signNodeCsr(this.ca, node, csrPem, this.settings.nodeCertLifetimeMs);
  }

  /** Checks the server certificate now and reissues it when needed. */
  async refresh(): Promise<void> {
    const paths = tlsPaths(this.settings.dataDir);
    const sans = wantedSans(this.settings.bind, this.settings.extraSans);
    const current = existsSync(paths.serverCert) && existsSync(paths.serverKey) ? readFileSync(paths.serverCert, 'utf8') : undefined;
    const why = current === undefined ? 'none yet' : reissueReason(current, this.ca, sans);
    if (why === undefined) {
      if (!this.context) this.context = { key: readFileSync(paths.serverKey, 'utf8'), cert: current! + this.ca.certPem };
      return;
    }
    const issued = await issueServerCert(this.ca, sans, SERVER_CERT_LIFETIME_MS);
    writeAtomic(paths.serverKey, issued.keyPem, 0o600);
    writeAtomic(paths.serverCert, issued.certPem, 0o644);
    this.context = { key: issued.keyPem, cert: issued.certPem + this.ca.certPem };
    this.log.info('issued the server certificate', { reason: why, dns: sans.dns.join(','), ips: sans.ips.join(','), validTo: issued.notAfter.toISOString() });
    for (const fn of this.listeners) fn(this.context);
  }

  /** Stops the periodic check. */
  stop(): void {
    clearInterval(this.timer);
  }
}

/** True when `s` may be a `--tls-san`: an IP address or a DNS name. */
export function isSan(s: string): boolean {
  return isIP(s) !== 0 || /^(\*\.)?[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i.test(s);
}
