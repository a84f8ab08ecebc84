/**
 * `skiff broker-config mosquitto --tls --cluster-dir DATA_DIR`: a TLS listener for the external broker with a
 * certificate signed by the cluster CA (docs/ha.md "TLS to the broker"). Agents pin the cluster CA from their join
 * token and check the broker against it, so the broker's certificate must chain to that CA; the CA is the first
 * master's (DATA_DIR/tls), made here when that master has not started yet (it then finds it there). Writes, 0600:
 * D/ca.crt (the CA certificate: Mosquitto's cafile, and the masters' `ca-file`), D/broker.crt and D/broker.key.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeAtomic } from '../tls/ca.js';
import { loadOrCreateCa } from '../tls/ca.js';
import { issueServerCert, sansOf } from '../tls/certs.js';

/** How long the broker's certificate is valid; `skiff broker-config` again makes a new one. */
export const BROKER_CERT_LIFETIME_MS = 365 * 24 * 60 * 60 * 1000;

/** The TLS files of the broker's listener. */
export interface BrokerTlsFiles {
  cafile: string;
  certfile: string;
  keyfile: string;
  notAfter: Date;
  caHash: string;
}

/**
 * Signs the broker's certificate with the cluster CA of `clusterDir` for `names` (the bound address unless it is a
 * wildcard, this host's name, localhost and the loopback addresses, and what --tls-san adds), and writes the files.
 */
export async function writeBrokerTls(dir: string, clusterDir: string, bind: string, extraSans: string[]): Promise<BrokerTlsFiles> {
  const ca = await loadOrCreateCa(clusterDir);
  const wildcard = bind === '0.0.0.0' || bind === '::';
  const names = [...(wildcard ? [] : [bind]), hostname().toLowerCase(), 'localhost', '127.0.0.1', '::1', ...extraSans];
  const { keyPem, certPem, notAfter } = await issueServerCert(ca, sansOf(names), BROKER_CERT_LIFETIME_MS);
  const files = { cafile: join(dir, 'ca.crt'), certfile: join(dir, 'broker.crt'), keyfile: join(dir, 'broker.key') };
  writeAtomic(files.keyfile, keyPem, 0o600);
  writeAtomic(files.certfile, certPem, 0o600);
  writeAtomic(files.cafile, ca.certPem, 0o600);
  return { ...files, notAfter, caHash: ca.hash };
}

/** The listener's TLS lines of mosquitto.conf. */
export function tlsConfLines(f: Pick<BrokerTlsFiles, 'cafile' | 'certfile' | 'keyfile'>): string[] {
  return [`cafile ${f.cafile}`, `certfile ${f.certfile}`, `keyfile ${f.keyfile}`, 'tls_version tlsv1.2'];
}
