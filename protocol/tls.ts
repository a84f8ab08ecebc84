/**
 * TLS rules the agent and the CLI share when they check a master (docs/security.md): the CA fingerprint a join
 * token pins, the server-certificate check, and one sentence for each way a handshake fails.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';

/** id-kp-serverAuth [RFC 5280 4.2.1.12]: only a certificate with it may speak for the master. */
export const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

/**
 * The fingerprint a join token pins: SHA-256 of the CA certificate's SubjectPublicKeyInfo, as kubeadm's
 * `--discovery-token-ca-cert-hash` (`openssl x509 -pubkey -in ca.crt | openssl pkey -pubin -outform der | sha256sum`).
 */
export function caHashOf(cert: X509Certificate | string | Buffer): string {
  const c = cert instanceof X509Certificate ? cert : new X509Certificate(cert);
  return 'sha256:' + createHash('sha256').update(c.publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/**
 * node:tls' `checkServerIdentity` for a cluster master: the name or address dialled must be in the certificate's
 * SANs, and the certificate must be for a server (extended key usage serverAuth) — the cluster CA also signs
 * node certificates (clientAuth only), and a node's must never pass for the master's.
 */
export function checkMasterIdentity(host: string, cert: PeerCertificate): Error | undefined {
  const eku = (cert as PeerCertificate & { ext_key_usage?: string[] }).ext_key_usage;
  if (!eku?.includes(SERVER_AUTH)) return Object.assign(new Error(`the certificate presented at ${host} is not a server certificate (no serverAuth usage)`), { code: 'ERR_SKIFF_NOT_SERVER_CERT' });
  return checkServerIdentity(host, cert);
}

/** Handshake failures that mean "not signed by the CA we trust" (OpenSSL's verify codes as node:tls names them). */
const untrusted = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
]);

/**
 * One sentence for a TLS failure talking to the master at `at`, or undefined when `err` is not one. `trusted`
 * says which CA was expected (`the cluster CA in the client config`).
 */
export function tlsFailure(err: Error & { code?: string | number }, at: string, trusted: string): string | undefined {
  const code = String(err.code ?? '');
  if (untrusted.has(code) || /self[- ]signed|unable to verify|unable to get (local )?issuer/i.test(err.message))
    return `the master at ${at} presented a certificate not signed by ${trusted} (${code || err.message})`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return `the master at ${at} has a certificate that does not name this address (${err.message}); dial a name it has, or restart the master with --tls-san ${hostOf(at)}`;
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `the master at ${at} presented a certificate that is ${code === 'CERT_HAS_EXPIRED' ? 'expired' : 'not valid yet'} (check both clocks)`;
  if (code === 'ERR_SKIFF_NOT_SERVER_CERT') return `the master at ${at}: ${err.message}; refused`;
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /wrong version number|handshake/i.test(err.message)) return `TLS with the master at ${at} failed: ${err.message} (is that port TLS? mqtts:// is 8883, mqtt:// 1883)`;
  return undefined;
}

function hostOf(at: string): string {
  const i = at.lastIndexOf(':');
  return (i > 0 ? at.slice(0, i) : at).replace(/^[a-z]+:\/\//, '').replace(/^\[|\]$/g, '');
}
