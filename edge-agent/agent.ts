/**
 * The agent, wired: claim the data dir → load the cached desired set → join if there is no credential →
 * connect (over mqtts:// with the pinned CA and the node certificate) → the master's desired set if it arrives
 * within `cacheWaitMs`, else the cached one (offline autonomy); the first set applied adopts the pods a previous
 * run left running and reaps the others; on every connect: status, subscriptions, a full pods report; the node
 * certificate renewed at 2/3 of its life (certs.ts).
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { decodeObject, encode } from '../protocol/codec.js';
import type { DesiredMessage, DesiredResync, LeaseMessage, NodeStatusMessage, OfflineReport, PodReport } from '../protocol/messages.js';
import { bytes, cpuMilli } from '../protocol/quantity.js';
import { parseTopic, topics } from '../protocol/topics.js';
import { leaseIntervalMaxMs, parseLeaseConfig } from '../protocol/lease.js';
import { layout, resolveDataDir, resolveOptions, type AgentConfig, type AgentOptions, type Layout } from './config.js';
import { checkDesired, loadDesired, saveDesired } from './desired.js';
import { applyDelta, isDelta } from './desired-delta.js';
import { agentCgroupName, detectCgroups } from './cgroups/detect.js';
import { DriverSet } from './drivers/registry.js';
import type { ContainerDriver } from './drivers/container/driver.js';
import { allocatableOf, onlineStatus, readFacts, type LimitsSupport } from './facts.js';
import { CertRenewer } from './certs.js';
import { deleteCredential, join, loadCredential, readTokenFile, saveCredential } from './join.js';
import { claimDataDir, releaseDataDir } from './lock.js';
import { loadNodeTls, saveNodeTls, type NodeTls } from './tls.js';
import { consoleLogger, scoped, type Logger } from './log.js';
import { MetricsSampler } from './metrics.js';
import type { RestartEvent } from './pods/container.js';
import { PodManager } from './pods/manager.js';
import type { PodContext } from './pods/pod.js';
import { setupPodNetwork, type PodNetworkSetup } from './net/podnet.js';
import type { BalancerEngine } from './proxy/balancer.js';
import { secretBase } from './volumes/tmpfs.js';
import { ServiceProxy } from './proxy/proxy.js';
import { ServiceCache } from './services-cache.js';
import { ServiceAnnouncer } from './discovery/announcer.js';
import { chooseMaster, saveStoredMaster } from './discovery/choice.js';
import { nodeHostName } from '../protocol/mdns.js';
import { PodReporter } from './reporter.js';
import { LogKeeper } from './logs/keeper.js';
import { podLogDir } from './pods/pod.js';
import { RpcServer } from './rpc/server.js';
import { Session } from './session.js';
import { UpgradeReceiver } from './upgrade/receiver.js';
import { LEASE_QOS, METRICS_QOS, TelemetryPacer } from './telemetry.js';
import { readUpgradeState, upgradeCondition, upgradePaths } from './upgrade/state.js';

/** What `stop` takes. */
export interface StopOptions {
  /**
   * Stop the pods too (default true) and mark the node offline. false is what SIGTERM does (an agent restart or
   * upgrade, docs/lifecycle.md): the pods keep running, the node is not marked offline (the master notices a
   * lasting absence through the lease), and the next agent run adopts them.
   */
  stopPods?: boolean;
}

/** The events an Agent emits, with their arguments (`agent.on('desired', (generation) => ...)` is typed). */
export interface AgentEvents {
  connected: [];
  disconnected: [];
  /** The node name it joined as. */
  joined: [node: string];
  /** Why the broker refused its credentials. */
  authRefused: [message: string];
  /** The desired generation it applied. */
  desired: [generation: number];
  /** A pod's status, on each change. */
  podStatus: [report: PodReport];
  podGone: [uid: string];
  restart: [event: RestartEvent & { uid: string }];
  /** The node certificate was renewed. */
  certRenewed: [cert: { serial: string; validTo: string }];
  /** A fleet upgrade staged a new bundle: the process should stop and restart into it (upgrade/receiver.ts). */
  restartRequested: [];
}

