/**
 * The backends of one service port: the ready endpoints, the balancer that picks among them, and the
 * connections open to each. An endpoint that leaves the set gets no new connections at once; its open
 * connections drain — TCP ones until they close (or the drain timeout), UDP flows are dropped at once so
 * the next datagram picks a live endpoint (kube-proxy clears stale UDP conntrack entries for the same reason).
 */
import type { Balancer, BalancerAlgorithm } from '../../core-wasm/types.js';
import type { Logger } from '../log.js';
import { makeBalancer, type BalancerEngine } from './balancer.js';
import type { ProxyConfig } from './options.js';

/** One endpoint of a service port. */
export interface Backend {
  /** `address:port`, the identity Maglev hashes. */
  id: string;
  address: string;
  port: number;
  /** 0..65535; 0 keeps it but never picks it. */
  weight: number;
}

/** Something open to a backend that draining can end: a TCP connection pair or a UDP flow. */
export interface Tracked {
  destroy(): void;
}

/** A pick held by one connection: released exactly once, and only on the balancer that counted it. */
export interface Hold {
  id: string;
  balancer: Balancer;
  counted: boolean;
  conn?: Tracked;
}

/** Backends and balancer of one service port. */
export class BackendPool {
  private balancer?: Balancer;
  private backends = new Map<string, Backend>();
  private readonly holds = new Map<string, Set<Hold>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    readonly protocol: 'TCP' | 'UDP',
    private readonly cfg: ProxyConfig,
    private readonly log: Logger,
    /** The balancer engine, loaded once per proxy. */
    private readonly engine: Promise<BalancerEngine>,
  ) {}

  /** The algorithm in use (undefined before the first update). */
  get algorithm(): BalancerAlgorithm | undefined {
    return this.balancer?.algorithm;
  }

  /** The current endpoint ids, in pick order. */
  get ids(): string[] {
    return this.balancer ? this.balancer.endpoints.map((e) => e.id) : [];
  }

  /** Open connections (or flows) per endpoint id, draining ones included. */
  open(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [id, set] of this.holds) if (set.size) out[id] = set.size;
    return out;
  }

  /** Replaces the endpoint set (and the balancer when the algorithm changes); removed endpoints drain. */
  async update(algorithm: BalancerAlgorithm, backends: Backend[]): Promise<void> {
    if (this.balancer?.algorithm !== algorithm) {
      const b = await makeBalancer(algorithm, await this.engine);
      // Holds counted on the old balancer must not be released on the new one.
      for (const set of this.holds.values()) for (const h of set) h.counted = false;
      this.balancer = b;
    }
    const next = new Map(backends.map((b) => [b.id, b] as const));
    const removed = [...this.backends.keys()].filter((id) => !next.has(id));
    this.backends = next;
    this.balancer.setEndpoints(backends.map((b) => ({ id: b.id, weight: b.weight })));
    for (const id of removed) this.drain(id);
  }

  /**
   * Picks a backend for a new connection from `clientKey` (the client address: Maglev hashes it),
   * skipping `exclude` (endpoints that just refused this connection). The pick is held until `release`.
   */
  pick(clientKey: string, exclude: ReadonlySet<string> = new Set()): { backend: Backend; hold: Hold } | undefined {
    const b = this.balancer;
    if (!b || b.endpoints.length === 0) return undefined;
    // Round robin moves on by itself; the others may repeat, so a few more tries (Maglev: a derived key).
    for (let attempt = 0; attempt < 2 * b.endpoints.length + 1; attempt++) {
      const i = b.pick(attempt === 0 ? clientKey : `${clientKey}#${attempt}`);
      if (i < 0) return undefined;
      const id = b.endpoints[i].id;
      if (exclude.has(id)) {
        b.release(i);
        continue;
      }
      const hold: Hold = { id, balancer: b, counted: true };
      let set = this.holds.get(id);
      if (!set) this.holds.set(id, (set = new Set()));
      set.add(hold);
      return { backend: this.backends.get(id)!, hold };
    }
    return undefined;
  }

  /** Ties a held pick to its connection, so draining can end it. */
  attach(hold: Hold, conn: Tracked): void {
    hold.conn = conn;
  }

  /** Ends a held pick (connection closed or connect failed). Idempotent. */
  release(hold: Hold): void {
    const set = this.holds.get(hold.id);
    if (!set?.delete(hold)) return;
    if (set.size === 0) this.holds.delete(hold.id);
    if (!hold.counted || hold.balancer !== this.balancer) return;
    hold.counted = false;
    const i = hold.balancer.endpoints.findIndex((e) => e.id === hold.id);
    if (i >= 0) hold.balancer.release(i);
  }

  /** Stops counting an endpoint's connections and ends them per the drain rule. */
  private drain(id: string): void {
    const set = this.holds.get(id);
    if (!set?.size) return;
    for (const h of set) h.counted = false;
    const old = [...set];
    // An endpoint that came back before the timeout keeps its connections.
    const end = () => {
      if (!this.backends.has(id)) for (const h of old) h.conn?.destroy();
    };
    if (this.protocol === 'UDP') return end();
    this.log.debug(`draining ${set.size} connection(s) to ${id}`);
    if (this.cfg.drainTimeoutMs <= 0) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.closed) end();
    }, this.cfg.drainTimeoutMs);
    t.unref();
    this.timers.add(t);
  }

  /** Ends every connection and timer (the service is gone or the agent stops). */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const set of [...this.holds.values()]) for (const h of [...set]) h.conn?.destroy();
    this.holds.clear();
  }
}
