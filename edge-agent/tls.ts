/**
 * The agent's TLS (docs/security.md): before it joins over mqtts://, the agent finds the cluster CA the way
 * kubeadm's token discovery does — it opens a TLS connection, reads the chain the master presents, and keeps
 * the CA certificate whose public key hash is the one pinned in the join token, provided the master's
 * certificate is signed by it. It sends nothing but the TLS handshake on that connection; a master that fails
 * is left with a sentence saying so. From then on every connection verifies the master against that CA (chain,
 * name or address, serverAuth) and presents the node's own certificate.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { connect, type DetailedPeerCertificate, type PeerCertificate } from 'node:tls';
import { isIP } from 'node:net';
import { SkiffError } from '../protocol/errors.js';
import { caHashOf, checkMasterIdentity } from '../protocol/tls.js';
import { readIfExists, writeFileAtomic } from './fsutil.js';

/** What a TLS connection to the master needs: the cluster CA, the node's key and certificate (PEM). */
export interface NodeTls {
  ca: string;
  key?: string;
  cert?: string;
}

/** `host:port` of an mqtts:// URL. */
function endpoint(url: string): { host: string; port: number; at: string } {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 8883);
  return { host, port, at: `${u.hostname}:${port}` };
}

/** The chain as node:tls gives it, leaf first (the root's issuer is itself). */
function chainOf(leaf: DetailedPeerCertificate): PeerCertificate[] {
  const out: PeerCertificate[] = [];
  for (let c: DetailedPeerCertificate | undefined = leaf; c && out.length < 10; c = c.issuerCertificate === c ? undefined : c.issuerCertificate) out.push(c);
  return out;
}

function pem(raw: Buffer): string {
  return `-----BEGIN CERTIFICATE-----\n${raw.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
}

/**
 * The CA certificate (PEM) of the master at `url` whose public key hashes to `caHash`, when the master's
 * certificate is signed by it; otherwise SKIFF_ERR_UNAUTHORIZED with the sentence an operator needs.
 */
export function pinnedCa(url: string, caHash: string, timeoutMs: number): Promise<string> {
  const { host, port, at } = endpoint(url);
  const notSigned = () => new SkiffError('SKIFF_ERR_UNAUTHORIZED', `the master at ${at} presented a certificate not signed by the cluster CA (${caHash}) pinned in the join token; nothing was sent to it (another cluster's master, a stale token, or someone in between)`);
  return new Promise<string>((resolve, reject) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ...(isIP(host) ? {} : { servername: host }) });
    const timer = setTimeout(() => finish(new SkiffError('SKIFF_ERR_TIMEOUT', `no TLS answer from the master at ${at} within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    function finish(err: Error | undefined, ca?: string): void {
      clearTimeout(timer);
      // A polite close (the handshake's last flight, then close_notify), so the master sees a finished handshake
      // and an end without data rather than a reset; destroyed anyway if it lingers.
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
      if (err) reject(err);
      else resolve(ca!);
    }
    socket.once('error', (err) => finish(new SkiffError('SKIFF_ERR_UNAVAILABLE', `cannot reach the master at ${at} over TLS: ${err.message}`)));
    socket.once('secureConnect', () => {
      const chain = chainOf(socket.getPeerCertificate(true));
      const leaf = chain[0]?.raw ? new X509Certificate(chain[0].raw) : undefined;
      const ca = chain.map((c) => c.raw && new X509Certificate(c.raw)).find((c) => c && c.ca && caHashOf(c) === caHash);
      if (!leaf || !ca || !leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return finish(notSigned());
      finish(undefined, pem(ca.raw));
    });
  });
}

/** mqtt.js options of a TLS connection to the master with `t` (the CA checked; the node's certificate presented). */
export function mqttTlsOptions(t: NodeTls): Record<string, unknown> {
  return { ca: t.ca, ...(t.key && t.cert ? { key: t.key, cert: t.cert } : {}), rejectUnauthorized: true, checkServerIdentity: checkMasterIdentity };
}

/** Where the agent keeps its TLS files: the CA (as pinned at join), its key (0600) and certificate. */
export interface TlsFiles {
  ca: string;
  key: string;
  cert: string;
}

/** Reads what exists of the TLS files. */
export async function loadNodeTls(f: TlsFiles): Promise<Partial<NodeTls>> {
  const [ca, key, cert] = await Promise.all([f.ca, f.key, f.cert].map(async (p) => (await readIfExists(p))?.toString('utf8')));
  return { ...(ca ? { ca } : {}), ...(key ? { key } : {}), ...(cert ? { cert } : {}) };
}

/** Writes the TLS files: the key before the certificate, so a certificate is never on disk without its key. */
export async function saveNodeTls(f: TlsFiles, t: Partial<NodeTls>): Promise<void> {
  if (t.ca) await writeFileAtomic(f.ca, t.ca, 0o644);
  if (t.key) await writeFileAtomic(f.key, t.key, 0o600);
  if (t.cert) await writeFileAtomic(f.cert, t.cert, 0o644);
}

/**
 * Checks a node certificate the master sent: issued by `ca` (when known), CN = the node, and for the key we
 * hold. Throws SKIFF_ERR_UNAUTHORIZED otherwise.
 */
export function checkNodeCert(certPem: string, keyPem: string, node: string, ca: string | undefined): X509Certificate {
  const cert = new X509Certificate(certPem);
  const bad = (why: string) => new SkiffError('SKIFF_ERR_UNAUTHORIZED', `the node certificate the master sent ${why}; refused`);
  if (ca) {
    const c = new X509Certificate(ca);
    if (!cert.checkIssued(c) || !cert.verify(c.publicKey)) throw bad('is not signed by the cluster CA');
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  if (cn !== node) throw bad(`is not for node ${node} (${cert.subject.replace(/\n/g, ', ')})`);
  if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw bad('is not for the key this agent made');
  return cert;
}