/** A running agent; its events are AgentEvents. */
export class Agent extends EventEmitter<AgentEvents> {
  readonly name: string;
  readonly dataDir: string;
  /** The desired generation applied (from the cache or the master); -1 when none. */
  generation = -1;
  /** The desired set applied (from the cache or the master): what a delta is merged into. */
  private held: DesiredMessage | undefined;
  /** This connection asked the master for deltas (it does so once its master said it sends them). */
  private askedDeltas = false;
  /** The cached set (not applied yet at the first connect) came from a master that sends deltas. */
  private cachedDeltas = false;
  /** True once a desired set from the master (not the cache) has been applied. */
  fromMaster = false;
  /** The bundle this agent runs from, if any (upgrades replace it). */
  private readonly bundle?: string;
  private readonly cfg: AgentConfig;
  private readonly paths: Layout;
  private readonly log: Logger;
  private readonly pods: PodManager;
  /** What every pod shares; `secretBase` and `cgroups` are filled at start (volumes/tmpfs.ts, cgroups/detect.ts). */
  private readonly podContext: PodContext;
  /** The container runtime this node advertises (`podman://4.3.1`), once an engine answered. */
  containerRuntime?: string;
  /** How container pods get their network (settled in `start`). */
  podNetwork?: PodNetworkSetup;
  private readonly reporter: PodReporter;
  private readonly rpc: RpcServer;
  private readonly session: Session;
  private readonly metrics: MetricsSampler;
  private readonly renewer: CertRenewer;
  /** Dates and bounds the running containers' logs. */
  private readonly logKeeper: LogKeeper;
  /** When to lease and which metrics to send (telemetry.ts). */
  private readonly pacer: TelemetryPacer;
  /** The service proxy (kube-proxy's role); undefined with `proxy: false`. */
  readonly proxy?: ServiceProxy;
  /** The retained service messages on disk, for the proxy after an offline reboot. */
  private readonly serviceCache: ServiceCache;
  /** The mDNS instance name of a master found on the LAN (kept in DATA/master.json with its URL). */
  discoveredAs?: string;
  /** The balancer engine the proxy runs, once loaded (start); undefined without a proxy. */
  balancer?: BalancerEngine;
  /** Whether pod limits are enforced here, decided at start (the ResourceLimits node condition). */
  limits?: LimitsSupport;
  /** The runtimes this node has (process, wasi, container), made at start. */
  readonly drivers = new DriverSet();
  /** Announces this node's share of the Services on the LAN (mDNS); undefined with `mdns: false` or a loopback address. */
  readonly announcer?: ServiceAnnouncer;
  private timers: NodeJS.Timeout[] = [];
  /** The next look at whether a lease is due (leaseLoop). */
  private leaseTimer?: NodeJS.Timeout;
  private desiredQueue: Promise<void> = Promise.resolve();
  private fellBack = false;
  /** The join token given as a value (--token, SKIFF_JOIN_TOKEN); dropped once the credential is stored. */
  private joinToken?: string;
  private subscribed = false;
  private stopped = false;
  private claimed = false;
  /** What happened since the connection was lost (or since a start from the cache), reported on reconnect. */
  private offline?: { since: number; startedFromCache: number; restarts: Map<string, number> };

