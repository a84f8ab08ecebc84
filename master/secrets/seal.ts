/**
 * Sealing one stored value with AES-256-GCM, in kube-apiserver's aesgcm format: the stored text is
 * `k8s:enc:aesgcm:v1:KEYNAME:` followed by base64 of nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes).
 * The store key (`/registry/secrets/NS/NAME`) is the additional authenticated data, so a sealed value copied
 * under another key does not open. A fresh random nonce per write: NIST SP 800-38D bounds one key to 2^32
 * of them, far beyond what an edge cluster writes between rotations.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SkiffError } from '../../protocol/index.js';
import type { SealKey, SecretKeys } from './keys.js';

/** The prefix of every sealed value. */
export const sealedPrefix = 'k8s:enc:aesgcm:v1:';

const nonceBytes = 12;
const tagBytes = 16;

/** True when a stored value is sealed text. */
export function isSealed(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith(sealedPrefix);
}

/** The name of the key a sealed value was sealed with. */
export function keyNameOf(sealed: string): string {
  const rest = sealed.slice(sealedPrefix.length);
  return rest.slice(0, Math.max(0, rest.indexOf(':')));
}

/** Seals `plain` under `key`, bound to `aad` (the store key). */
export function seal(key: SealKey, plain: Buffer, aad: string): string {
  const nonce = randomBytes(nonceBytes);
  const cipher = createCipheriv('aes-256-gcm', key.key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([nonce, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return `${sealedPrefix}${key.name}:${body.toString('base64')}`;
}

/**
 * Opens sealed text stored under `aad`. Throws SKIFF_ERR_INTERNAL naming the store key and the key name (never
 * any content) when the key is unknown or the value does not authenticate.
 */
export function open(keys: SecretKeys, sealed: string, aad: string): Buffer {
  const name = keyNameOf(sealed);
  const key = keys.byName(name);
  if (!key) throw new SkiffError('SKIFF_ERR_INTERNAL', `${aad}: sealed with key "${name}", which ${keys.path} does not list (copy the encryption config of the data dir this store came from)`);
  const body = Buffer.from(sealed.slice(sealedPrefix.length + name.length + 1), 'base64');
  if (body.length < nonceBytes + tagBytes) throw new SkiffError('SKIFF_ERR_INTERNAL', `${aad}: sealed value is truncated`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, body.subarray(0, nonceBytes));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - tagBytes));
    return Buffer.concat([decipher.update(body.subarray(nonceBytes, body.length - tagBytes)), decipher.final()]);
  } catch {
    throw new SkiffError('SKIFF_ERR_INTERNAL', `${aad}: sealed value does not authenticate under key "${name}" (another key of that name: copy the encryption config of the data dir this store came from; or the value was altered)`);
  }
}
