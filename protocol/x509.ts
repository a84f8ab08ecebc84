/**
 * X.509 for master and agent: @peculiar/x509 (pure JS over WebCrypto, ECDSA P-256 included, no native addon,
 * runs on the agent's Node 18) set up once here. It needs a Reflect polyfill (its dependency tsyringe does), so
 * `reflect-metadata` is imported first; and Node 18 has no global `crypto`, so the provider is node:crypto's
 * webcrypto. Keys are made by node:crypto's WebCrypto and exported as PKCS#8 PEM for node:tls.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as never);

export { x509 };

/** ECDSA over P-256 with SHA-256: the one algorithm of the cluster's keys and signatures. */
export const ecdsaP256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export { NODE_ORG, nodeKeyAndCsr } from './csr.js';

/** A fresh ECDSA P-256 key pair (extractable: its private half is written as PEM for node:tls). */
export function newKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ecdsaP256, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** The private key as PKCS#8 PEM. */
export async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END PRIVATE KEY-----\n`;
}