  constructor(options: AgentOptions) {
    super();
    this.cfg = resolveOptions(options);
    this.joinToken = options.token;
    this.name = this.cfg.name;
    this.dataDir = this.cfg.dataDir;
    this.paths = layout(this.cfg.dataDir);
    this.log = this.cfg.logger;
    const alloc = allocatableOf(readFacts());
    this.podContext = {
        nodeName: this.name,
        hostIP: this.cfg.address,
        allocatable: { cpuMilli: cpuMilli(alloc.cpu) ?? 0, memoryBytes: bytes(alloc.memory) ?? 0 },
        crashLoop: this.cfg.crashLoop,
        drivers: this.drivers,
        podsDir: this.paths.pods,
        logsDir: this.paths.logs,
        onChange: (uid) => this.podChanged(uid),
        onRestart: (uid, e) => this.podRestarted(uid, e),
        log: scoped(this.log, 'pods'),
        onEvent: (e) => this.reporter.event(e),
        pullBackoff: this.cfg.imagePullBackoff,
    };
    this.pods = new PodManager(
      this.podContext,
      (uid) => {
        this.reporter.stopped(uid);
        this.emit('podGone', uid);
      },
      scoped(this.log, 'pods'),
    );
    this.reporter = new PodReporter(
      this.cfg.reportDebounceMs,
      (uid) => this.reportOf(uid),
      () => this.pods.reports(),
      () => (this.generation >= 0 ? this.generation : undefined),
      (m) => this.session.publish(topics.nodePods(this.name), encode(m), 1),
    );
    this.bundle = options.bundle;
    const upgrade = new UpgradeReceiver(this.bundle, () => this.emit('restartRequested'), scoped(this.log, 'upgrade'));
    this.rpc = new RpcServer(
      { pods: this.pods, logsDir: this.paths.logs, drivers: this.drivers, volumeDir: this.cfg.volumeDir },
      (id, payload) => this.session.publish(topics.nodeRpcRes(this.name, id), payload, 1),
      scoped(this.log, 'rpc'),
      upgrade,
    );
    this.session = new Session({
      url: this.cfg.master,
      clientId: `skiff-agent-${this.name}`,
      username: this.name,
      keepaliveSeconds: this.cfg.keepaliveSeconds,
      will: { topic: topics.nodeStatus(this.name), payload: encode({ node: this.name, online: false } satisfies NodeStatusMessage) },
      reconnect: this.cfg.reconnect,
      log: scoped(this.log, 'mqtt'),
    });
    this.metrics = new MetricsSampler(this.pods);
    this.renewer = new CertRenewer({
      node: this.name,
      files: this.paths.tls,
      publish: (topic, payload) => this.session.publish(topic, payload, 1),
      renewed: (tls, cert) => {
        this.session.setTls(tls);
        this.session.reconnect();
        this.emit('certRenewed', { serial: cert.serialNumber, validTo: cert.validTo });
      },
      log: scoped(this.log, 'certs'),
    });
    this.logKeeper = new LogKeeper(
      () => this.pods.all().flatMap((r) => r.allContainers().filter((c) => c.state.running).map((c) => ({ dir: path.join(podLogDir(this.paths.logs, r.pod), c.name), attempt: c.restartCount }))),
      { maxBytes: this.cfg.containerLogMaxBytes, maxFiles: this.cfg.containerLogMaxFiles, sampleMs: this.cfg.logSampleMs },
      scoped(this.log, 'logs'),
    );
    this.pacer = new TelemetryPacer(this.cfg.leaseIntervalMs, os.cpus().length || 1, this.cfg.metricsIntervalMs);
    if (options.proxy !== false) this.proxy = new ServiceProxy(options.proxy ?? {}, scoped(this.log, 'proxy'));
    this.serviceCache = new ServiceCache(this.paths.services, scoped(this.log, 'services'));
    if (this.cfg.mdns) this.announcer = new ServiceAnnouncer(this.name, { host: nodeHostName(this.name), interfaceAddress: this.cfg.address }, scoped(this.log, 'mdns'));
  }

  /** True while connected to the master and subscribed to the node's topics. */
  get connected(): boolean {
    return this.subscribed && this.session.connected;
  }

  /** Every pod's current report. */
  podReports(): PodReport[] {
    return this.pods.reports();
  }

  /** One pod's current report by uid. */
  reportOf(uid: string): PodReport | undefined {
    const r = this.pods.get(uid);
    return r && { namespace: r.namespace, name: r.name, uid, status: r.status() };
  }

  /**
   * The data dir and its parts. DATA and DATA/pods are 0711: pods that run as another user (runAsUser) pass through
   * to their own volumes, nobody lists them; every file the agent keeps there is 0600 (the credential, the cache of
   * desired pods with their Secrets, pid files with resolved command lines) and the logs dir is 0700. Secret volumes
   * go to tmpfs when the OS has one.
   */
  private async makeDirs(): Promise<void> {
    for (const [dir, mode] of [[this.cfg.dataDir, 0o711], [this.paths.pods, 0o711], [this.paths.logs, 0o700]] as const) {
      await fs.promises.mkdir(dir, { recursive: true, mode });
      await fs.promises.chmod(dir, mode);
    }
    const base = secretBase(this.cfg.dataDir);
    if ('why' in base) this.log.warn(`secret volumes stay on disk under ${this.paths.pods} (0700 directories, 0600 files): ${base.why}`);
    else this.podContext.secretBase = base.dir;
  }

