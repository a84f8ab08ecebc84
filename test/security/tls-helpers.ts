/**
 * TLS tools for the issue-13 tests: a rogue TLS server with a CA of its own that records every decrypted byte a
 * client sends, and a raw MQTT CONNECT over TLS (with or without a client certificate) that returns the CONNACK.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import mqttPacket from 'mqtt-packet';
import { loadOrCreateCa, type ClusterCa } from '../../master/tls/ca.js';
import { issueServerCert, sansOf } from '../../master/tls/certs.js';
import { connectPacket } from './helpers.js';

/** Another cluster's CA (in a temp dir), for rogue masters and wrong client configs. */
export async function otherCa(): Promise<{ ca: ClusterCa; dispose(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-other-ca-'));
  return { ca: await loadOrCreateCa(dir), dispose: () => rm(dir, { recursive: true, force: true }) };
}

/** A TLS server on loopback presenting a certificate of `ca` for 127.0.0.1; `received()` is what clients sent after the handshake. */
export async function rogueTlsServer(ca: ClusterCa): Promise<{ port: number; received(): Buffer; handshakes(): number; close(): Promise<void> }> {
  const { keyPem, certPem } = await issueServerCert(ca, sansOf(['127.0.0.1', 'localhost']), 3_600_000);
  const chunks: Buffer[] = [];
  let handshakes = 0;
  const server = tls.createServer({ key: keyPem, cert: certPem + ca.certPem }, (s) => {
    handshakes++;
    s.on('data', (b: Buffer) => chunks.push(b));
    s.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    received: () => Buffer.concat(chunks),
    handshakes: () => handshakes,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A CONNECT over TLS to 127.0.0.1:`port`, trusting `ca`, presenting `key`/`cert` when given: the CONNACK code, or 'closed'. */
export function tlsConnect(port: number, ca: string, o: Parameters<typeof connectPacket>[0], client?: { key: string; cert: string }): Promise<number | 'closed'> {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', ca, ...(client ?? {}) }, () => s.write(connectPacket(o)));
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => {
      if (p.cmd === 'connack') {
        resolve((p as mqttPacket.IConnackPacket).returnCode ?? 0);
        s.destroy();
      }
    });
    s.on('data', (b: Buffer) => parser.parse(b));
    s.on('error', () => undefined);
    s.on('close', () => resolve('closed'));
  });
}
