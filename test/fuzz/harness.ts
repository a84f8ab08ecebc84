/**
 * An in-process master for fuzzing at the router: the real start-up steps for the store (Secrets sealed), the
 * credentials and the object cache, the real API server, node handlers, join service and metrics store, wired
 * to the real router (master/router.ts) — everything but the broker, so a test hands the router exactly what the
 * broker would after its ACL, as fast as it likes. Every handler call is tracked, so `drain` waits for the work a
 * batch of messages started (no sleeps); what the master publishes and logs is kept for the properties.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import fc from 'fast-check';
import { Audit } from '../../master/api/audit.js';
import { ApiServer } from '../../master/api/server.js';
import type { Identity } from '../../master/broker/acl.js';
import { resolveConfig } from '../../master/config.js';
import type { Credentials } from '../../master/credentials.js';
import { MetricsStore } from '../../master/metrics.js';
import { JoinService } from '../../master/nodes/join.js';
import { DesiredPublisher } from '../../master/nodes/desired.js';
import { onPodsReport } from '../../master/nodes/pods.js';
import { AgentRpc } from '../../master/nodes/rpc.js';
import { NodeStatusTracker } from '../../master/nodes/status.js';
import { createRouter, type Router, type RouteTargets } from '../../master/router.js';
import type { SealedStore } from '../../master/secrets/sealed-store.js';
import { loadCredentials, loadTls, openCache, openStore } from '../../master/steps.js';
import { NodeCertService } from '../../master/nodes/certs.js';
import { Teardown } from '../../master/teardown.js';
import { Telemetry } from '../../master/telemetry/registry.js';
import type { ControllerContext } from '../../master/controllers/types.js';
import { encode, parseTopic, type Logger } from '../../protocol/index.js';
import { tempDir } from '../helpers/wait.js';
import { wholePayload } from '../../master/broker/fast-api.js';

/** A logger that keeps the last lines (bounded) and counts them by level. */
export function keepingLogger(max = 2000) {
  const lines: string[] = [];
  const counts = { debug: 0, info: 0, warn: 0, error: 0 };
  const at = (level: keyof typeof counts) => (msg: string, fields?: Record<string, unknown>) => {
    counts[level]++;
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {}, (_k, v) => (v instanceof Error ? v.message : v))}`);
    if (lines.length > max) lines.shift();
  };
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines, counts };
}

/** The fuzzing master. */
export interface FuzzMaster {
  ctx: ControllerContext;
  store: SealedStore;
  credentials: Credentials;
  router: Router;
  api: ApiServer;
  rpc: AgentRpc;
  metrics: MetricsStore;
  joins: JoinService;
  /** What the master published (the newest 5,000). */
  published: { topic: string; payload: Buffer }[];
  logs: ReturnType<typeof keepingLogger>;
  /** Hands a message to the router as the broker would, from `identity` with `clientId`. */
  deliver(topic: string, payload: Buffer, identity: Identity, clientId?: string): void;
  /** Waits until every handler call started so far (and what it queued) has finished. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a fuzzing master with nodes `n1` and `n2` (credentials and Nodes). */
export async function startFuzzMaster(): Promise<FuzzMaster> {
  const dir = await tempDir('skiff-fuzz-');
  const logs = keepingLogger();
  const config = resolveConfig({ dataDir: join(dir, 'm'), mqttPort: 0, httpPort: -1, quiet: true, mdns: false, podSecurityDefault: 'privileged' });
  const down = new Teardown(logs.log);
  const telemetry = new Telemetry();
  const { store } = await openStore(config, logs.log, down, telemetry);
  const tls = await loadTls(config, logs.log, down);
  const credentials = await loadCredentials(store, config, tls);
  const ctx = await openCache(store, { podSecurityDefault: config.podSecurityDefault }, logs.log, down, config, telemetry);
  for (const n of ['n1', 'n2']) {
    await credentials.issueNode(n, false);
    await ctx.objects.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: n, labels: { 'kubernetes.io/hostname': n } }, spec: {} });
  }
  const published: FuzzMaster['published'] = [];
  let rpc: AgentRpc | undefined;
  const publish = async (topic: string, payload: Buffer) => {
    published.push({ topic, payload });
    if (published.length > 5000) published.shift();
    // No agent runs here: a call to a node fails on the next turn, as when its agent is offline.
    const t = parseTopic(topic);
    if (t?.type === 'nodeRpcReq') setImmediate(() => rpc?.nodeGone(t.node));
  };
  rpc = new AgentRpc(publish);
  ctx.events.attach((t, p) => void publish(t, p));
  const metrics = new MetricsStore((ns, name) => ctx.informers.get('Pod', ns, name) as never, logs.log);
  const api = new ApiServer({ ...ctx, audit: new Audit(logs.log), sealed: store, rpc, credentials, metrics, version: '0.0.0-fuzz' }, (t, p) => publish(t, wholePayload(p)));
  down.add('api', () => api.close());
  const tracker = new NodeStatusTracker(ctx, 3_600_000);
  const joins = new JoinService(ctx, credentials, publish, { perSource: { burst: 1_000_000, perMinute: 1_000_000 }, overall: { burst: 1_000_000, perMinute: 1_000_000 }, isOwnAddress: () => true, tls });
  const certs = new NodeCertService(tls, credentials, publish, logs.log);
  const desired = new DesiredPublisher(ctx, publish);
  const pending = new Set<Promise<unknown>>();
  const track = <A extends unknown[]>(fn: (...a: A) => unknown) => (...a: A) => {
    const p = Promise.resolve().then(() => fn(...a));
    pending.add(p);
    void p.catch(() => undefined).finally(() => pending.delete(p));
    return p as Promise<never>;
  };
  const targets: RouteTargets = {
    api: { onRequest: track(api.onRequest.bind(api)), onApply: track(api.onApply.bind(api)), clientGone: (id: string) => api.clientGone(id) } as never,
    rpc: { onResponse: track(rpc.onResponse.bind(rpc)), nodeGone: (n: string) => rpc.nodeGone(n) } as never,
    tracker: { onStatus: track(tracker.onStatus.bind(tracker)), onLease: track(tracker.onLease.bind(tracker)) } as never,
    metrics: { onNodeMetrics: track(metrics.onNodeMetrics.bind(metrics)), onExternal: (name: string, p: Buffer) => metrics.onExternal(name, p) } as never,
    joins: { onMessage: track(joins.onMessage.bind(joins)), clientGone: (id: string) => joins.clientGone(id) },
    certs: { onRequest: track(certs.onRequest.bind(certs)) } as never,
    pods: track((node: string, m) => onPodsReport(ctx, node, m)),
    resync: track((node: string, m) => desired.onResync(node, m)),
    log: logs.log,
  };
  const router = createRouter(targets);
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    ctx,
    store,
    credentials,
    router,
    api,
    rpc,
    metrics,
    joins,
    published,
    logs,
    deliver(topic, payload, identity, clientId = `${identity.name}-fuzz`) {
      router.message({ topic, payload, identity, clientId, address: '127.0.0.1' });
    },
    async drain() {
      // The router's per-node chains start their handler on a later turn, and the store feeds the informers on
      // later turns too (setImmediate): settle until several turns in a row start nothing new.
      for (let quiet = 0; quiet < 5; ) {
        await settle();
        if (pending.size) {
          await Promise.allSettled([...pending]);
          quiet = 0;
        } else quiet++;
      }
    },
    async stop() {
      tracker.stop();
      desired.stop();
      await down.run();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The heap in use after a full collection (V8's gc, exposed for the test). */
export function heapAfterGc(): number {
  setFlagsFromString('--expose_gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

/** Replaces a random path of `value` by `replacement`, or deletes it (`undefined`): a mutated valid message. */
export function mutateAt(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== 'object') return replacement;
  const copy: any = Array.isArray(value) ? [...value] : { ...(value as object) };
  const keys = Object.keys(copy);
  if (keys.length === 0) return replacement;
  const k = keys[path[0] % keys.length];
  const next = mutateAt(copy[k], path.slice(1), replacement);
  if (next === undefined) delete copy[k];
  else copy[k] = next;
  return copy;
}

/** Mutations of a valid message: one path replaced by anything (or removed). */
export function mutated(valid: unknown): fc.Arbitrary<unknown> {
  return fc.tuple(fc.array(fc.nat(), { maxLength: 6 }), fc.oneof(fc.anything(), fc.constant(undefined))).map(([path, v]) => mutateAt(valid, path, v));
}

/** Payload bytes: random bytes, anything encoded as msgpack or JSON, or a mutated valid message. */
export function payloads(valid: unknown): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
    fc.anything().map((v) => encode(v)),
    fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v))),
    mutated(valid).map((v) => encode(v)),
    mutated(valid).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
  );
}
