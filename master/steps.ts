/**
 * The master's start-up steps, in the order `startMaster` (index.ts) runs them. Each acquires one
 * thing and registers its release on the Teardown at once, so a later failure or a stop undoes it.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine } from '../core-wasm/index.js';
import type { Engine } from '../core-wasm/types.js';
import { skiffVersion, withFields, type Logger } from '../protocol/index.js';
import { PodSecurityAdmission } from './admission/validator.js';
import { Audit } from './api/audit.js';
import { AuditFile } from './api/audit-file.js';
import { ApiServer } from './api/server.js';
import { Broker } from './broker/index.js';
import { wholePayload } from './broker/fast-api.js';
import { plainMqttHost, type MasterConfig } from './config.js';
import { startCronJobController } from './controllers/cronjob/sync.js';
import { startDaemonSetController } from './controllers/daemonset/sync.js';
import { startHistoryController } from './controllers/history.js';
import { startDeploymentController } from './controllers/deployment/sync.js';
import { startEndpointsController } from './controllers/endpoints.js';
import { startGarbageCollector } from './controllers/gc.js';
import { startHpaController } from './controllers/hpa/sync.js';
import { startJobController } from './controllers/job/sync.js';
import { startNamespaceController } from './controllers/namespace.js';
import { startNodeLifecycleController } from './controllers/nodelifecycle.js';
import { startReplicaSetController } from './controllers/replicaset.js';
import { startQuotaController } from './controllers/quota.js';
import { startStatefulSetController } from './controllers/statefulset/sync.js';
import { startVolumeController } from './controllers/volumes/binder.js';
import type { Controller, ControllerContext } from './controllers/types.js';
import { Credentials } from './credentials.js';
import { announceMaster } from './discovery/announce.js';
import { findPublicDir, DashboardFiles } from './dashboard/server.js';
import { EventRecorder } from './events.js';
import { startHttp, type HttpEndpoint } from './http.js';
import { Informers } from './informer.js';
import { MetricsStore } from './metrics.js';
import { DesiredPublisher } from './nodes/desired.js';
import { NodeCertService } from './nodes/certs.js';
import { JoinService, ownAddress, revokeOrphanCredentials } from './nodes/join.js';
import { onPodsReport } from './nodes/pods.js';
import { AgentRpc } from './nodes/rpc.js';
import { LeaseAnnouncer } from './nodes/lease-announcer.js';
import { leaseBudgetOf } from './nodes/lease-interval.js';
import { NodeStatusTracker } from './nodes/status.js';
import { Objects, type ObjectsOptions } from './objects.js';
import { createPrivateFile, securePrivateDir } from './datadir.js';
import { DiskGuard } from './disk.js';
import { createRouter, Inbox } from './router.js';
import { startScheduler } from './scheduler/driver.js';
import { addAdmission } from './admission/plugins.js';
import { ensureLocalPathClass } from './controllers/volumes/local-path.js';
import { SecretKeys } from './secrets/keys.js';
import { SealedStore } from './secrets/sealed-store.js';
import { openMasterStore, storeLocation } from './store/open.js';
import type { Store } from './store/types.js';
import { brokerObservers, connectRefusedObserver } from './telemetry/broker.js';
import type { Telemetry } from './telemetry/registry.js';
import { registerResourceMetrics } from './telemetry/resources.js';
import { withTelemetry } from './telemetry/scope.js';
import { instrumentStore } from './telemetry/store.js';
import type { Teardown } from './teardown.js';
import { MasterTls } from './tls/server.js';
import { BundleStore } from './upgrade/store.js';

/** Publishes from the master: QoS 1, retained or not. */
export type Publish = (topic: string, payload: Buffer, retain?: boolean) => Promise<void>;

/**
 * The data dir — private (0700/0600) whatever it was — and the store (`--store`; default SQLite in
 * the data dir) with its scheduled backups. A SQLite store file is created 0600 before SQLite opens
 * it, so its -wal and -shm follow, and its disk is watched: room to start, creates refused near full,
 * a reserve to give up so deletes go through (disk.ts). etcd keeps its own space quota. Its writes
 * are timed into `telemetry`. Secrets are sealed beneath it with the keys of DATA/encryption-config.json (created on
 * first start); plain Secrets of an older store, and Secrets sealed with a key that is no longer the first, are
 * sealed again now.
 */
