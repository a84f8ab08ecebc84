/**
 * The files every master of one cluster shares, handed from one master to the next through the store (docs/ha.md
 * "Adding a master"), as kubeadm's `init --upload-certs` / `join --control-plane --certificate-key` does:
 * `skiff master --upload-certs` seals them with AES-256-GCM under a random 256-bit certificate key, which it prints
 * once and keeps nowhere, and stores the sealed bundle for 2 hours; `skiff master --certificate-key KEY` on an
 * empty data dir fetches it, opens it (a wrong key fails GCM's tag check: nothing is written), checks the CA
 * (certificate and key belong together, and the join token pins that CA), and writes the files 0600.
 */
import { createCipheriv, createDecipheriv, createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SkiffError } from '../../protocol/index.js';
import { caHashOf } from '../../protocol/tls.js';
import { parseJoinToken } from '../../protocol/join-token.js';
import type { Store } from '../store/types.js';

/** The shared files, relative to the data dir. */
export const clusterFiles = ['admin.token', 'join.token', 'encryption-config.json', 'tls/ca.crt', 'tls/ca.key'] as const;
/** Where the sealed bundle lives in the store (outside `/registry/`: no API object, no informer sees it). */
export const CLUSTER_FILES_KEY = '/bootstrap/cluster-files';
/** How long an upload may be used (kubeadm: the same 2 hours). */
export const UPLOAD_TTL_MS = 2 * 60 * 60 * 1000;

/** The stored record: the sealed files and, in clear, what is not secret. */
interface Sealed {
  version: 1;
  /** ISO time after which the bundle is refused (and deleted). */
  expiresAt: string;
  /** `sha256:<hex>` of the cluster CA. */
  caHash: string;
  iv: string;
  tag: string;
  data: string;
}

const aad = (expiresAt: string, caHash: string) => Buffer.from(`skiff-cluster-files/v1|${expiresAt}|${caHash}`);

/** Seals the shared files of `dataDir` into the store; returns the certificate key (64 hex digits) and the expiry. */
export async function uploadClusterFiles(store: Store, dataDir: string, now = Date.now()): Promise<{ key: string; expiresAt: string }> {
  const files: Record<string, string> = {};
  for (const f of clusterFiles) files[f] = readFileSync(join(dataDir, f)).toString('base64');
  const caHash = caHashOf(Buffer.from(files['tls/ca.crt'], 'base64'));
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const expiresAt = new Date(now + UPLOAD_TTL_MS).toISOString();
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(expiresAt, caHash));
  const data = Buffer.concat([cipher.update(JSON.stringify(files)), cipher.final()]);
  const value: Sealed = { version: 1, expiresAt, caHash, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  const cur = await store.get(CLUSTER_FILES_KEY);
  if (cur) await store.update(CLUSTER_FILES_KEY, value, cur.modRevision);
  else await store.create(CLUSTER_FILES_KEY, value);
  return { key: key.toString('hex'), expiresAt };
}

/** Deletes an upload past its time; true when it did. Every master runs it at start, and the uploader when the time comes. */
export async function deleteExpiredUpload(store: Store, now = Date.now()): Promise<boolean> {
  const cur = await store.get<Sealed>(CLUSTER_FILES_KEY);
  if (!cur || !(Date.parse(cur.value.expiresAt) <= now)) return false;
  await store.delete(CLUSTER_FILES_KEY, cur.modRevision).catch(() => undefined);
  return true;
}

/**
 * Fetches the sealed files with certificate key `keyHex`, checks them, and writes them into `dataDir`, which must
 * hold none of them. Every check comes before the first write. Returns the files written.
 */
export async function downloadClusterFiles(store: Store, dataDir: string, keyHex: string, now = Date.now()): Promise<string[]> {
  if (!/^[0-9a-f]{64}$/.test(keyHex)) throw bad('must be 64 hexadecimal digits, as skiff master --upload-certs printed it');
  const present = clusterFiles.filter((f) => existsSync(join(dataDir, f)));
  if (present.length) throw bad(`the data dir ${dataDir} already has ${present.join(', ')}: a master joins with a certificate key only on an empty data dir`);
  const cur = await store.get<Sealed>(CLUSTER_FILES_KEY);
  if (!cur) throw bad('the store holds no uploaded cluster files (none were uploaded, or the upload expired after 2 hours): run skiff master --upload-certs on a master of this cluster');
  const s = cur.value;
  if (s?.version !== 1) throw bad(`the uploaded cluster files have an unknown format (version ${JSON.stringify(s?.version)}); upgrade this skiff`);
  if (!(Date.parse(s.expiresAt) > now)) {
    await store.delete(CLUSTER_FILES_KEY, cur.modRevision).catch(() => undefined);
    throw bad(`the uploaded cluster files expired at ${s.expiresAt}: run skiff master --upload-certs on a master of this cluster again`);
  }
  let files: Record<string, string>;
  try {
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), Buffer.from(s.iv, 'base64'));
    decipher.setAAD(aad(s.expiresAt, s.caHash));
    decipher.setAuthTag(Buffer.from(s.tag, 'base64'));
    files = JSON.parse(Buffer.concat([decipher.update(Buffer.from(s.data, 'base64')), decipher.final()]).toString('utf8'));
  } catch {
    throw bad('the key does not open the uploaded cluster files (a wrong key, or they were uploaded again since with a new one)');
  }
  const contents = new Map(clusterFiles.map((f) => [f, typeof files[f] === 'string' ? Buffer.from(files[f], 'base64') : undefined]));
  const missing = clusterFiles.filter((f) => !contents.get(f)?.length);
  if (missing.length) throw bad(`the uploaded cluster files lack ${missing.join(', ')}`);
  checkCa(contents.get('tls/ca.crt')!, contents.get('tls/ca.key')!, contents.get('join.token')!.toString('utf8'), s.caHash);
  mkdirSync(join(dataDir, 'tls'), { recursive: true, mode: 0o700 });
  for (const [f, bytes] of contents) {
    const path = join(dataDir, f);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(`${path}.tmp`, bytes!, { mode: 0o600 });
    renameSync(`${path}.tmp`, path);
  }
  return [...clusterFiles];
}

/** The CA certificate is a CA, its key is its own, and both the record and the join token name it. */
function checkCa(certPem: Buffer, keyPem: Buffer, joinToken: string, caHash: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
    if (!cert.ca) throw new Error('not a CA certificate');
    if (!cert.checkPrivateKey(createPrivateKey(keyPem))) throw new Error('tls/ca.key is not the key of tls/ca.crt');
  } catch (err) {
    throw bad(`the uploaded cluster CA does not check: ${(err as Error).message}`);
  }
  const hash = caHashOf(cert);
  if (hash !== caHash) throw bad(`the uploaded cluster CA is ${hash}, not ${caHash} as the upload says`);
  const pinned = parseJoinToken(joinToken).caHash;
  if (pinned !== undefined && pinned !== hash) throw bad(`the uploaded join token pins ${pinned}, not the uploaded CA ${hash}`);
}

function bad(message: string): SkiffError {
  return new SkiffError('SKIFF_ERR_BAD_REQUEST', `--certificate-key: ${message}`);
}
