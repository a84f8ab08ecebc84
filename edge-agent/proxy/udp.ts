/**
 * A UDP front: listens on one address:port of one service port. Each client address:port is a flow with
 * its own socket to the backend picked for its first datagram; replies go back through the front's
 * socket, so the client sees them come from the address it sent to. A flow ends after
 * `udpIdleTimeoutMs` without traffic either way, or at once when its endpoint is removed.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../log.js';
import type { BackendPool, Hold } from './backends.js';
import type { ProxyConfig } from './options.js';

/** One client's flow. */
interface Flow {
  socket: dgram.Socket;
  hold: Hold;
  timer: NodeJS.Timeout;
  /** Datagrams that arrived before the flow's socket connected (at most `maxPending`); null once connected. */
  pending: Buffer[] | null;
}

/** A flow buffers this many datagrams while its socket connects; more are dropped, as a full queue would. */
const maxPending = 64;

/** A listening UDP front. */
export class UdpFront {
  private readonly socket: dgram.Socket;
  private readonly flows = new Map<string, Flow>();
  /** Flows started (for stats and tests). */
  accepted = 0;

  constructor(
    readonly host: string,
    readonly port: number,
    public pool: BackendPool,
    private readonly cfg: ProxyConfig,
    private readonly log: Logger,
  ) {
    this.socket = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
    this.socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
  }

  /** Binds; rejects with the bind error. */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.socket.once('error', onError);
      this.socket.bind({ address: this.host, port: this.port, exclusive: true }, () => {
        this.socket.off('error', onError);
        this.socket.on('error', (err) => this.log.warn(`${this.host}:${this.port}/UDP: ${err.message}`));
        resolve();
      });
    });
  }

  /** Closes the socket and every flow. */
  async close(): Promise<void> {
    for (const key of [...this.flows.keys()]) this.end(key);
    await new Promise<void>((r) => {
      try {
        this.socket.close(() => r());
      } catch {
        r(); // never bound
      }
    });
  }

  private onMessage(msg: Buffer, from: dgram.RemoteInfo): void {
    const key = `${from.address}:${from.port}`;
    const flow = this.flows.get(key) ?? this.open(key, from);
    if (!flow) return; // no endpoint: dropped, as an unanswered datagram is
    flow.timer.refresh();
    if (flow.pending === null) flow.socket.send(msg);
    else if (flow.pending.length < maxPending) flow.pending.push(msg);
  }

  private open(key: string, from: dgram.RemoteInfo): Flow | undefined {
    const picked = this.pool.pick(from.address);
    if (!picked) return undefined;
    this.accepted++;
    const { backend, hold } = picked;
    const socket = dgram.createSocket({ type: net.isIPv6(backend.address) ? 'udp6' : 'udp4' });
    const timer = setTimeout(() => this.end(key), this.cfg.udpIdleTimeoutMs);
    timer.unref();
    const flow: Flow = { socket, hold, timer, pending: [] };
    socket.on('message', (reply) => {
      timer.refresh();
      this.socket.send(reply, from.port, from.address);
    });
    // ICMP port unreachable and friends: the flow ends, the next datagram picks again.
    socket.on('error', (err) => {
      this.log.debug(`${this.host}:${this.port}/UDP flow ${key} → ${backend.id}: ${err.message}`);
      this.end(key);
    });
    socket.connect(backend.port, backend.address, () => {
      if (this.flows.get(key) !== flow) return; // ended while connecting
      for (const m of flow.pending ?? []) socket.send(m);
      flow.pending = null;
    });
    this.pool.attach(hold, { destroy: () => this.end(key) });
    this.flows.set(key, flow);
    return flow;
  }

  private end(key: string): void {
    const flow = this.flows.get(key);
    if (!flow) return;
    this.flows.delete(key);
    clearTimeout(flow.timer);
    flow.socket.close();
    this.pool.release(flow.hold);
  }
}