export async function openStore(config: MasterConfig, log: Logger, down: Teardown, telemetry: Telemetry): Promise<{ store: SealedStore; disk?: DiskGuard; inner: Store }> {
  securePrivateDir(config.dataDir);
  const loc = storeLocation(config);
  let disk: DiskGuard | undefined;
  if (loc.kind === 'sqlite') {
    disk = new DiskGuard({ dir: loc.dir, minFreeBytes: config.minFreeBytes, reserveBytes: config.diskReserveBytes }, withFields(log, { component: 'disk' }));
    createPrivateFile(loc.path);
  }
  const storeLog = withFields(log, { component: 'store' });
  const inner = await openMasterStore(config, storeLog, (err, event) => storeLog.error('a watch callback threw', { key: event.key, err }));
  down.add('store', () => inner.close());
  const { keys, created } = SecretKeys.openOrCreate(config.dataDir);
  if (created) storeLog.info('created the encryption config for Secrets at rest', { file: keys.path });
  const store = new SealedStore(instrumentStore(inner, telemetry, inner.kind), keys);
  const { resealed } = await store.reseal();
  if (resealed) storeLog.info('sealed Secrets with the current key', { secrets: resealed, key: keys.current.name });
  return { store, disk, inner };
}

/** The audit log: DATA/audit.log, one JSON line per write, rotated by size (api/audit.ts). */
export function openAudit(config: MasterConfig, log: Logger, down: Teardown): Audit {
  const apiLog = withFields(log, { component: 'api' });
  const file = new AuditFile(join(config.dataDir, 'audit.log'), {
    maxBytes: config.auditLogMaxBytes,
    backups: config.auditLogBackups,
    onError: (err) => apiLog.error('cannot write the audit log', { err }),
  });
  down.add('audit log', () => file.close());
  return new Audit(apiLog, file);
}

/** The cluster CA and the server certificate (made on first start, renewed while running; docs/security.md). */
export async function loadTls(config: MasterConfig, log: Logger, down: Teardown): Promise<MasterTls> {
  const tls = await MasterTls.start({ dataDir: config.dataDir, bind: config.mqttHost, extraSans: config.tlsSans, nodeCertLifetimeMs: config.nodeCertLifetimeMs }, withFields(log, { component: 'tls' }));
  down.add('tls', () => tls.stop());
  return tls;
}

/** The admin and join tokens (created on first start; join tokens carry the CA's hash) and node credentials. */
export async function loadCredentials(store: Store, config: MasterConfig, tls: MasterTls): Promise<Credentials> {
  const credentials = new Credentials(store, config.dataDir, tls.ca.hash);
  await credentials.load();
  return credentials;
}

/**
 * Objects (with admission — Service allocation; then, as kube-apiserver orders its plugins, storage defaults,
 * LimitRanger, ResourceQuota; then the validating Pod Security — and the limits of `options`), the default
 * namespace and the `local-path` StorageClass (as K3s ships it), the informers' cache and the event recorder
 * (events kept --event-ttl, counted into `telemetry`).
 */
export async function openCache(
  store: Store,
  options: ObjectsOptions & Pick<MasterConfig, 'podSecurityDefault'>,
  log: Logger,
  down: Teardown,
  config: MasterConfig,
  telemetry: Telemetry,
): Promise<ControllerContext> {
  const informers = new Informers(store, withFields(log, { component: 'informer' }), config.watchWindow);
  const objects = new Objects(store, { ...options, cache: informers });
  addAdmission(objects);
  let started = false;
  // Pod Security reads the namespace from the cache once it runs (as Kubernetes' admission reads its namespace
  // lister: a controller creating thousands of pods costs no store read each), else — and for a namespace just
  // created and not yet cached — from the store.
  const reads = {
    namespace: async (name: string) => (started ? informers.get('Namespace', undefined, name) : undefined) ?? objects.get('Namespace', undefined, name),
    pods: async (ns: string) => (await objects.list('Pod', ns)).items,
  };
  objects.addValidator(new PodSecurityAdmission(reads, options.podSecurityDefault));
  if (!(await objects.get('Namespace', undefined, 'default')))
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } });
  await ensureLocalPathClass(objects);
  await informers.start();
  started = true;
  down.add('informers', () => informers.stop());
  const events = new EventRecorder(withFields(log, { component: 'events' }), {
    ttlMs: config.eventTtlMs,
    maxEvents: config.maxEvents,
    onRecorded: (type, reason, count) => telemetry.countEvent(type, reason, count),
  });
  return { objects, informers, events, log, telemetry };
}

