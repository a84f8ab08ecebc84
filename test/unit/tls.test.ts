/**
 * Issue 13, the TLS rules in memory: the join token's format, which certificate backs a node over TLS (table),
 * what the cluster CA signs (subjects, usages, SANs, refusals of bad CSRs), and when the server certificate is
 * reissued.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../master/broker/acl.js';
import { certRefusal, type PeerCert, type Transport } from '../../master/broker/identify.js';
import type { Credentials } from '../../master/credentials.js';
import { loadOrCreateCa, type ClusterCa } from '../../master/tls/ca.js';
import { issueServerCert, sansOf, signNodeCsr } from '../../master/tls/certs.js';
import { reissueReason } from '../../master/tls/server.js';
import { formatJoinToken, parseJoinToken } from '../../protocol/join-token.js';
import { caHashOf, checkMasterIdentity, SERVER_AUTH } from '../../protocol/tls.js';
import { nodeKeyAndCsr, x509, newKeyPair, ecdsaP256 } from '../../protocol/x509.js';

const hash = 'sha256:' + 'ab'.repeat(32);
const secret = 'Zk8yQ2xvdWQtc2VjcmV0LXRva2VuLTAxMjM0NTY3ODkw';

describe('join token format', () => {
  it.each([
    [`skiff1:${hash}::${secret}`, { caHash: hash, secret }],
    [`  skiff1:${hash}::${secret}\n`, { caHash: hash, secret }],
    [secret, { secret }], // a bare secret (before TLS): no pin
  ])('parses %j', (token, want) => expect(parseJoinToken(token)).toEqual(want));

  it.each([
    [`skiff1:sha256:${'ab'.repeat(31)}::${secret}`, 'the CA hash after "skiff1:" must be sha256: and 64 lowercase hex digits'],
    [`skiff1:md5:${'ab'.repeat(32)}::${secret}`, 'the CA hash'],
    [`skiff1:${hash}:${secret}`, 'the CA hash'],
    [`skiff1:${hash}::short`, 'the secret after "::" must be 16–128 base64url characters'],
    ['no spaces allowed here at all', 'must look like skiff1:sha256:<64 hex>::<secret>'],
  ])('refuses %j, never echoing it', (token, message) => {
    expect(() => parseJoinToken(token)).toThrow(message);
    try {
      parseJoinToken(token);
    } catch (err) {
      expect((err as Error).message).not.toContain(secret);
    }
  });

  it('formats what it parses', () => expect(parseJoinToken(formatJoinToken(hash, secret))).toEqual({ caHash: hash, secret }));
});

describe('the cluster CA and what it signs', () => {
  let dir: string;
  let ca: ClusterCa;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skiff-ca-'));
    ca = await loadOrCreateCa(dir);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('is an ECDSA P-256 CA whose hash is kubeadm-style (SHA-256 of its public key), and loads the same again', async () => {
    expect(ca.cert.ca).toBe(true);
    expect(ca.cert.publicKey.asymmetricKeyDetails).toMatchObject({ namedCurve: 'prime256v1' });
    expect(ca.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(caHashOf(ca.certPem)).toBe(ca.hash);
    expect((await loadOrCreateCa(dir)).hash).toBe(ca.hash);
  });

  it('signs a node CSR as CN=node, O=skiff:nodes, clientAuth only, whatever else the CSR asks', async () => {
    const { csrPem } = await nodeKeyAndCsr('pi-1');
    const { certPem, serial } = await signNodeCsr(ca, 'pi-1', csrPem, 3_600_000);
    const cert = new X509Certificate(certPem);
    expect(cert.subject).toBe('CN=pi-1\nO=skiff:nodes');
    expect(cert.serialNumber).toBe(serial);
    expect(cert.verify(ca.cert.publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.ca).toBe(false);
  });

  it.each([
    ['not a string', 42, 'csr: must be a PEM certificate signing request'],
    ['too long', 'x'.repeat(5000), 'of at most 4096 bytes'],
    ['not PKCS#10', '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', 'csr: not a PKCS#10 request'],
  ])('refuses a CSR that is %s', async (_what, csr, message) => {
    await expect(signNodeCsr(ca, 'pi-1', csr, 3_600_000)).rejects.toThrow(message);
  });

  it('refuses a CSR for another node, and one whose signature does not match its key', async () => {
    const { csrPem } = await nodeKeyAndCsr('pi-2');
    await expect(signNodeCsr(ca, 'pi-1', csrPem, 3_600_000)).rejects.toThrow(`the subject's CN must be the node name "pi-1", got "pi-2"`);
    const keys = await newKeyPair();
    const other = await newKeyPair();
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=pi-1', keys, signingAlgorithm: ecdsaP256 });
    const forged = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=pi-1', keys: { publicKey: other.publicKey, privateKey: keys.privateKey }, signingAlgorithm: ecdsaP256 });
    await expect(signNodeCsr(ca, 'pi-1', csr.toString('pem'), 3_600_000)).resolves.toBeDefined();
    await expect(signNodeCsr(ca, 'pi-1', forged.toString('pem'), 3_600_000)).rejects.toThrow('its signature does not verify with its own key');
  });

  it('issues a server certificate (serverAuth, the SANs asked) that checkMasterIdentity accepts; a node certificate it refuses', async () => {
    const sans = sansOf(['nuc', 'localhost', '127.0.0.1', '10.0.0.5', 'NUC']);
    expect(sans).toEqual({ dns: ['localhost', 'nuc'], ips: ['10.0.0.5', '127.0.0.1'] });
    const { certPem } = await issueServerCert(ca, sans, 3_600_000);
    const cert = new X509Certificate(certPem);
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    const peer = (c: X509Certificate) => ({ subjectaltname: c.subjectAltName, subject: {}, ext_key_usage: c.keyUsage }) as never;
    expect(checkMasterIdentity('10.0.0.5', peer(cert))).toBeUndefined();
    expect(checkMasterIdentity('nuc', peer(cert))).toBeUndefined();
    expect(checkMasterIdentity('10.0.0.6', peer(cert))).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    const { csrPem } = await nodeKeyAndCsr('nuc');
    const nodeCert = new X509Certificate((await signNodeCsr(ca, 'nuc', csrPem, 3_600_000)).certPem);
    expect(checkMasterIdentity('nuc', peer(nodeCert))).toMatchObject({ code: 'ERR_SKIFF_NOT_SERVER_CERT' });
  });

  it('reissues the server certificate when a name is missing, past 2/3 of its life, or of another CA', async () => {
    const sans = sansOf(['nuc', '127.0.0.1']);
    const { certPem } = await issueServerCert(ca, sans, 3_600_000);
    const now = Date.now();
    expect(reissueReason(certPem, ca, sans, now)).toBeUndefined();
    expect(reissueReason(certPem, ca, sansOf(['nuc', '127.0.0.1', '10.9.9.9']), now)).toBe('it does not name 10.9.9.9');
    expect(reissueReason(certPem, ca, sans, now + 2_500_000)).toMatch(/^past 2\/3 of its life/);
    const otherDir = await mkdtemp(join(tmpdir(), 'skiff-ca2-'));
    const other = await loadOrCreateCa(otherDir);
    expect(reissueReason(certPem, other, sans, now)).toBe('not signed by the cluster CA');
    await rm(otherDir, { recursive: true, force: true });
  });
});

describe('which certificate backs a node over TLS (certRefusal)', () => {
  const listed = new Map([['pi-1', ['0A1B']]]);
  const credentials = { verifyNodeCert: (node: string, serial: string) => listed.get(node)?.includes(serial.toUpperCase()) === true } as unknown as Credentials;
  const node: Identity = { role: 'node', name: 'pi-1' };
  const good: PeerCert = { authorized: true, cn: 'pi-1', orgs: ['skiff:nodes'], serial: '0a1b', usages: ['1.3.6.1.5.5.7.3.2'] };
  const tls = (cert?: Partial<PeerCert>): Transport => ({ tls: true, ...(cert ? { cert: { ...good, ...cert } } : {}) });

  it.each<[string, Identity, Transport, string | undefined]>([
    ['plain TCP (loopback): the credential is enough', node, { tls: false }, undefined],
    ['TLS with its own listed certificate', node, tls({}), undefined],
    ['TLS without a certificate', node, tls(), 'node pi-1 connected over TLS without its node certificate'],
    ['an expired certificate', node, tls({ authorized: false, error: 'CERT_HAS_EXPIRED' }), "node pi-1's certificate is not valid: CERT_HAS_EXPIRED"],
    ["another node's certificate", node, tls({ cn: 'pi-2' }), 'the certificate is for node "pi-2", not pi-1'],
    ['a certificate without O=skiff:nodes', node, tls({ orgs: ['skiff'] }), 'is not a node certificate'],
    ['a server certificate (serverAuth)', node, tls({ usages: [SERVER_AUTH] }), 'is not a node certificate'],
    ['a serial no longer listed (renewed twice, or the node deleted)', node, tls({ serial: '0C' }), 'is no longer listed for it'],
    ['users need no certificate', { role: 'user', name: 'grafana', access: 'view' }, tls(), undefined],
    ['joiners need no certificate', { role: 'joiner', name: 'pi-9', token: 'bootstrap' }, tls(), undefined],
  ])('%s', (_name, id, transport, refusal) => {
    const got = certRefusal(credentials, id, transport);
    if (refusal === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(refusal);
  });
});
