/**
 * The master: the store, the cache, the broker, the API, the scheduler and the controllers, wired in
 * this one place. `startMaster` is what `skiff master` and the in-process tests run.
 */
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { createEngine } from '../core-wasm/index.js';
import type { Engine } from '../core-wasm/types.js';
import { decodeObject, parseTopic, skiffVersion, type LeaseMessage, type MetricsMessage, type NodeStatusMessage, type PodsMessage, type RpcResponse } from '../protocol/index.js';
import { ApiServer } from './api/server.js';
import { Broker, type Inbound } from './broker/index.js';
import { resolveConfig, type MasterConfig } from './config.js';
import { startDeploymentController } from './controllers/deployment/sync.js';
import { startEndpointsController } from './controllers/endpoints.js';
import { startGarbageCollector } from './controllers/gc.js';
import { startJobController } from './controllers/job/sync.js';
import { startDaemonSetController } from './controllers/daemonset/sync.js';
import { startCronJobController } from './controllers/cronjob/sync.js';
import { startHpaController } from './controllers/hpa/sync.js';
import { startNamespaceController } from './controllers/namespace.js';
import { MetricsStore } from './metrics.js';
import { startNodeLifecycleController } from './controllers/nodelifecycle.js';
import { startReplicaSetController } from './controllers/replicaset.js';
import type { Controller, ControllerContext } from './controllers/types.js';
import { Credentials } from './credentials.js';
import { announceMaster } from './discovery/announce.js';
import { EventRecorder } from './events.js';
import { startHttp } from './http.js';
import { Informers } from './informer.js';
import { DesiredPublisher } from './nodes/desired.js';
import { onJoinRequest } from './nodes/join.js';
import { onPodsReport } from './nodes/pods.js';
import { AgentRpc } from './nodes/rpc.js';
import { NodeStatusTracker } from './nodes/status.js';
import { Objects } from './objects.js';
import { ServiceAdmission } from './services/allocate.js';
import { startScheduler } from './scheduler/driver.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/types.js';