/** The scheduling engine (WebAssembly or its TS twin). */
export function loadEngine(config: MasterConfig): Promise<Engine> {
  return createEngine({ impl: config.engine, ...config.scheduler });
}

/**
 * The MQTT broker, listening — plain MQTT on loopback (on the LAN only with --insecure-listen, and then with a
 * warning), MQTT over TLS on the bind address; what it receives waits in the inbox until routing starts. Before
 * it listens, node credentials without a Node are revoked (every credential must be visible); the join service
 * answers joins, the certificate service renewals.
 */
export async function startBroker(
  config: MasterConfig,
  credentials: Credentials,
  tls: MasterTls,
  ctx: ControllerContext,
  down: Teardown,
): Promise<{ broker: Broker; inbox: Inbox; publish: Publish; joins: JoinService; certs: NodeCertService }> {
  await revokeOrphanCredentials(credentials, ctx.informers, withFields(ctx.log, { component: 'nodes' }));
  const inbox = new Inbox(ctx.log);
  const brokerLog = withFields(ctx.log, { component: 'broker' });
  const plainHost = plainMqttHost(config);
  if (config.insecureListen && config.mqttPort >= 0)
    brokerLog.warn('--insecure-listen: plain MQTT is open beyond loopback; passwords and tokens cross the network in clear text', { bind: plainHost, port: config.mqttPort });
  const { key, cert } = tls.serverContext;
  const broker = await Broker.start({
    port: config.mqttPort,
    host: plainHost,
    ...(config.mqttsPort >= 0 ? { tls: { port: config.mqttsPort, host: config.mqttHost, key, cert, ca: tls.ca.certPem } } : {}),
    credentials,
    log: brokerLog,
    onMessage: (m) => inbox.message(m),
    onClientGone: (clientId, identity) => inbox.clientGone(clientId, identity),
    onLease: (node, lease) => inbox.heard(node, lease),
    ...(ctx.telemetry ? { ...brokerObservers(ctx.telemetry), ...connectRefusedObserver(ctx.telemetry) } : {}),
  });
  down.add('broker', () => broker.close());
  tls.onRenew((c) => broker.setServerCert(c.key, c.cert));
  ctx.events.attach((topic, payload) => void broker.publish(topic, payload, { qos: 0 }).catch(() => undefined), (topic) => broker.queue.hasListener(topic));
  const publish: Publish = (topic, payload, retain = false) => broker.publish(topic, payload, { qos: 1, retain });
  const joins = new JoinService({ ...ctx, log: withFields(ctx.log, { component: 'nodes' }) }, credentials, (t, p) => publish(t, p), {
    perSource: config.joinRatePerSource,
    overall: config.joinRate,
    isOwnAddress: ownAddress(config.mqttHost, () => broker.tlsPort, () => broker.port),
    tls,
  });
  const certs = new NodeCertService(tls, credentials, (t, p) => publish(t, p), withFields(ctx.log, { component: 'nodes' }));
  return { broker, inbox, publish, joins, certs };
}

