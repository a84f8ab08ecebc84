/**
 * A TCP front: listens on one address:port of one service port and splices each accepted connection to
 * a backend the pool picks. A backend that refuses (its pod just died, the endpoint update is still on
 * its way) is skipped and another is tried, so a client sees a failure only when none answers — as
 * kube-proxy's user-space mode retried endpoints. Half-closes pass through (allowHalfOpen both ways).
 */
import net from 'node:net';
import type { Logger } from '../log.js';
import type { Backend, BackendPool, Hold } from './backends.js';
import type { ProxyConfig } from './options.js';

/** A listening TCP front. */
export class TcpFront {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  /** Connections accepted (for stats and tests). */
  accepted = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    public pool: BackendPool,
    private readonly cfg: ProxyConfig,
    private readonly log: Logger,
  ) {
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (c) => this.accept(c));
  }

  /** Binds; rejects with the listen error (EADDRINUSE, EACCES). */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.host, port: this.port, exclusive: true }, () => {
        this.server.off('error', onError);
        // A listen error is the caller's to report (proxy.ts words it and retries); later ones are logged here.
        this.server.on('error', (err) => this.log.warn(`${this.host}:${this.port}/TCP: ${err.message}`));
        resolve();
      });
    });
  }

  /** Stops listening and ends every connection it spliced. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server.listening ? this.server.close(() => r()) : r()));
  }

  private accept(client: net.Socket): void {
    this.accepted++;
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
    client.on('error', () => undefined);
    void this.connect(client, new Set(), this.cfg.connectAttempts);
  }

  /** Connects `client` to a picked backend; on refusal tries another, `attempts` in all. */
  private async connect(client: net.Socket, failed: Set<string>, attempts: number): Promise<void> {
    const key = client.remoteAddress ?? '';
    const picked = this.pool.pick(key, failed);
    if (!picked || client.destroyed) {
      if (!picked) this.log.debug(`${this.host}:${this.port}: no endpoint for ${key}`);
      client.destroy();
      return;
    }
    const { backend, hold } = picked;
    const upstream = await dial(backend, this.cfg.connectTimeoutMs).catch((err: Error) => {
      this.log.debug(`${this.host}:${this.port}: ${backend.id} refused: ${err.message}`);
      return undefined;
    });
    if (!upstream) {
      this.pool.release(hold);
      failed.add(backend.id);
      if (attempts > 1) return this.connect(client, failed, attempts - 1);
      client.destroy();
      return;
    }
    if (client.destroyed) {
      upstream.destroy();
      this.pool.release(hold);
      return;
    }
    this.splice(client, upstream, hold);
  }

  private splice(client: net.Socket, upstream: net.Socket, hold: Hold): void {
    this.sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const pair = {
      destroy: () => {
        client.destroy();
        upstream.destroy();
      },
    };
    this.pool.attach(hold, pair);
    let open = 2;
    const closed = () => {
      if (--open === 0) this.pool.release(hold);
    };
    // A clean close on one side was preceded by its FIN, which the pipe already passed on (end());
    // destroying the other side here would cut data still queued for it.
    upstream.on('close', (hadError) => {
      this.sockets.delete(upstream);
      if (hadError) client.destroy();
      closed();
    });
    client.on('close', (hadError) => {
      if (hadError) upstream.destroy();
      closed();
    });
    // An error on one side ends both (a reset is passed on as a close).
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  }
}

/** Opens a connection to a backend, or rejects on refusal or after `timeoutMs`. */
function dial(b: Backend, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: b.address, port: b.port, allowHalfOpen: true });
    const timer = setTimeout(() => s.destroy(new Error(`connect timeout after ${timeoutMs} ms`)), timeoutMs);
    s.once('connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