/** A running master. */
export interface Master {
  readonly config: Readonly<MasterConfig>;
  readonly mqttPort: number;
  readonly httpPort: number | undefined;
  /** `mqtt://127.0.0.1:PORT` */
  readonly url: string;
  readonly adminToken: string;
  readonly joinToken: string;
  readonly store: Store;
  readonly objects: Objects;
  readonly informers: Informers;
  readonly engine: Engine;
  /** Latest pod/node samples and external metric values (top, autoscaling). */
  readonly metrics: MetricsStore;
  /** Resolves when controllers and the scheduler have no queued work. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `fn`s for the same key one after another (a node's messages keep their order). */
function serialiser(): (key: string, fn: () => Promise<void>) => void {
  const chains = new Map<string, Promise<void>>();
  return (key, fn) => {
    const next = (chains.get(key) ?? Promise.resolve()).then(fn).catch((err) => console.warn(`master: ${key}: ${(err as Error).message}`));
    chains.set(key, next);
    void next.finally(() => chains.get(key) === next && chains.delete(key));
  };
}

/** Starts a master. */
export async function startMaster(options: Partial<MasterConfig> = {}): Promise<Master> {
  const config = resolveConfig(options);
  const log = (s: string) => config.quiet || console.log(s);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  const store = await openSqliteStore(join(config.dataDir, 'skiff.db'));
  const credentials = new Credentials(store, config.dataDir);
  await credentials.load();
  const objects = new Objects(store);
  objects.addAdmission(new ServiceAdmission(objects));
  if (!(await objects.get('Namespace', undefined, 'default')))
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' }, status: { phase: 'Active' } });
  const informers = new Informers(store);
  await informers.start();
  const events = new EventRecorder();
  const engine = await createEngine({ impl: config.engine });
  const ctx: ControllerContext = { objects, informers, events };

  // Messages that arrive before everything is wired wait here.
  let route: ((m: Inbound) => void) | undefined;
  const early: Inbound[] = [];
  const broker = await Broker.start({
    port: config.mqttPort,
    host: config.mqttHost,
    credentials,
    onMessage: (m) => (route ? route(m) : early.push(m)),
    onClientGone: (clientId) => api?.clientGone(clientId),
  });
  const publish = (topic: string, payload: Buffer, retain = false) => broker.publish(topic, payload, { qos: 1, retain });
  events.attach((topic, payload) => void broker.publish(topic, payload, { qos: 0 }).catch(() => undefined));

  const rpc = new AgentRpc((t, p) => publish(t, p));
  const metrics = new MetricsStore();
  const api: ApiServer = new ApiServer({ objects, informers, events, rpc, credentials, metrics, version: skiffVersion(), kick: (m) => broker.kick(m) }, (t, p) => publish(t, p));
  const tracker = new NodeStatusTracker(ctx, config.nodeMonitorGraceMs);
  const desired = new DesiredPublisher(ctx, publish);
  const controllers: Controller[] = [
    startGarbageCollector(ctx),
    startReplicaSetController(ctx),
    startDeploymentController(ctx),
    startNodeLifecycleController(ctx, { podEvictionTimeoutMs: config.podEvictionTimeoutMs }),
    startEndpointsController(ctx, publish),
    startJobController(ctx, { backoffBaseMs: config.jobBackoffBaseMs }),
    startDaemonSetController(ctx),
    startCronJobController(ctx),
    startHpaController(ctx, { metrics, syncPeriodMs: config.hpaSyncPeriodMs }),
    startNamespaceController(ctx),
  ];
  const scheduler = startScheduler(ctx, engine);
  controllers.push(scheduler);
  desired.start();
  tracker.start();

  const serial = serialiser();
  route = (m: Inbound) => {
    const t = parseTopic(m.topic);
    if (!t) return;
    const decoded = <T extends object>() => decodeObject<T>(m.payload).value;
    switch (t.type) {
      case 'apiReq':
        void api.onRequest(m.clientId, m.identity, m.payload);
        return;
      case 'apply':
        void api.onApply(m.clientId, m.identity, m.payload);
        return;
      case 'joinReq':
        serial(`join/${t.node}`, () => onJoinRequest(ctx, credentials, publish, t.node, m.payload));
        return;
      case 'nodeStatus':
        serial(`node/${t.node}`, async () => {
          const status = decoded<NodeStatusMessage>();
          // The Will (or a clean stop): calls waiting on that agent fail now, not at their deadline.
          if (status.online === false) rpc.nodeGone(t.node);
          await tracker.onStatus(t.node, status);
        });
        return;
      case 'nodeLease':
        serial(`node/${t.node}`, () => tracker.onLease(t.node, decoded<LeaseMessage>()));
        return;
      case 'nodePods':
        serial(`node/${t.node}`, () => onPodsReport(ctx, t.node, decoded<PodsMessage>()));
        return;
      case 'nodeRpcRes':
        try {
          rpc.onResponse(t.node, decoded<RpcResponse>());
        } catch (err) {
          console.warn(`master: bad rpc answer from ${t.node}: ${(err as Error).message}`);
        }
        return;
      case 'nodeMetrics':
        try {
          metrics.onNodeMetrics(t.node, decoded<MetricsMessage>());
        } catch (err) {
          console.warn(`master: bad metrics from ${t.node}: ${(err as Error).message}`);
        }
        return;
      case 'metric':
        if (!metrics.onExternal(t.name, m.payload)) console.warn(`master: ${m.topic}: not a number, ignored`);
        return;
    }
  };
  for (const m of early.splice(0)) route(m);

  let http: { server: Server; port: number } | undefined;
  if (config.httpPort >= 0)
    http = await startHttp(config.httpPort, config.httpHost, {
      informers,
      mqttClients: () => broker.clients,
      apiCounters: () => api.counters,
      storeRevision: () => informers.revision,
    });

  const url = `mqtt://127.0.0.1:${broker.port}`;
  const clientConfig = JSON.stringify({ server: url, user: 'admin', token: credentials.adminToken }, null, 2) + '\n';
  writeFileSync(join(config.dataDir, 'config.json.tmp'), clientConfig, { mode: 0o600 });
  renameSync(join(config.dataDir, 'config.json.tmp'), join(config.dataDir, 'config.json'));
  log(`skiff master: MQTT on ${config.mqttHost}:${broker.port}${http ? `, HTTP on ${config.httpHost}:${http.port}` : ''}, data in ${config.dataDir}`);

  // After the broker listens: an agent that finds the master connects at once.
  const mdns = config.mdns ? announceMaster({ mqttPort: broker.port, bind: config.mqttHost, version: skiffVersion() }, (m) => console.warn(`master: ${m}`)) : undefined;
  let stopped = false;
  return {
    config,
    mqttPort: broker.port,
    httpPort: http?.port,
    url,
    adminToken: credentials.adminToken,
    joinToken: credentials.joinToken,
    store,
    objects,
    informers,
    engine,
    metrics,
    async idle() {
      for (let i = 0; i < 3; i++) {
        await desired.flush();
        await Promise.all(controllers.map((c) => c.idle()));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const c of controllers) c.stop();
      tracker.stop();
      desired.stop();
      api.close();
      await new Promise<void>((r) => (http ? http.server.close(() => r()) : r()));
      http?.server.closeAllConnections?.();
      await mdns?.stop();
      await broker.close();
      informers.stop();
      await store.close();
    },
  };
}