/** The request/response API and the master → agent calls it makes. */
export function startApi(
  ctx: ControllerContext,
  parts: { credentials: Credentials; broker: Pick<Broker, 'kick' | 'holderOf'> & Partial<Pick<Broker, 'publishTo' | 'disconnect'>>; publish: Publish; audit: Audit; sealed: SealedStore; dataDir?: string },
  down: Teardown,
): { api: ApiServer; rpc: AgentRpc; metrics: MetricsStore } {
  const { credentials, broker, publish, audit, sealed, dataDir } = parts;
  const rpc = new AgentRpc((t, p) => publish(t, p));
  // A node's samples are kept only for the pods the cache has bound to it.
  const metrics = new MetricsStore((ns, name) => ctx.informers.get('Pod', ns, name), withFields(ctx.log, { component: 'metrics' }));
  const bundles = dataDir ? new BundleStore(dataDir) : undefined;
  const deps = { ...ctx, log: withFields(ctx.log, { component: 'api' }), audit, sealed, rpc, credentials, metrics, version: skiffVersion(), kick: broker.kick.bind(broker), disconnect: broker.disconnect?.bind(broker), holderOf: broker.holderOf.bind(broker), bundles };
  // The embedded broker puts answers straight onto the asking client's connection (its own backlog, bounded per
  // stream in api/server.ts); an external broker (--broker) gets them as publishes.
  const answer = broker.publishTo?.bind(broker);
  const api = new ApiServer(deps, (t, p, clientId) => (answer ? answer(clientId, t, p) : publish(t, wholePayload(p))));
  down.add('api', () => api.close());
  return { api, rpc, metrics };
}

/** The parts that act on the cluster: controllers, the scheduler, node tracking and desired sets. */
export function startControllers(
  ctx: ControllerContext,
  config: MasterConfig,
  engine: Engine,
  deps: { publish: Publish; metrics: MetricsStore; rpc: AgentRpc },
  down: Teardown,
): { controllers: Controller[]; tracker: NodeStatusTracker; desired: DesiredPublisher } {
  const { publish, metrics, rpc } = deps;
  // Reclaiming a volume: its node deletes the directory (the agent's volumeDelete, edge-agent/rpc/volume.ts).
  const deleteDirectory = async (node: string, v: { name: string; path: string }) => void (await rpc.call(node, 'volumeDelete', { name: v.name, path: v.path }).done);
  const nodesLog = withFields(ctx.log, { component: 'nodes' });
  const budget = leaseBudgetOf(config);
  const leases = new LeaseAnnouncer({ ...ctx, log: nodesLog }, budget, publish);
  const tracker = new NodeStatusTracker({ ...ctx, log: nodesLog }, config.nodeMonitorGraceMs, undefined, { assignedMs: () => leases.graceIntervalMs(), maxMs: budget.maxMs });
  const desired = new DesiredPublisher({ ...ctx, log: withFields(ctx.log, { component: 'desired' }) }, publish);
  const controllers: Controller[] = [];
  down.add('controllers', () => {
    for (const c of controllers) c.stop();
    tracker.stop();
    leases.stop();
    desired.stop();
  });
  // Within the master's telemetry scope: each controller's work queue reports its depth and sync latency.
  withTelemetry(ctx.telemetry, () => controllers.push(
    startGarbageCollector(ctx),
    startReplicaSetController(ctx),
    startDeploymentController(ctx),
    startNodeLifecycleController(ctx, { podEvictionTimeoutMs: config.podEvictionTimeoutMs }),
    startEndpointsController(ctx, publish),
    startJobController(ctx, { backoffBaseMs: config.jobBackoffBaseMs }),
    startDaemonSetController(ctx),
    startStatefulSetController(ctx),
    startHistoryController(ctx),
    startVolumeController(ctx, deleteDirectory),
    startQuotaController(ctx),
    startCronJobController(ctx),
    startHpaController(ctx, { metrics, syncPeriodMs: config.hpaSyncPeriodMs }),
    startNamespaceController(ctx),
    startScheduler(ctx, engine),
  ));
  desired.start();
  leases.start();
  tracker.start();
  return { controllers, tracker, desired };
}

/** Routes what the broker received (and what waited) to the API, the node handlers and the metrics. */
export function startRouting(
  ctx: ControllerContext,
  inbox: Inbox,
  parts: { api: ApiServer; rpc: AgentRpc; metrics: MetricsStore; tracker: Pick<NodeStatusTracker, 'onStatus' | 'onLease' | 'heard'>; desired: Pick<DesiredPublisher, 'onResync'>; joins: JoinService; certs: NodeCertService; publish: Publish },
  down: Teardown,
): void {
  const { api, rpc, metrics, tracker, desired, joins, certs } = parts;
  const nodesLog = withFields(ctx.log, { component: 'nodes' });
  const nodeCtx = { ...ctx, log: nodesLog };
  inbox.open(
    createRouter({
      api,
      rpc,
      tracker,
      metrics,
      joins,
      certs,
      pods: (node, m) => onPodsReport(nodeCtx, node, m),
      resync: (node, m) => desired.onResync(node, m),
      log: withFields(ctx.log, { component: 'router' }),
    }),
  );
  down.add('routing', () => inbox.close());
}

