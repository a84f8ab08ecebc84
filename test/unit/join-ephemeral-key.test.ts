/**
 * The join exchange's ephemeral X25519 key (protocol/join.ts `ephemeralKey`), made from random bytes rather than a
 * key generation job (a Node 20 deadlock, see there): a real X25519 key whose public half is what Node itself says it
 * is, fresh every time, and a credential sealed to it opens with it and with no other key.
 */
import { createPublicKey, diffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { B64_256, ephemeralKey, open, seal } from '../../protocol/join.js';

describe('the join exchange: ephemeral keys', () => {
  it("is an X25519 key whose public half is Node's own, in 43 base64url characters", () => {
    const k = ephemeralKey();
    expect(k.privateKey.asymmetricKeyType).toBe('x25519');
    expect(k.publicKey).toMatch(B64_256);
    expect(createPublicKey(k.privateKey).export({ format: 'jwk' }).x).toBe(k.publicKey);
  });

  it('is fresh every time', () => {
    const keys = new Set(Array.from({ length: 200 }, () => ephemeralKey().publicKey));
    expect(keys.size).toBe(200);
  });

  it('agrees on a shared secret with another key, both ways', () => {
    const a = ephemeralKey();
    const b = ephemeralKey();
    const pub = (x: string) => createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
    expect(diffieHellman({ privateKey: a.privateKey, publicKey: pub(b.publicKey) })).toEqual(diffieHellman({ privateKey: b.privateKey, publicKey: pub(a.publicKey) }));
  });

  it('opens what was sealed to it, and nothing sealed to another key', () => {
    const mine = ephemeralKey();
    const transcript = Buffer.from('transcript');
    expect(open(seal('the credential', mine.publicKey, transcript), mine, transcript)).toBe('the credential');
    expect(() => open(seal('the credential', ephemeralKey().publicKey, transcript), mine, transcript)).toThrow();
  });
});
