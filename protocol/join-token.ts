/**
 * The join token as an operator copies it (docs/security.md "Join tokens"): the cluster CA's fingerprint and
 * the secret in one string, as K3s' `K10<ca-hash>::<credentials>` does, with the hash written as kubeadm's
 * `--discovery-token-ca-cert-hash` writes it:
 *
 *     skiff1:sha256:<64 hex: SHA-256 of the CA certificate's SubjectPublicKeyInfo>::<secret>
 *
 * The hash pins the CA: an agent refuses a master whose certificate does not chain to that key. Only the
 * secret is secret; it is what the join exchange's HMACs are keyed with (protocol/join.ts). A bare secret (a
 * token written before TLS) still parses, without a pin: good for a plain loopback connection only.
 */
import { SkiffError } from './errors.js';

/** A CA fingerprint as kubeadm writes it: `sha256:` and 64 lowercase hex digits. */
export const CA_HASH = /^sha256:[0-9a-f]{64}$/;

/** The secret part: base64url, at least 16 characters (Credentials makes 43). */
const SECRET = /^[A-Za-z0-9_-]{16,128}$/;

const PREFIX = 'skiff1:';

/** A parsed join token. */
export interface JoinToken {
  /** `sha256:<hex>` of the cluster CA's public key, when the token carries one. */
  caHash?: string;
  /** The secret the join exchange proves knowledge of. */
  secret: string;
}

/** The token an operator copies: the CA hash and the secret. */
export function formatJoinToken(caHash: string, secret: string): string {
  if (!CA_HASH.test(caHash)) throw new Error(`not a CA hash: ${caHash.slice(0, 80)}`);
  return `${PREFIX}${caHash}::${secret}`;
}

/** Parses a join token (full, or a bare secret); SKIFF_ERR_BAD_REQUEST saying what is wrong, never echoing the secret. */
export function parseJoinToken(token: string): JoinToken {
  const t = token.trim();
  if (!t.startsWith(PREFIX)) {
    if (SECRET.test(t)) return { secret: t };
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `join token: must look like skiff1:sha256:<64 hex>::<secret> (as DATA/join.token or "skiff token create --join" print it), got ${t.length} characters that do not`);
  }
  const sep = t.indexOf('::');
  const caHash = sep < 0 ? '' : t.slice(PREFIX.length, sep);
  const secret = sep < 0 ? '' : t.slice(sep + 2);
  if (!CA_HASH.test(caHash)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'join token: the CA hash after "skiff1:" must be sha256: and 64 lowercase hex digits');
  if (!SECRET.test(secret)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'join token: the secret after "::" must be 16–128 base64url characters');
  return { caHash, secret };
}

/** The secret of a join token (full or bare): what the exchange's HMACs are keyed with. */
export function joinSecret(token: string): string {
  return parseJoinToken(token).secret;
}