/**
 * The HTTPS port (the server certificate, renewed in place): /healthz, /readyz, /metrics (with the
 * cluster's resource metrics), the dashboard and MQTT over WebSocket; none with `--http-port -1`. The
 * dashboard is left out with `--no-dashboard`, or (with a warning) when `npm run build` has not built it.
 */
export async function serveHttp(
  config: MasterConfig,
  parts: { telemetry: Telemetry; broker: Pick<Broker, 'accept' | 'clientsByRole'> & Partial<Pick<Broker, 'queue'>>; informers: Informers; metrics: MetricsStore; engine: Engine },
  tls: MasterTls,
  log: Logger,
  down: Teardown,
): Promise<HttpEndpoint | undefined> {
  if (config.httpPort < 0) return undefined;
  const { telemetry, broker } = parts;
  registerResourceMetrics(telemetry, { informers: parts.informers, metrics: parts.metrics, clientsByRole: () => broker.clientsByRole(), brokerQueue: () => ({ waiting: broker.queue?.length ?? 0, peak: broker.queue?.peak ?? 0 }), engine: parts.engine.impl });
  let dashboard: DashboardFiles | undefined;
  if (config.dashboard) {
    const dir = findPublicDir();
    if (dir) dashboard = new DashboardFiles(dir);
    else log.warn('the dashboard was not built (npm run build): / answers 404; /metrics and /mqtt work');
  }
  const http = await startHttp(config.httpPort, config.httpHost, { telemetry, broker, dashboard }, tls.serverContext);
  tls.onRenew((c) => http.server.setSecureContext(c));
  down.add('http', () => http.close());
  return http;
}

/**
 * DATA_DIR/config.json: the server URL, admin token and the cluster CA (`certificate-authority-data`, base64 PEM
 * as in a kubeconfig) for the CLI, written atomically, 0600, and the dashboard's address for `skiff dashboard`.
 * The URL is the TLS port on loopback when there is one (the CLI then checks the master's certificate against
 * the CA); to use the file elsewhere, put the master's name or address in `server` — the certificate names
 * them (add others with --tls-san).
 */
export function writeClientConfig(config: MasterConfig, url: string, credentials: Credentials, tls: MasterTls, httpPort?: number): void {
  const host = url.replace(/^mqtts?:\/\//, '').replace(/:\d+$/, '');
  const dashboard = httpPort !== undefined && config.dashboard ? { dashboard: `https://${host}:${httpPort}/` } : {};
  const clientConfig = JSON.stringify({ server: url, user: 'admin', token: credentials.adminToken, 'certificate-authority-data': Buffer.from(tls.ca.certPem).toString('base64'), ...dashboard }, null, 2) + '\n';
  writeFileSync(join(config.dataDir, 'config.json.tmp'), clientConfig, { mode: 0o600 });
  renameSync(join(config.dataDir, 'config.json.tmp'), join(config.dataDir, 'config.json'));
}

/**
 * Announces the MQTT listener on the LAN (mDNS), after it listens: an agent that finds it connects at once. The
 * TLS port when there is one (TXT tls=true); the plain one only when it is on the LAN (--insecure-listen).
 */
export function announce(config: MasterConfig, broker: Pick<Broker, 'port' | 'tlsPort'>, log: Logger, down: Teardown): void {
  if (!config.mdns) return;
  const tls = broker.tlsPort >= 0;
  if (!tls && !config.insecureListen) return;
  const mdnsLog = withFields(log, { component: 'mdns' });
  const mdns = announceMaster({ mqttPort: tls ? broker.tlsPort : broker.port, tls, bind: config.mqttHost, version: skiffVersion() }, (m) => mdnsLog.warn(m));
  if (mdns) down.add('mdns', () => mdns.stop());
}
