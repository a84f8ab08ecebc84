/**
 * The master: the store, the cache, the broker, the API, the scheduler and the controllers, wired in
 * this one place. `startMaster` is what `skiff master` and the in-process tests run. Start-up is a
 * list of named steps (steps.ts), as k3s' server.go; each registers its release, so `stop` (and a
 * step that fails) undoes them in reverse order.
 */
import type { Engine } from '../core-wasm/types.js';
import { skiffVersion, type Logger } from '../protocol/index.js';
import { uncachedMqttNumbers } from './broker/number-cache.js';
import { plainMqttHost, resolveConfig, type MasterConfig } from './config.js';
import type { Informers } from './informer.js';
import { createLogger } from './log.js';
import type { MetricsStore } from './metrics.js';
import type { Objects } from './objects.js';
import { announce, loadCredentials, loadEngine, loadTls, openAudit, openCache, openStore, serveHttp, startApi, startBroker, startControllers, startRouting, writeClientConfig } from './steps.js';
import type { Store } from './store/types.js';
import { describeLocation } from './store/location.js';
import { storeLocation } from './store/open.js';
import { Teardown } from './teardown.js';
import { Telemetry } from './telemetry/registry.js';
import { announceBroker, connectExternalBroker, fetchClusterFiles, lead, uploadCerts } from './ha/steps.js';
import { EtcdStore } from './store/etcd.js';
import type { Controller } from './controllers/types.js';
import type { DesiredPublisher } from './nodes/desired.js';
import type { NodeStatusTracker } from './nodes/status.js';

/** A running master. */
export interface Master {
  readonly config: Readonly<MasterConfig>;
  /** The plain MQTT port (loopback unless --insecure-listen); -1 when off. */
  readonly mqttPort: number;
  /** The MQTT-over-TLS port; -1 when off. */
  readonly mqttsPort: number;
  /** The HTTPS port, if serving. */
  readonly httpPort: number | undefined;
  /** `mqtt://127.0.0.1:PORT`: the plain port on loopback (in-process tests and local tools). */
  readonly url: string;
  /** `mqtts://127.0.0.1:PORT`: the TLS port on loopback (the server certificate names 127.0.0.1); '' when off. */
  readonly tlsUrl: string;
  /** The cluster CA certificate (PEM) clients verify the master with. */
  readonly caPem: string;
  /** `sha256:<hex>`: the CA fingerprint join tokens pin. */
  readonly caHash: string;
  readonly adminToken: string;
  /** The bootstrap join token now, `skiff1:sha256:<CA hash>::<secret>` (`skiff token rotate-join` replaces it). */
  readonly joinToken: string;
  readonly store: Store;
  readonly objects: Objects;
  readonly informers: Informers;
  readonly engine: Engine;
  /** Latest pod/node samples and external metric values (top, autoscaling). */
  readonly metrics: MetricsStore;
  /** The master's logger. */
  readonly log: Logger;
  /** The master's Prometheus metrics (served at /metrics). */
  readonly telemetry: Telemetry;
  /** Resolves when controllers and the scheduler have no queued work. */
  idle(): Promise<void>;
  /** Stops everything, in the reverse order of start. Idempotent: later calls wait for the first. */
  stop(): Promise<void>;
  /** Resolves once the master has stopped (by `stop`, or by itself after losing its leadership). */
  readonly done: Promise<void>;
  /** True once this master stopped because it lost its leadership (docs/ha.md). */
  readonly lostLeadership: boolean;
  /** True while this master leads (runs the controllers, the scheduler and the node lifecycle). */
  readonly leading: boolean;
  /** With --upload-certs: the certificate key other masters join with (--certificate-key), and when it expires. */
  readonly certificateKey?: { key: string; expiresAt: string };
}

/** What `startMaster` takes: the config, and optionally a logger of the caller's (then format and level are the caller's). */
export type MasterOptions = Partial<MasterConfig> & { logger?: Logger };

/** The logger the config asks for (quiet: errors only). */
function loggerFor(config: MasterConfig, given?: Logger): Logger {
  return given ?? createLogger({ format: config.logFormat, level: config.quiet ? 'error' : config.logLevel });
}

