/**
 * The join exchange's cryptography (docs/protocol.md "Joining"), shared by the master and the agent. Plain
 * node:crypto (HMAC-SHA256, X25519, HKDF, AES-256-GCM), available on Node 18 without native addons.
 *
 * 1. The joiner connects with password `connectKey(token)` — an HMAC of the token, never the token.
 * 2. hello (joiner → master): node, a fresh nonce, an ephemeral X25519 public key, the address it dialled.
 * 3. challenge (master → joiner): the master's nonce and `HMAC(token, "master" ‖ transcript)`. The joiner
 *    checks it before it sends anything that depends on the token beyond step 1.
 * 4. proof (joiner → master): `HMAC(token, "agent" ‖ transcript)`.
 * 5. result (master → joiner): the node credential and certificate sealed to the joiner's ephemeral key (X25519 + HKDF +
 *    AES-256-GCM), so only the connection that asked can read it.
 * The transcript is a hash of the exact hello bytes and the master's nonce, so either side's proof covers
 * everything the joiner said (its key and the address it dialled included).
 */
import type { JoinGrant } from './messages.js';
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, hkdfSync, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/** A join session id: 128 to 384 random bits in base64url, chosen by the joiner; it names the topics of one exchange. */
export const JOIN_SESSION = /^[A-Za-z0-9_-]{22,64}$/;

/** A 256-bit value in base64url (nonces, public keys, proofs). */
export const B64_256 = /^[A-Za-z0-9_-]{43}$/;

/** A fresh join session id (128 random bits). */
export function newJoinSession(): string {
  return randomBytes(16).toString('base64url');
}

/** A fresh 256-bit nonce. */
export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

function mac(token: string, label: string, data: Buffer): string {
  return createHmac('sha256', token).update(`skiff/v1 join ${label}\u0000`).update(data).digest('base64url');
}

/** The MQTT password of a joiner: an HMAC of the join token (a rogue broker that sees it learns no more than one HMAC). */
export function connectKey(token: string): string {
  return mac(token, 'connect', Buffer.alloc(0));
}

/** The transcript both proofs cover: the hello exactly as sent, then the master's nonce. */
export function transcriptOf(hello: Buffer, masterNonce: string): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(hello.length);
  return createHash('sha256').update('skiff/v1 join transcript\u0000').update(len).update(hello).update(masterNonce).digest();
}

/** The master's proof that it knows the token. */
export function masterProof(token: string, transcript: Buffer): string {
  return mac(token, 'master', transcript);
}

/** The joiner's proof that it knows the token. */
export function agentProof(token: string, transcript: Buffer): string {
  return mac(token, 'agent', transcript);
}

/** Constant-time comparison of two proofs. */
export function proofMatches(expected: string, got: unknown): boolean {
  if (typeof got !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(got);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** An ephemeral X25519 key pair; `publicKey` is the raw 32 bytes in base64url. */
export interface EphemeralKey {
  publicKey: string;
  privateKey: KeyObject;
}

/** PKCS #8 (RFC 8410) of an X25519 private key, up to its 32 bytes. */
const x25519Pkcs8Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');

/**
 * A fresh X25519 key pair: 32 random bytes as the private key (X25519 clamps them itself, RFC 7748 §5), its public
 * key the last 32 bytes of its SubjectPublicKeyInfo. Not `generateKeyPairSync` and a JWK export: Node 20 deadlocked
 * in that export when a collection ran inside it and freed the finished generation job — the job's destructor waits
 * for the key's lock, which the export holds (seen once in the scale harness, 200 agents joining in one process:
 * main thread in `~KeyGenJob` ← GC ← `ExportJWKEdKey`). No job, no JWK, no lock held across an allocation.
 */
export function ephemeralKey(): EphemeralKey {
  const privateKey = createPrivateKey({ key: Buffer.concat([x25519Pkcs8Prefix, randomBytes(32)]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { publicKey: spki.subarray(spki.length - 32).toString('base64url'), privateKey };
}

/** The credential as sealed by the master: its ephemeral public key, the GCM nonce, ciphertext ‖ tag (base64url). */
export interface Sealed {
  key: string;
  iv: string;
  sealed: string;
}

function aeadKey(privateKey: KeyObject, peerPublic: string, transcript: Buffer): Buffer {
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: peerPublic }, format: 'jwk' });
  const shared = diffieHellman({ privateKey, publicKey });
  return Buffer.from(hkdfSync('sha256', shared, transcript, 'skiff/v1 join credential', 32));
}

/** Seals `secret` to the joiner's public key (master side). Throws when the key is not an X25519 key. */
export function seal(secret: string, joinerPublic: string, transcript: Buffer): Sealed {
  const own = ephemeralKey();
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', aeadKey(own.privateKey, joinerPublic, transcript), iv);
  cipher.setAAD(transcript);
  const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return { key: own.publicKey, iv: iv.toString('base64url'), sealed: body.toString('base64url') };
}

/** Opens what `seal` made (joiner side). Throws when it was not sealed to `own` over this transcript. */
export function open(s: Sealed, own: EphemeralKey, transcript: Buffer): string {
  const body = Buffer.from(s.sealed, 'base64url');
  if (body.length < 17) throw new Error('sealed credential too short');
  const decipher = createDecipheriv('aes-256-gcm', aeadKey(own.privateKey, s.key, transcript), Buffer.from(s.iv, 'base64url'));
  decipher.setAAD(transcript);
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
}

/** Seals what a successful join grants (the credential and the node certificate) to the joiner's key. */
export function sealGrant(grant: JoinGrant, joinerPublic: string, transcript: Buffer): Sealed {
  return seal(JSON.stringify(grant), joinerPublic, transcript);
}

/** Opens what `sealGrant` made; throws when it was not sealed to `own` over this transcript, or is not a grant. */
export function openGrant(s: Sealed, own: EphemeralKey, transcript: Buffer): JoinGrant {
  const g = JSON.parse(open(s, own, transcript)) as Partial<JoinGrant>;
  if (typeof g?.credential !== 'string' || (g.cert !== undefined && typeof g.cert !== 'string')) throw new Error('the sealed grant is not {credential, cert?}');
  return { credential: g.credential, ...(g.cert ? { cert: g.cert } : {}) };
}
