/**
 * Node certificate renewal (docs/security.md "Node certificates"), as the kubelet rotates its client
 * certificate: at 2/3 of the certificate's life the agent makes a new key, sends a CSR on its own
 * `nodes/{node}/csr`, and on the answer (`nodes/{node}/cert`) checks the certificate, stores key and
 * certificate, and reconnects with them — pods keep running, nothing restarts. A request that gets no answer
 * is sent again after a minute (and at the next connect); the old certificate stays valid meanwhile.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { decodeObject, encode } from '../protocol/codec.js';
import { SkiffError } from '../protocol/errors.js';
import type { CertRequest, CertResponse } from '../protocol/messages.js';
import { topics } from '../protocol/topics.js';
import { nodeKeyAndCsr } from '../protocol/csr.js';
import type { Logger } from './log.js';
import { checkNodeCert, saveNodeTls, type NodeTls, type TlsFiles } from './tls.js';

/** How long a request waits for its answer before it is sent again. */
const ANSWER_TIMEOUT_MS = 60_000;
/** setTimeout's largest delay (about 24.8 days): longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** When a certificate is due for renewal: 2/3 of the way from notBefore to notAfter. */
export function renewalTime(certPem: string): number {
  const c = new X509Certificate(certPem);
  const from = Date.parse(c.validFrom);
  const to = Date.parse(c.validTo);
  return from + ((to - from) * 2) / 3;
}

/** What the renewer needs from the agent. */
export interface RenewerDeps {
  node: string;
  files: TlsFiles;
  /** Publishes on the current connection; false when offline. */
  publish(topic: string, payload: Buffer): boolean;
  /** The new key and certificate are stored: reconnect with them. */
  renewed(tls: NodeTls, cert: X509Certificate): void;
  log: Logger;
}

/** Renews the node certificate before it expires. */
export class CertRenewer {
  private timer?: NodeJS.Timeout;
  private pending?: { id: string; keyPem: string; sentAt: number };
  private tls?: NodeTls;
  private stopped = false;

  constructor(private readonly d: RenewerDeps) {}

  /** Starts (or restarts) the schedule for the certificate in `tls`. */
  arm(tls: NodeTls): void {
    this.tls = tls;
    if (!tls.cert || this.stopped) return;
    this.schedule(renewalTime(tls.cert) - Date.now());
  }

  /** The session (re)connected: a renewal that is due, or whose request went unanswered, goes out now. */
  connected(): void {
    if (this.tls?.cert && Date.now() >= renewalTime(this.tls.cert) && (!this.pending || Date.now() - this.pending.sentAt > 1000)) void this.request();
  }

  /** A message on `nodes/{node}/cert`. */
  async onAnswer(payload: Buffer): Promise<void> {
    let res: CertResponse;
    try {
      res = decodeObject<CertResponse>(payload).value;
    } catch (err) {
      return this.d.log.warn(`dropped an undecodable certificate answer: ${(err as Error).message}`);
    }
    const p = this.pending;
    if (!p || res?.id !== p.id) return this.d.log.debug('ignored a certificate answer to no pending request');
    this.pending = undefined;
    if (!res.ok) {
      this.d.log.warn(`the master refused the certificate renewal: ${SkiffError.fromWire(res.error).message}; retrying in ${ANSWER_TIMEOUT_MS / 1000} s`);
      return this.schedule(ANSWER_TIMEOUT_MS);
    }
    try {
      const cert = checkNodeCert(res.cert, p.keyPem, this.d.node, this.tls?.ca);
      const next: NodeTls = { ...this.tls!, key: p.keyPem, cert: res.cert };
      await saveNodeTls(this.d.files, { key: p.keyPem, cert: res.cert });
      this.d.log.info(`renewed the node certificate (serial ${cert.serialNumber}, valid to ${cert.validTo}); reconnecting with it`);
      this.arm(next);
      this.d.renewed(next, cert);
    } catch (err) {
      this.d.log.error(`certificate renewal: ${(err as Error).message}`);
      this.schedule(ANSWER_TIMEOUT_MS);
    }
  }

  /** Stops renewing. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(inMs: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    const wait = Math.max(0, inMs);
    this.timer = setTimeout(() => (wait > MAX_TIMER_MS ? this.schedule(inMs - MAX_TIMER_MS) : void this.request()), Math.min(wait, MAX_TIMER_MS));
    this.timer.unref?.();
  }

  private async request(): Promise<void> {
    if (this.stopped) return;
    const { keyPem, csrPem } = await nodeKeyAndCsr(this.d.node);
    const id = randomBytes(8).toString('hex');
    if (!this.d.publish(topics.nodeCsr(this.d.node), encode({ id, csr: csrPem } satisfies CertRequest))) {
      this.d.log.debug('certificate renewal due while offline: sent at the next connect');
      return;
    }
    this.pending = { id, keyPem, sentAt: Date.now() };
    this.d.log.info('asked the master to renew the node certificate');
    this.schedule(ANSWER_TIMEOUT_MS); // unanswered: ask again
  }
}