/** Starts a master. A step that fails releases what the earlier ones acquired, and its error is thrown. */
export async function startMaster(options: MasterOptions = {}): Promise<Master> {
  const { logger, ...rest } = options;
  uncachedMqttNumbers(); // before the broker or the external link writes a packet (broker/number-cache.ts)
  const config = resolveConfig(rest);
  const log = loggerFor(config, logger);
  const down = new Teardown(log);
  let stopped: Promise<void> | undefined;
  let lost = false;
  let markDone!: () => void;
  const done = new Promise<void>((r) => (markDone = r));
  const stop = () => (stopped ??= stopAll(down, log).finally(markDone));
  try {
    const telemetry = new Telemetry();
    await fetchClusterFiles(config, log);
    const { store, disk, inner } = await openStore(config, log, down, telemetry);
    const tls = await loadTls(config, log, down);
    const credentials = await loadCredentials(store, config, tls);
    const ctx = await openCache(store, { maxReplicas: config.maxReplicas, disk, podSecurityDefault: config.podSecurityDefault }, log, down, config, telemetry);
    if (inner instanceof EtcdStore) {
      // Other masters on this store issue and revoke credentials too.
      credentials.follow((err) => log.warn('credentials: the store watch was cut; reloading', { err }));
      down.add('credentials', () => credentials.unfollow());
    }
    const certificateKey = await uploadCerts(config, inner, log, down);
    const audit = openAudit(config, log, down);
    const engine = await loadEngine(config);
    const external = config.broker ? await connectExternalBroker(config, credentials, tls, ctx, down) : undefined;
    const { broker, inbox, publish, joins, certs } = external ?? (await startBroker(config, credentials, tls, ctx, down));
    const { api, rpc, metrics } = startApi(ctx, { credentials, broker, publish, audit, sealed: store, dataDir: config.dataDir }, down);
    // What only the leader runs; empty until it leads.
    const led: { controllers: Controller[]; tracker?: NodeStatusTracker; desired?: DesiredPublisher } = { controllers: [] };
    const tracker = {
      onStatus: (node: string, m: Parameters<NodeStatusTracker['onStatus']>[1]) => led.tracker?.onStatus(node, m) ?? Promise.resolve(),
      onLease: (node: string, m: Parameters<NodeStatusTracker['onLease']>[1]) => led.tracker?.onLease(node, m) ?? Promise.resolve(),
      heard: (node: string, m?: Parameters<NodeStatusTracker['heard']>[1]) => led.tracker?.heard(node, m) ?? false,
    };
    const desired = { onResync: (node: string, m: Parameters<DesiredPublisher['onResync']>[1]) => led.desired?.onResync(node, m) ?? Promise.resolve() };
    // The volume controller asks nodes to delete reclaimed directories over the agent RPC.
    const startLed = () => Object.assign(led, startControllers(ctx, config, engine, { publish, metrics, rpc }, down));
    const onLost = () => {
      lost = true;
      void stop();
    };
    await lead({ config, store: inner, objects: ctx.objects, log, down, external: external?.broker }, startLed, onLost);
    startRouting(ctx, inbox, { api, rpc, metrics, tracker, desired, joins, certs, publish }, down);
    const http = await serveHttp(config, { telemetry, broker, informers: ctx.informers, metrics, engine }, tls, log, down);
    const loopback = plainMqttHost({ mqttHost: config.mqttHost, insecureListen: false }).replace(/^::1$/, '[::1]');
    const url = broker.port >= 0 ? `mqtt://${loopback}:${broker.port}` : '';
    const tlsUrl = broker.tlsPort >= 0 ? `mqtts://${loopback}:${broker.tlsPort}` : '';
    // With an external broker, clients and agents connect to it (docs/ha.md).
    writeClientConfig(config, external ? external.broker.location.url : tlsUrl || url, credentials, tls, http?.port);
    if (external) announceBroker(config, external.broker.location, log, down);
    else announce(config, broker, log, down);
    log.info('started', {
      version: skiffVersion(),
      mqtts: broker.tlsPort >= 0 ? `${config.mqttHost}:${broker.tlsPort}` : 'off',
      mqtt: broker.port >= 0 ? `${plainMqttHost(config)}:${broker.port}` : 'off',
      https: http ? `${config.httpHost}:${http.port}` : 'off',
      ca: tls.ca.hash,
      dataDir: config.dataDir,
      store: describeLocation(storeLocation(config)),
      engine: engine.impl,
    });
    return {
      config,
      mqttPort: broker.port,
      mqttsPort: broker.tlsPort,
      httpPort: http?.port,
      url,
      tlsUrl,
      caPem: tls.ca.certPem,
      caHash: tls.ca.hash,
      adminToken: credentials.adminToken,
      get joinToken() {
        return credentials.joinToken;
      },
      store,
      objects: ctx.objects,
      informers: ctx.informers,
      engine,
      metrics,
      log,
      telemetry,
      async idle() {
        for (let i = 0; i < 3; i++) {
          await led.desired?.flush();
          await Promise.all(led.controllers.map((c) => c.idle()));
        }
      },
      stop,
      done,
      get lostLeadership() {
        return lost;
      },
      get leading() {
        return led.tracker !== undefined && !lost;
      },
      ...(certificateKey ? { certificateKey } : {}),
    };
  } catch (err) {
    await down.run();
    markDone();
    throw err;
  }
}

/** Logs the stop and undoes every step. */
async function stopAll(down: Teardown, log: Logger): Promise<void> {
  log.info('stopping');
  await down.run();
  log.info('stopped');
}
