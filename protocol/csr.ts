/**
 * A node's key and PKCS#10 certificate signing request (RFC 2986) on node:crypto alone: the agent's only X.509
 * need, so the one-file agent carries a few dozen lines of DER instead of @peculiar/x509 and its twenty packages
 * (570 KiB of the bundle: docs/edge.md). The master parses and verifies the request with @peculiar/x509
 * (master/tls/certs.ts), which is the test of this encoder.
 */
import { generateKeyPair, sign } from 'node:crypto';
import { promisify } from 'node:util';

/** O of a node certificate, as Kubernetes' `system:nodes` group. */
export const NODE_ORG = 'skiff:nodes';

/** One DER TLV: tag, definite length (short or long form), value. */
function der(tag: number, ...parts: Buffer[]): Buffer {
  const value = Buffer.concat(parts);
  const n = value.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, value]);
}

const SEQUENCE = 0x30;
const SET = 0x31;
const oid = (bytes: number[]) => der(0x06, Buffer.from(bytes));
/** id-at-commonName 2.5.4.3, id-at-organizationName 2.5.4.10, ecdsa-with-SHA256 1.2.840.10045.4.3.2. */
const CN = oid([0x55, 0x04, 0x03]);
const O = oid([0x55, 0x04, 0x0a]);
const ECDSA_SHA256 = der(SEQUENCE, oid([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]));

/** One RelativeDistinguishedName with one UTF8String attribute. */
const rdn = (type: Buffer, value: string) => der(SET, der(SEQUENCE, type, der(0x0c, Buffer.from(value, 'utf8'))));

/** A node's new ECDSA P-256 key (PKCS#8 PEM, for node:tls) and its CSR (PEM): CN = node, O = skiff:nodes. */
export async function nodeKeyAndCsr(node: string): Promise<{ keyPem: string; csrPem: string }> {
  const { publicKey, privateKey } = await promisify(generateKeyPair)('ec', { namedCurve: 'prime256v1' });
  const info = der(
    SEQUENCE,
    der(0x02, Buffer.from([0])), // version 0
    der(SEQUENCE, rdn(CN, node), rdn(O, NODE_ORG)),
    publicKey.export({ type: 'spki', format: 'der' }),
    Buffer.from([0xa0, 0x00]), // attributes [0]: none
  );
  const signature = sign('sha256', info, privateKey); // ECDSA-Sig-Value, DER
  const csr = der(SEQUENCE, info, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature));
  const b64 = csr.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return { keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${b64}-----END CERTIFICATE REQUEST-----\n` };
}