  /** Starts: see the file comment for the order. Rejects when the join fails; nothing keeps running then. */
  async start(): Promise<void> {
    await this.makeDirs();
    claimDataDir(this.cfg.dataDir);
    this.claimed = true;
    this.setUpLimits();
    await this.drivers.load({ dataDir: this.cfg.dataDir, log: scoped(this.log, 'drivers'), node: this.name, ...(this.cfg.containerEndpoint !== undefined ? { containerEndpoint: this.cfg.containerEndpoint } : {}), ...(this.cfg.wasiNode ? { wasiNode: [...this.cfg.wasiNode] } : {}) });
    await this.setUpPodNetwork();
    const cached = await this.loadCache();
    this.cachedDeltas = cached?.deltas === true;
    // Services as last known: a board rebooted offline proxies them again; a reconnect corrects them.
    for (const [ns, name, payload] of await this.serviceCache.load()) {
      void this.proxy?.handle(ns, name, payload);
      this.podNetwork?.names?.handle(ns, name, payload);
    }
    let credential = await loadCredential(this.paths.credential);
    if (!credential) {
      try {
        const token = await this.token();
        if (!token) throw new Error(`no credential in ${this.paths.credential} and no join token: run skiff-agent join with --token-file FILE (or SKIFF_JOIN_TOKEN)`);
        credential = await this.join(token);
      } catch (err) {
        await this.stop({ stopPods: true });
        throw err;
      }
    }
    try {
      await this.useTls();
    } catch (err) {
      await this.stop({ stopPods: true });
      throw err;
    }
    // Before the first status: it says which balancer engine the proxy runs.
    this.balancer = await this.proxy?.engine;
    this.wireSession();
    this.session.start(credential);
    this.leaseTimer = setTimeout(() => this.leaseLoop(), this.cfg.leaseIntervalMs);
    this.timers.push(setInterval(() => this.sampleMetrics(), this.cfg.metricsIntervalMs));
    this.metrics.sample(); // the first sample is the baseline for cpu rates
    this.logKeeper.start();
    if (cached) await this.startFromCache(cached);
  }

  /**
   * With a container engine: the pod network (skiff0 and the cluster DNS for a bridge network). Before any pod or
   * service: both depend on it.
   */
  private async setUpPodNetwork(): Promise<void> {
    const c = this.drivers.get('container') as ContainerDriver | undefined;
    if (!c) return;
    this.containerRuntime = c.runtime;
    const mode = this.cfg.podNetwork;
    this.podNetwork =
      mode === 'bridge' && !this.cfg.podServices
        ? { network: { mode: 'bridge' } }
        : await setupPodNetwork({ mode, range: this.cfg.podServiceRange, log: scoped(this.log, 'podnet') });
    this.podContext.podNetwork = this.podNetwork.network;
    if (this.podNetwork.network.serviceRange) this.proxy?.servePodServices(this.podNetwork.network.serviceRange);
  }

  /**
   * Detects cgroups once: pods get per-container limits in `skiff/agent-<data dir hash>/<uid>/<container>`,
   * or run unlimited and the node says why (ResourceLimits=False with the fix).
   */
  private setUpLimits(): void {
    if (this.cfg.cgroups === false) {
      this.limits = { ok: false, reason: 'Disabled', message: 'resource limits are turned off for this agent: pods run unlimited' };
    } else {
      const found = detectCgroups({ podsCpuMilli: this.podContext.allocatable.cpuMilli, ...this.cfg.cgroups, name: agentCgroupName(this.cfg.dataDir), ...(this.cfg.podPidsLimit !== undefined ? { podPidsLimit: this.cfg.podPidsLimit } : {}) });
      this.limits = found.ok ? { ok: true, reason: `Cgroup${found.cgroups.version.toUpperCase()}`, message: found.message } : { ok: false, reason: found.reason, message: found.message };
      if (found.ok) this.podContext.cgroups = found.cgroups;
    }
    if (this.limits.ok) this.log.info(`resource limits: ${this.limits.message}`);
    else this.log.warn(`resource limits: ${this.limits.message}`);
  }

