/**
 * The agent's service proxy (kube-proxy's role, in user space): for every service announced on
 * `skiff/v1/services/{ns}/{name}` it keeps one backend pool per service port and listens on the
 * service's clusterIP:port (and nodePort on the node's addresses for NodePort services). Messages are
 * handled one at a time, in arrival order. This class is the folder's entry point.
 */
import { decodeObject } from '../../protocol/codec.js';
import type { ServiceMessage } from '../../protocol/messages.js';
import type { Logger } from '../log.js';
import { BackendPool } from './backends.js';
import { algorithmFor, loadBalancerEngine, type BalancerEngine } from './balancer.js';
import { backendsOf, checkServiceMessage, listenersOf, portKey, type ListenSpec } from './message.js';
import { resolveProxyOptions, type ProxyConfig, type ProxyOptions } from './options.js';
import { TcpFront } from './tcp.js';
import { UdpFront } from './udp.js';

type Front = TcpFront | UdpFront;

/** One service as the proxy holds it. */
interface Entry {
  msg: ServiceMessage;
  pools: Map<string, BackendPool>;
  /** Seen since the last resync began. */
  seen: boolean;
  warned?: string;
}

/** What `stats` reports per service. */
export interface ServiceStats {
  algorithm?: string;
  /** Per service port name ('' unnamed): endpoint ids in pick order, and open connections per endpoint id. */
  ports: Record<string, { endpoints: string[]; open: Record<string, number> }>;
  /** Listener keys bound, e.g. `TCP/127.77.0.5:80`. */
  listening: string[];
}

/** The service proxy of one agent. */
export class ServiceProxy {
  cfg: ProxyConfig;
  private readonly services = new Map<string, Entry>();
  private readonly fronts = new Map<string, { front: Front; owner: string }>();
  private readonly retries = new Map<string, NodeJS.Timeout>();
  /** Listeners whose bind failure was already logged as a warning (retries log at debug). */
  private readonly bindWarned = new Set<string>();
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  /** The balancer engine every pool uses, loaded once (node status and metrics report it). */
  readonly engine: Promise<BalancerEngine>;

  constructor(options: ProxyOptions, private readonly log: Logger) {
    this.cfg = resolveProxyOptions(options);
    this.engine = loadBalancerEngine(this.cfg.balancerImpl, log);
  }

  /**
   * Also serves every clusterIP at its pod-network mirror in `range` (the agent has a bridge pod network,
   * docs/networking.md). Called at start, before the first service message.
   */
  servePodServices(range: string): void {
    this.cfg = resolveProxyOptions({ ...this.cfg, nodePortAddresses: [...this.cfg.nodePortAddresses], podServiceRange: range });
  }

  /** A message on `services/{namespace}/{name}`: an empty payload deletes the service. Never throws. */
  handle(namespace: string, name: string, payload: Buffer): Promise<void> {
    return this.enqueue(async () => {
      if (payload.length === 0) return this.remove(`${namespace}/${name}`);
      let checked: ReturnType<typeof checkServiceMessage>;
      try {
        checked = checkServiceMessage(decodeObject(payload).value, namespace, name);
      } catch (err) {
        checked = { ok: false, error: (err as Error).message };
      }
      if (!checked.ok) return this.log.warn(`service ${namespace}/${name}: dropped a payload: ${checked.error}`);
      await this.apply(checked.msg);
    });
  }

  /** Marks every service unconfirmed: the retained messages that follow a (re)subscription confirm them. */
  beginResync(): void {
    for (const e of this.services.values()) e.seen = false;
  }

  /** Removes services no retained message confirmed since `beginResync` (deleted while the agent was away). */
  endResync(): Promise<void> {
    return this.enqueue(async () => {
      for (const [key, e] of [...this.services]) if (!e.seen) await this.remove(key);
    });
  }

  /** Per service: algorithm, endpoints and open connections per port, listeners. */
  stats(): Record<string, ServiceStats> {
    const out: Record<string, ServiceStats> = {};
    for (const [key, e] of this.services) {
      const ports: ServiceStats['ports'] = {};
      for (const [name, pool] of e.pools) ports[name] = { endpoints: pool.ids, open: pool.open() };
      const listening = [...this.fronts].filter(([, f]) => f.owner === key).map(([k]) => k);
      out[key] = { algorithm: [...e.pools.values()][0]?.algorithm, ports, listening };
    }
    return out;
  }

