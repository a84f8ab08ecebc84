/**
 * The topic router: which part of the master handles each kind of message clients publish, in one
 * table keyed by the parsed topic's type (as aedes' `handlers/index.js` and `api/server.ts` for verbs).
 * The broker has already authenticated the publisher and checked the topic against its ACL.
 * A node's messages are handled one after another, in arrival order (a status before the lease after it).
 *
 * API requests, leases, node status and RPC answers are handled as they are read; the bulk of a rollout — pod reports,
 * resyncs, metrics, join and certificate exchanges — is queued and handled in time-bounded turns (broker/sliced-queue.ts),
 * so a poll phase that reads a thousand agents' reports stays short and an API request read in it is answered at once.
 * Liveness does not wait for that queue: the broker records it at read time (BrokerOptions.onLease). A message of a node
 * that still has queued work waits behind it, so each node's order holds.
 */
import { decodeObject, parseTopic, type DesiredResync, type LeaseMessage, type Logger, type MetricsMessage, type NodeStatusMessage, type ParsedTopic, type PodsMessage, type RpcResponse } from '../protocol/index.js';
import type { ApiServer } from './api/server.js';
import type { Identity } from './broker/acl.js';
import type { Inbound } from './broker/index.js';
import type { MetricsStore } from './metrics.js';
import type { NodeCertService } from './nodes/certs.js';
import type { JoinService } from './nodes/join.js';
import type { AgentRpc } from './nodes/rpc.js';
import type { NodeStatusTracker } from './nodes/status.js';
import { SlicedQueue } from './broker/sliced-queue.js';

/** The parts messages are handed to. */
export interface RouteTargets {
  api: ApiServer;
  rpc: AgentRpc;
  tracker: Pick<NodeStatusTracker, 'onStatus' | 'onLease' | 'heard'>;
  metrics: MetricsStore;
  /** The join exchanges (nodes/join.ts). */
  joins: Pick<JoinService, 'onMessage' | 'clientGone'>;
  /** Node certificate renewals (nodes/certs.ts). */
  certs: Pick<NodeCertService, 'onRequest'>;
  /** A pod status report from `node` (nodes/pods.ts). */
  pods(node: string, m: PodsMessage): Promise<void>;
  /** An agent asks for its full desired set (nodes/desired.ts). */
  resync(node: string, m: DesiredResync): Promise<void>;
  log: Logger;
}

/** Runs `fn` after the earlier functions queued under the same key. */
type Serial = (key: string, fn: () => Promise<void>) => void;

type TopicType = ParsedTopic['type'];
/** The parsed topic of type T (members of ParsedTopic share one shape across several types). */
type TopicOf<T extends TopicType> = ParsedTopic extends infer P ? (P extends { type: infer U } ? (T extends U ? P : never) : never) : never;
type Route = (t: ParsedTopic, m: Inbound, to: RouteTargets, serial: Serial) => void;

/** One table entry, its handler typed by the topic it gets. */
function route<T extends TopicType>(type: T, fn: (t: TopicOf<T>, m: Inbound, to: RouteTargets, serial: Serial) => void): [TopicType, Route] {
  return [type, fn as Route];
}

/** The payload as an object (msgpack or JSON); throws on anything else. */
const decoded = <T extends object>(m: Inbound) => decodeObject<T>(m.payload).value;

/** Every topic clients publish that the master handles. The others (its own publishes) are ignored. */
const routes = new Map<TopicType, Route>([
  route('apiReq', (_t, m, to) => void to.api.onRequest(m.clientId, m.identity, m.payload, m.address)),
  route('apply', (_t, m, to) => void to.api.onApply(m.clientId, m.identity, m.payload, m.address)),
  route('joinReq', (t, m, to, serial) => serial(`join/${t.session}`, () => to.joins.onMessage({ session: t.session, ...m }))),
  route('nodeStatus', (t, m, to, serial) =>
    serial(`node/${t.node}`, async () => {
      const status = decoded<NodeStatusMessage>(m);
      // The Will (or a clean stop): calls waiting on that agent fail now, not at their deadline.
      if (status.online === false) to.rpc.nodeGone(t.node);
      await to.tracker.onStatus(t.node, status);
    }),
  ),
  route('nodeResync', (t, m, to, serial) => serial(`node/${t.node}`, () => to.resync(t.node, decoded<DesiredResync>(m)))),
  route('nodeLease', (t, m, to, serial) => serial(`node/${t.node}`, () => to.tracker.onLease(t.node, decoded<LeaseMessage>(m)))),
  // Every message of a node proves it alive, as a lease does: agents lease only when they have nothing else to send (edge-agent/telemetry.ts).
  route('nodePods', (t, m, to, serial) =>
    serial(`node/${t.node}`, async () => {
      await to.pods(t.node, decoded<PodsMessage>(m));
      await to.tracker.onLease(t.node, {});
    }),
  ),
  route('nodeCsr', (t, m, to, serial) => serial(`csr/${t.node}`, () => to.certs.onRequest(t.node, m.payload))),
  route('nodeRpcRes', (t, m, to) => guarded(to.log, 'bad rpc answer', t.node, () => to.rpc.onResponse(t.node, decoded<RpcResponse>(m)))),
  route('nodeMetrics', (t, m, to, serial) => {
    guarded(to.log, 'bad metrics', t.node, () => to.metrics.onNodeMetrics(t.node, decoded<MetricsMessage>(m)));
    serial(`node/${t.node}`, () => to.tracker.onLease(t.node, {}));
  }),
  route('metric', (t, m, to) => {
    to.metrics.onExternal(t.name, m.payload); // it logs what it refuses, once a minute at most
  }),
]);

