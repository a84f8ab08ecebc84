/**
 * What the cluster CA signs: the master's server certificate (SANs: the names and addresses agents and clients
 * dial) and nodes' client certificates from their CSRs (CN = node name, O = skiff:nodes, clientAuth only — so a
 * node's certificate can never pass for the master's: agents and the CLI require serverAuth).
 */
import type { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { SkiffError } from '../../protocol/index.js';
import { NODE_ORG, newKeyPair, privateKeyPem, x509 } from '../../protocol/x509.js';
import type { ClusterCa } from './ca.js';

/** The largest CSR accepted (a P-256 CSR is ~450 bytes of PEM). */
export const MAX_CSR_BYTES = 4096;

/** The names and addresses a server certificate covers. */
export interface Sans {
  dns: string[];
  ips: string[];
}

/** Splits names into DNS names and IP addresses, sorted and without duplicates. */
export function sansOf(names: Iterable<string>): Sans {
  const dns = new Set<string>();
  const ips = new Set<string>();
  for (const n of names) if (n) (isIP(n) ? ips : dns).add(n.toLowerCase());
  return { dns: [...dns].sort(), ips: [...ips].sort() };
}

/** Issues the master's server certificate (a new key each time): serverAuth, valid for `lifetimeMs`. */
export async function issueServerCert(ca: ClusterCa, sans: Sans, lifetimeMs: number): Promise<{ keyPem: string; certPem: string; notAfter: Date }> {
  const keys = await newKeyPair();
  const names = [...sans.dns.map((value) => ({ type: 'dns' as const, value })), ...sans.ips.map((value) => ({ type: 'ip' as const, value }))];
  const { certPem, notAfter } = await ca.sign({
    subject: [{ CN: ['skiff-master'] }, { O: ['skiff'] }],
    publicKey: keys.publicKey,
    lifetimeMs,
    extensions: [
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  return { keyPem: await privateKeyPem(keys), certPem, notAfter };
}

/**
 * Signs a node's CSR. The CSR must be well-formed, self-signed (its holder has the key), an ECDSA P-256 key, and
 * name the node (CN); the certificate's subject is set here, never copied: CN = node, O = skiff:nodes.
 */
export async function signNodeCsr(ca: ClusterCa, node: string, csrPem: unknown, lifetimeMs: number): Promise<{ certPem: string; serial: string; notAfter: Date }> {
  if (typeof csrPem !== 'string' || csrPem.length > MAX_CSR_BYTES) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `csr: must be a PEM certificate signing request of at most ${MAX_CSR_BYTES} bytes`);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `csr: not a PKCS#10 request (${(err as Error).message.slice(0, 120)})`);
  }
  const alg = csr.publicKey.algorithm as webcrypto.EcKeyAlgorithm;
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `csr: the key must be ECDSA P-256, got ${alg.name} ${alg.namedCurve ?? ''}`.trim());
  if (!(await csr.verify().catch(() => false))) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'csr: its signature does not verify with its own key');
  const cn = csr.subjectName.getField('CN');
  if (cn.length !== 1 || cn[0] !== node) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `csr: the subject's CN must be the node name "${node}", got ${JSON.stringify(cn.join(',')).slice(0, 100)}`);
  return ca.sign({
    subject: [{ CN: [node] }, { O: [NODE_ORG] }],
    publicKey: await csr.publicKey.export(),
    lifetimeMs,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])],
  });
}