  /** Stops listening and ends every proxied connection. */
  async close(): Promise<void> {
    this.closed = true;
    await this.enqueue(async () => {
      for (const key of [...this.services.keys()]) await this.remove(key);
    });
    for (const t of this.retries.values()) clearTimeout(t);
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(fn).catch((err) => this.log.error(`${(err as Error).message}`));
    return this.chain;
  }

  private async apply(msg: ServiceMessage): Promise<void> {
    if (this.closed) return;
    const key = `${msg.namespace}/${msg.name}`;
    const entry: Entry = this.services.get(key) ?? { msg, pools: new Map(), seen: true };
    entry.msg = msg;
    entry.seen = true;
    this.services.set(key, entry);
    const { algorithm, warning } = algorithmFor(msg);
    if (warning && entry.warned !== warning) this.log.warn(`service ${key}: ${warning}`);
    entry.warned = warning;
    const wanted = new Set(msg.ports.map(portKey));
    for (const [name, pool] of entry.pools)
      if (!wanted.has(name) || pool.protocol !== msg.ports.find((p) => portKey(p) === name)?.protocol) {
        pool.close();
        entry.pools.delete(name);
      }
    for (const p of msg.ports) {
      const name = portKey(p);
      let pool = entry.pools.get(name);
      if (!pool) entry.pools.set(name, (pool = new BackendPool(p.protocol, this.cfg, this.log, this.engine)));
      await pool.update(algorithm, backendsOf(msg, name));
    }
    await this.syncFronts(key);
  }

  private async remove(key: string): Promise<void> {
    const entry = this.services.get(key);
    if (!entry) return;
    this.services.delete(key);
    await this.syncFronts(key);
    for (const pool of entry.pools.values()) pool.close();
  }

  /** Opens the listeners a service wants and closes the ones it no longer does. */
  private async syncFronts(key: string): Promise<void> {
    const entry = this.services.get(key);
    const wanted = new Map((entry ? listenersOf(entry.msg, this.cfg) : []).map((l) => [l.key, l] as const));
    for (const [lk, f] of [...this.fronts])
      if (f.owner === key && !wanted.has(lk)) {
        this.fronts.delete(lk);
        await f.front.close();
      }
    if (!entry) return;
    for (const spec of wanted.values()) {
      const pool = entry.pools.get(spec.portName)!;
      const have = this.fronts.get(spec.key);
      if (have?.owner === key) have.front.pool = pool;
      else if (have) this.log.warn(`service ${key}: ${spec.key} is already served for ${have.owner}`);
      else await this.open(key, spec, pool);
    }
  }

  private async open(owner: string, spec: ListenSpec, pool: BackendPool): Promise<void> {
    const front = spec.protocol === 'TCP' ? new TcpFront(spec.host, spec.port, pool, this.cfg, this.log) : new UdpFront(spec.host, spec.port, pool, this.cfg, this.log);
    try {
      await front.listen();
      this.fronts.set(spec.key, { front, owner });
      this.bindWarned.delete(spec.key);
      this.log.debug(`service ${owner}: listening on ${spec.key}`);
    } catch (err) {
      await front.close().catch(() => undefined);
      const line = `service ${owner}: ${bindFailure(spec, err as NodeJS.ErrnoException)}; retrying every ${this.cfg.bindRetryMs / 1000} s`;
      if (this.bindWarned.has(spec.key)) this.log.debug(line);
      else this.log.warn(line);
      this.bindWarned.add(spec.key);
      this.retryLater(owner);
    }
  }

  private retryLater(owner: string): void {
    if (this.retries.has(owner) || this.closed) return;
    const t = setTimeout(() => {
      this.retries.delete(owner);
      void this.enqueue(() => this.syncFronts(owner));
    }, this.cfg.bindRetryMs);
    t.unref();
    this.retries.set(owner, t);
  }
}

/**
 * Why a listener could not bind, as the operator can act on it. kube-proxy keeps serving the other services
 * when one port is taken, and so does the agent: it retries, and the message names the port and its holder's kind.
 */
export function bindFailure(spec: ListenSpec, err: NodeJS.ErrnoException): string {
  const what = spec.role === 'nodePort' ? `NodePort ${spec.port}/${spec.protocol} on ${spec.host}` : `port ${spec.port}/${spec.protocol} on clusterIP ${spec.host}`;
  if (err.code === 'EADDRINUSE') return `${what} is in use by another program on this node (free it, or give the service another ${spec.role === 'nodePort' ? 'spec.ports[].nodePort' : 'port'})`;
  if (err.code === 'EACCES') return `${what}: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)`;
  return `cannot listen on ${what}: ${err.message}`;
}