/** Topics handled as they are read (API, liveness, answers to the master's calls); every other one is queued. */
const atOnce: ReadonlySet<TopicType> = new Set<TopicType>(['apiReq', 'apply', 'nodeLease', 'nodeStatus', 'nodeRpcRes']);

/** What a message must keep its order among: its node's messages, its join exchange's; none for the others. */
function orderKey(t: ParsedTopic): string | undefined {
  if (t.type === 'joinReq') return `join/${t.session}`;
  return 'node' in t && typeof t.node === 'string' ? `node/${t.node}` : undefined;
}

function guarded(log: Logger, what: string, node: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.warn(what, { node, err });
  }
}

/**
 * Runs each key's functions one after another. A function whose key has nothing running starts at once, in the caller's
 * turn: the bulk queue's time budget then measures its work, not a microtask after the turn.
 */
function serialiser(log: Logger): Serial {
  const chains = new Map<string, Promise<void>>();
  const start = (fn: () => Promise<void>): Promise<void> => {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(err);
    }
  };
  return (key, fn) => {
    const before = chains.get(key);
    const next = (before ? before.then(fn) : start(fn)).catch((err) => log.warn('message handling failed', { key, err }));
    chains.set(key, next);
    void next.finally(() => chains.get(key) === next && chains.delete(key));
  };
}

/** What the broker tells the master. */
export interface Router {
  message(m: Inbound): void;
  clientGone(clientId: string, identity: Identity): void;
  /**
   * A node's lease (with its message) or another message proving it alive (without) was just read off its
   * connection, before any queue: it is alive now. True when a lease needs nothing more (NodeStatusTracker.heard).
   */
  heard(node: string, lease?: LeaseMessage): boolean;
  /** Drops what is queued and not handled yet (shutdown). */
  close?(): void;
}

/** The router over `to`; `bulk` holds what is not handled at read time. */
export function createRouter(to: RouteTargets, bulk: SlicedQueue = new SlicedQueue(to.log)): Router {
  const serial = serialiser(to.log);
  return {
    message(m) {
      const t = parseTopic(m.topic);
      const handle = t && routes.get(t.type);
      if (!handle) return to.log.debug('no route for a message, ignored', { topic: m.topic, client: m.clientId });
      const run = () => handle(t, m, to, serial);
      if (atOnce.has(t.type)) bulk.runInOrder(orderKey(t), run);
      else bulk.push(orderKey(t), run);
    },
    heard(node, lease) {
      return to.tracker.heard(node, lease);
    },
    clientGone(clientId, identity) {
      // The API's streams end now (a client reconnecting with the same id must not lose its new ones later); a join
      // exchange ends after its queued messages.
      to.api.clientGone(clientId);
      bulk.push(undefined, () => to.joins.clientGone(clientId));
      if (identity.role === 'node') to.log.info('node disconnected', { node: identity.name, client: clientId });
      else to.log.debug('client disconnected', { client: clientId, user: identity.name, role: identity.role });
    },
    close() {
      bulk.clear();
    },
  };
}

/** At most this many deliveries wait while start-up is still wiring; later ones are dropped (a reconnect storm must not grow memory). */
const inboxLimit = 10_000;

/**
 * Holds what the broker delivers until the router is ready (the broker listens before the
 * controllers it feeds exist), then passes everything straight through; nothing after `close`.
 */
export class Inbox implements Router {
  private router?: Router;
  private waiting: ((r: Router) => void)[] = [];
  private closed = false;
  private dropped = 0;

  constructor(private readonly log: Logger) {}

  message(m: Inbound): void {
    this.deliver((r) => r.message(m));
  }

  clientGone(clientId: string, identity: Identity): void {
    this.deliver((r) => r.clientGone(clientId, identity));
  }

  heard(node: string, lease?: LeaseMessage): boolean {
    // Not kept while starting: the lease message itself follows through `message`.
    return this.router?.heard(node, lease) ?? false;
  }

  /** Starts routing, first what waited. */
  open(router: Router): void {
    if (this.closed) return;
    this.router = router;
    for (const fn of this.waiting.splice(0)) fn(router);
    if (this.dropped) this.log.warn('messages dropped during start-up', { dropped: this.dropped });
  }

  /** Stops routing (shutdown): later messages are dropped. */
  close(): void {
    this.closed = true;
    this.router?.close?.();
    this.router = undefined;
    this.waiting = [];
  }

  private deliver(fn: (r: Router) => void): void {
    if (this.closed) return;
    if (this.router) return fn(this.router);
    if (this.waiting.length < inboxLimit) this.waiting.push(fn);
    else this.dropped++;
  }
}