  /** Reads the cached desired set. */
  private async loadCache(): Promise<DesiredMessage | undefined> {
    try {
      return await loadDesired(this.paths.desired);
    } catch (err) {
      this.log.error(`desired cache unreadable, ignored: ${(err as Error).message}`);
      return undefined;
    }
  }

  /**
   * Connect first, then the cache: the master's desired set wins if it arrives within `cacheWaitMs`, so a
   * board that comes back never starts pods that were evicted and replaced while it was away; otherwise the
   * cached pods start (offline autonomy), and a later desired set converges them as usual.
   */
  private async startFromCache(cached: DesiredMessage): Promise<void> {
    const fromMaster = await new Promise<boolean>((resolve) => {
      const arrived = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.off('desired', arrived);
        resolve(false);
      }, this.cfg.cacheWaitMs);
      this.once('desired', arrived);
    });
    if (fromMaster) {
      this.log.info(`the master's desired set arrived within ${this.cfg.cacheWaitMs} ms; cached generation ${cached.generation} not used`);
      return;
    }
    // Through the desired queue, so a set from the master that is being applied right now is not undone.
    this.desiredQueue = this.desiredQueue.then(() => {
      if (this.stopped || this.generation >= 0) return;
      this.log.info(`starting ${cached.pods.length} pod(s) of cached generation ${cached.generation}: no desired set from the master within ${this.cfg.cacheWaitMs} ms`);
      this.generation = cached.generation;
      this.held = cached;
      this.pods.apply(cached);
      if (cached.pods.length) this.offline = { since: Date.now(), startedFromCache: cached.pods.length, restarts: new Map() };
    });
    await this.desiredQueue;
  }

  /** The join token: the value given (until the credential is stored), else the token file's content now. */
  private async token(): Promise<string | undefined> {
    if (this.joinToken) return this.joinToken;
    return this.cfg.tokenFile ? readTokenFile(this.cfg.tokenFile) : undefined;
  }

  /** Loads the CA, key and certificate for the session (mqtts:// only) and schedules the certificate's renewal. */
  private async useTls(): Promise<void> {
    if (!this.cfg.master.startsWith('mqtts:')) return;
    const t = await loadNodeTls(this.paths.tls);
    if (!t.ca || !t.key || !t.cert)
      throw new Error(`${this.cfg.master} is TLS but this node has no ${!t.ca ? 'cluster CA' : 'node certificate'} in ${this.dataDir} (it joined over plain MQTT, or before TLS): delete ${this.paths.credential} and join again with the join token`);
    const tls: NodeTls = { ca: t.ca, key: t.key, cert: t.cert };
    this.session.setTls(tls);
    this.renewer.arm(tls);
  }

  private async join(token: string): Promise<string> {
    this.log.info(`joining ${this.cfg.master} as node "${this.name}"`);
    const { credential, tls } = await join(this.cfg, token, this.cfg.discovered);
    if (tls) await saveNodeTls(this.paths.tls, tls);
    await saveCredential(this.paths.credential, credential);
    // The token is not needed while the credential works: drop the reference (a --token-file is read again on a re-join).
    this.joinToken = undefined;
    if (this.cfg.discovered) await saveStoredMaster(this.paths.master, { url: this.cfg.master, ...(this.discoveredAs ? { instance: this.discoveredAs } : {}) });
    this.log.info(`joined; credential stored in ${this.paths.credential}`);
    this.emit('joined', this.name);
    return credential;
  }

  private wireSession(): void {
    this.session.on('connect', () => void this.onConnect());
    this.session.on('offline', () => {
      this.subscribed = false;
      this.offline ??= { since: Date.now(), startedFromCache: 0, restarts: new Map() };
      this.log.warn(`lost the connection to ${this.cfg.master}; pods keep running, reconnecting`);
      this.emit('disconnected');
    });
    this.session.on('message', (topic: string, payload: Buffer) => this.onMessage(topic, payload));
    this.session.on('authRefused', (message: string) => void this.onAuthRefused(message));
  }

  /** Publishes the node status again (retained): after a change the master must see, such as an upgrade's commit. */
  refreshStatus(): void {
    const upgraded = this.bundle ? upgradeCondition(readUpgradeState(upgradePaths(this.bundle))) : undefined;
    this.session.publish(topics.nodeStatus(this.name), encode(onlineStatus(this.cfg, this.drivers.names, this.balancer, this.limits, upgraded ? [upgraded] : [], this.containerRuntime)), 1, true);
  }

  private async onConnect(): Promise<void> {
    this.refreshStatus();
    // Separately, so a refused rpc subscription (SUBACK 128) does not cost the desired set.
    this.proxy?.beginResync();
    this.announcer?.beginResync();
    this.serviceCache.beginResync();
    const serviceTopics = this.proxy || this.announcer || this.podNetwork?.names ? [topics.service('+', '+')] : [];
    await Promise.all(
      [topics.nodeDesired(this.name), topics.nodeRpcReq(this.name, '+'), topics.nodeCert(this.name), topics.leaseConfig, ...serviceTopics].map((topic) => this.session.subscribe([topic]).catch((err: Error) => this.log.warn(`subscribe ${topic}: ${err.message}`))),
    );
    // Retained service messages arrive right after the subscription; services none confirmed were deleted meanwhile.
    if (this.proxy || this.announcer) this.timers.push(setTimeout(() => void Promise.all([this.proxy?.endResync(), this.announcer?.endResync(), this.serviceCache.endResync()]), 2000).unref());
    // Every connect to a master that sends deltas: the full set, then deltas on top of it.
    this.askedDeltas = false;
    // The cache counts too: its master no longer keeps a retained set, and the cache waits for the master's.
    if (this.held?.deltas || this.cachedDeltas) this.resync();
    this.pacer.reconnected();
    if (this.reporter.full(this.offlineReport())) this.offline = undefined;
    this.lease(true);
    this.renewer.connected();
    this.subscribed = this.session.connected;
    if (this.subscribed) this.emit('connected');
  }

  private async onAuthRefused(message: string): Promise<void> {
    // Once, and decided before any await: refusals come in bursts (every queued reconnect is refused).
    if (!this.fellBack && (this.joinToken || this.cfg.tokenFile)) {
      this.fellBack = true;
      this.log.warn(`the master refused this node's credential (${message}): the node may have been deleted; joining again with the join token`);
      this.session.pause();
      try {
        const token = await this.token();
        if (!token) throw new Error('no join token');
        await deleteCredential(this.paths.credential);
        const credential = await this.join(token);
        await this.useTls();
        this.session.restart(credential);
      } catch (err) {
        this.log.error(`re-join failed: ${(err as Error).message}; run skiff-agent join with a valid --token-file`);
        this.emit('authRefused', message);
      }
      return;
    }
    this.log.error(
      `the master refused this node's credential (${message}). The node may have been deleted from the cluster: ` +
        `to join again, delete ${this.paths.credential} and run skiff-agent join with --token-file FILE (a --token-file is read again by itself; a token given as a value is forgotten once joined). Pods keep running; retrying.`,
    );
    this.emit('authRefused', message);
  }

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (t?.type === 'nodeDesired' && t.node === this.name) this.onDesired(payload);
    else if (t?.type === 'nodeRpcReq' && t.node === this.name) this.rpc.handle(t.id, payload);
    else if (t?.type === 'nodeCert' && t.node === this.name) void this.renewer.onAnswer(payload);
    else if (t?.type === 'leaseConfig') this.onLeaseConfig(payload);
    else if (t?.type === 'service' && (this.proxy || this.announcer || this.podNetwork?.names)) {
      this.podNetwork?.names?.handle(t.namespace, t.name, payload);
      void this.proxy?.handle(t.namespace, t.name, payload);
      void this.announcer?.handle(t.namespace, t.name, payload);
      this.serviceCache.set(t.namespace, t.name, payload);
    }
    else this.log.debug(`ignored a message on ${topic}`);
  }

  private onDesired(payload: Buffer): void {
    if (payload.length === 0) {
      this.log.debug('desired: empty retained message: no desired set yet');
      return;
    }
    let value: unknown;
    try {
      value = decodeObject(payload).value;
    } catch (err) {
      this.log.warn(`desired: dropped a payload of ${payload.length} bytes: ${(err as Error).message}`);
      return;
    }
    // One at a time, in arrival order: the cache write of generation n finishes before n+1 is looked at, and a
    // delta is merged into the set the one before it left.
    this.desiredQueue = this.desiredQueue.then(() => this.takeDesired(value, payload.length)).catch((err) => this.log.error(`desired: ${(err as Error).message}`));
  }

  /** A full set is checked and applied; a delta is merged into the held set, or the full set is asked for. */
  private async takeDesired(value: unknown, bytes: number): Promise<void> {
    if (this.stopped) return;
    const checked = isDelta(value) ? applyDelta(this.held, value) : checkDesired(value);
    if (checked.ok) {
      await this.applyDesired(checked.desired);
      // A master that sends deltas says so in its full sets: ask it once per connection (an older master's broker
      // would refuse the resync topic).
      if (checked.desired.deltas && !this.askedDeltas) this.resync();
      return;
    }
    if ('resync' in checked && checked.resync) {
      this.log.info(`desired: ${checked.reason}: asking for the full set`);
      this.resync();
      return;
    }
    this.log.warn(`desired: dropped a payload of ${bytes} bytes: ${'error' in checked ? checked.error : ''}`);
  }

  /** Asks the master for the full desired set (it then sends deltas on top of it). */
  private resync(): void {
    this.askedDeltas = true;
    this.session.publish(topics.nodeResync(this.name), encode({ generation: this.generation } satisfies DesiredResync), 1);
  }

  private async applyDesired(desired: DesiredMessage): Promise<void> {
    if (this.stopped) return;
    if (desired.generation < this.generation) {
      this.log.info(`desired: ignored generation ${desired.generation}, older than the applied ${this.generation}`);
      return;
    }
    // Pods first, the cache write after: a pod's start does not wait for an fsync. The queue still keeps
    // generation n's write ahead of n+1's, and a crash before it lands only leaves the previous cache (the
    // master's set wins over it within cacheWaitMs at the next start anyway).
    this.generation = desired.generation;
    this.held = desired;
    this.fromMaster = true;
    this.pacer.changed();
    this.pods.apply(desired);
    this.emit('desired', desired.generation);
    await saveDesired(this.paths.desired, desired);
  }

  private podChanged(uid: string): void {
    this.pacer.changed();
    this.reporter.changed(uid);
    const r = this.reportOf(uid);
    if (r) this.emit('podStatus', r);
  }

  private offlineReport(): OfflineReport | undefined {
    const o = this.offline;
    if (!o) return undefined;
    const restarts = [...o.restarts].flatMap(([uid, count]) => {
      const r = this.pods.get(uid);
      return r ? [{ namespace: r.namespace, name: r.name, uid, count }] : [];
    });
    this.log.info(`back after ${((Date.now() - o.since) / 1000).toFixed(1)} s offline: ${restarts.reduce((n, r) => n + r.count, 0)} container restart(s), ${o.startedFromCache} pod(s) started from the cache`);
    return { forMs: Date.now() - o.since, startedFromCache: o.startedFromCache, restarts };
  }

  private podRestarted(uid: string, e: RestartEvent): void {
    if (this.offline && !this.connected) this.offline.restarts.set(uid, (this.offline.restarts.get(uid) ?? 0) + 1);
    this.log.info(`pod ${uid}: container ${e.container} restarted (restartCount ${e.restartCount}, ${e.delayMs ? `after ${e.delayMs} ms back-off` : `${e.latencyMs} ms after its exit`})`);
    this.emit('restart', { uid, ...e });
  }

  /** A lease, unless another message proved liveness within the lease period (telemetry.ts). */
  private lease(force = false): void {
    this.pacer.published(this.session.lastPublishAt);
    if (!force && !this.pacer.leaseDue()) return;
    // intervalMs: the master scales this node's grace with the interval it follows (protocol/lease.ts).
    const m: LeaseMessage = { ...(this.generation >= 0 ? { generation: this.generation } : {}), intervalMs: this.pacer.intervalMs() };
    this.session.publish(topics.nodeLease(this.name), encode(m), LEASE_QOS);
  }

  /** Leases when due, then waits until the next one may be (a jittered period, telemetry.ts). */
  private leaseLoop(): void {
    clearTimeout(this.leaseTimer);
    if (this.stopped) return;
    this.lease();
    this.pacer.published(this.session.lastPublishAt); // the lease just sent, if it went
    // Still due after trying: not connected (nothing went out); look again after the agent's own interval.
    const wait = this.pacer.leaseInMs();
    this.leaseTimer = setTimeout(() => this.leaseLoop(), wait > 0 ? Math.min(Math.max(50, wait), leaseIntervalMaxMs) : this.cfg.leaseIntervalMs);
  }

  /** The master's lease interval (`cluster/lease`): followed when valid, else ignored with a line naming the field. */
  private onLeaseConfig(payload: Buffer): void {
    const c = parseLeaseConfig(payload);
    if ('error' in c) {
      this.log.warn(`ignored the master's lease interval: ${c.error}; leasing every ${this.pacer.intervalMs()} ms`);
      return;
    }
    const before = this.pacer.intervalMs();
    this.pacer.follow(c.intervalMs);
    if (this.pacer.intervalMs() !== before) this.log.info(`leasing every ${this.pacer.intervalMs()} ms (the master assigned ${c.intervalMs} ms; --lease-interval ${this.cfg.leaseIntervalMs} ms)`);
    this.leaseLoop(); // a shorter interval takes effect now
  }

  private sampleMetrics(): void {
    try {
      const m = this.pacer.metrics(this.metrics.sample());
      if (m) this.session.publish(topics.nodeMetrics(this.name), encode({ ...m, ...(this.balancer ? { balancer: this.balancer.impl } : {}) }), METRICS_QOS);
    } catch (err) {
      this.log.warn(`metrics: ${(err as Error).message}`);
    }
  }

  /**
   * Stops the agent; idempotent (a second call waits for the first). With `stopPods` (the default) its pods
   * stop with their grace periods and the node is marked offline; without, see StopOptions.
   */
  stop(opts: StopOptions = {}): Promise<void> {
    this.stopping ??= this.shutdown(opts.stopPods ?? true);
    return this.stopping;
  }

  private stopping?: Promise<void>;

  private async shutdown(stopPods: boolean): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.leaseTimer);
    this.renewer.stop();
    this.logKeeper.stop();
    this.rpc.close();
    this.reporter.close();
    await this.desiredQueue;
    await this.announcer?.close(); // goodbyes first: browsers forget this node's instances before its NodePorts close
    await this.proxy?.close();
    await this.serviceCache.flush();
    await this.pods.shutdown(stopPods);
    // Every pod stopped: nothing of this agent is left in memory-backed storage (its base only when empty).
    if (stopPods && this.podContext.secretBase) await fs.promises.rmdir(this.podContext.secretBase).catch(() => undefined);
    await this.podNetwork?.dns?.close();
    if (stopPods) this.podContext.cgroups?.dispose();
    // A clean DISCONNECT either way, so the broker drops the Will.
    await this.session.stop(stopPods ? { topic: topics.nodeStatus(this.name), payload: encode({ node: this.name, online: false, ts: Date.now() } satisfies NodeStatusMessage) } : undefined);
    if (this.claimed) releaseDataDir(this.cfg.dataDir);
  }
}

/** Starts an agent (see Agent.start); resolves once the master's or the cached desired set is applied (or there is none) and the session is up or retrying. */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  let instance: string | undefined;
  if (options.master === undefined) {
    const storedFile = layout(resolveDataDir(options.dataDir)).master;
    const found = await chooseMaster({ storedFile, timeoutMs: options.discoveryTimeoutMs, interfaceAddress: options.address }, options.logger ?? consoleLogger());
    options = { ...options, master: found.url, discovered: true };
    instance = found.instance;
  }
  const agent = new Agent(options);
  agent.discoveredAs = instance;
  await agent.start();
  return agent;
}
