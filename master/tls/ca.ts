/**
 * The cluster CA (docs/security.md): an ECDSA P-256 key and a self-signed certificate, made at the master's first
 * start in DATA/tls/ (the key 0600, the directory 0700) and loaded afterwards. It signs the master's server
 * certificate and the nodes' client certificates. Ten years, as kubeadm's CA.
 */
import { randomBytes, webcrypto, X509Certificate } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { caHashOf } from '../../protocol/tls.js';
import { ecdsaP256, newKeyPair, privateKeyPem, x509 } from '../../protocol/x509.js';

/** The CA's validity: ten years (kubeadm's CA is valid for ten). */
const CA_LIFETIME_MS = 10 * 365 * 86_400_000;

/** What a certificate the CA signs says. */
export interface CertSpec {
  /** Subject, e.g. `CN=n1, O=skiff:nodes`. */
  subject: string | x509.JsonName;
  publicKey: CryptoKey;
  lifetimeMs: number;
  extensions: x509.Extension[];
}

/** A loaded CA. */
export interface ClusterCa {
  /** The CA certificate (PEM), what clients trust. */
  readonly certPem: string;
  readonly cert: X509Certificate;
  /** `sha256:<hex>` of its public key: what join tokens pin. */
  readonly hash: string;
  /** Signs a certificate; returns it as PEM with its serial (hex, upper case as node:crypto prints it). */
  sign(spec: CertSpec): Promise<{ certPem: string; serial: string; notAfter: Date }>;
}

/** Writes a file atomically with `mode`. */
export function writeAtomic(path: string, data: string, mode: number): void {
  writeFileSync(path + '.tmp', data, { mode });
  renameSync(path + '.tmp', path);
}

/** Where the TLS files live in a data dir. */
export function tlsPaths(dataDir: string) {
  const dir = join(dataDir, 'tls');
  return { dir, caKey: join(dir, 'ca.key'), caCert: join(dir, 'ca.crt'), serverKey: join(dir, 'server.key'), serverCert: join(dir, 'server.crt') };
}

/** A positive random 128-bit serial in hex [RFC 5280 4.1.2.2: positive, at most 20 octets]. */
function newSerial(): string {
  const b = randomBytes(16);
  b[0] &= 0x7f;
  b[0] |= 0x01; // never a leading zero octet, so the hex and DER forms agree
  return b.toString('hex');
}

/**
 * notBefore is set a little in the past so a board whose clock lags a few seconds accepts a fresh certificate;
 * at most a minute, and at most a tenth of the lifetime (short test lifetimes stay short).
 */
function backdateMs(lifetimeMs: number): number {
  return Math.min(60_000, Math.floor(lifetimeMs / 10));
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ecdsaP256, false, ['sign']) as Promise<CryptoKey>;
}

async function createCa(paths: ReturnType<typeof tlsPaths>): Promise<void> {
  const keys = await newKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: newSerial(),
    name: [{ CN: [`skiff-ca@${hostname()}`] }, { O: ['skiff'] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_LIFETIME_MS),
    keys,
    signingAlgorithm: ecdsaP256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // The key first: a crash between the two leaves no certificate without its key.
  writeAtomic(paths.caKey, await privateKeyPem(keys), 0o600);
  writeAtomic(paths.caCert, cert.toString('pem') + '\n', 0o644);
}

/** Loads the cluster CA from DATA/tls/, creating it on first start. */
export async function loadOrCreateCa(dataDir: string): Promise<ClusterCa> {
  const paths = tlsPaths(dataDir);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  if (!existsSync(paths.caCert) || !existsSync(paths.caKey)) await createCa(paths);
  const certPem = readFileSync(paths.caCert, 'utf8');
  const key = await importKey(readFileSync(paths.caKey, 'utf8'));
  const cert = new X509Certificate(certPem);
  if (!cert.ca) throw new Error(`${paths.caCert} is not a CA certificate`);
  const issuer = new x509.X509Certificate(certPem);
  const authorityKeyId = await x509.AuthorityKeyIdentifierExtension.create(issuer);
  return {
    certPem,
    cert,
    hash: caHashOf(cert),
    async sign(spec) {
      const now = Date.now();
      const serial = newSerial();
      const notAfter = new Date(now + spec.lifetimeMs);
      const signed = await x509.X509CertificateGenerator.create({
        serialNumber: serial,
        subject: spec.subject,
        issuer: issuer.subject,
        notBefore: new Date(now - backdateMs(spec.lifetimeMs)),
        notAfter,
        publicKey: spec.publicKey,
        signingKey: key,
        signingAlgorithm: ecdsaP256,
        extensions: [new x509.BasicConstraintsExtension(false, undefined, true), authorityKeyId, ...spec.extensions],
      });
      return { certPem: signed.toString('pem') + '\n', serial: serial.toUpperCase(), notAfter };
    },
  };
}
