/**
 * The master's configuration: defaults and rules in one place, checked once at start-up, then frozen.
 * Defaults beside Kubernetes' (see docs/): the node monitor grace is 10 s (Kubernetes: 40–50 s) and
 * the eviction toleration 30 s (Kubernetes: 300 s), because an edge cluster is small, its boards
 * fail outright more often than they pause, and a greenhouse wants its pods back in seconds.
 */
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import cron from 'node-cron';
import { Checker, SkiffError, defaultMaxReplicas, leaseIntervalMaxMs, leaseIntervalMinMs, logLevels, replicasCeiling, type LogLevel } from '../protocol/index.js';
import type { LogFormat } from './log.js';
import { parseStoreUrl, type EtcdFlags } from './store/location.js';
import { defaultSchedulerSettings, loadSchedulerConfig, type SchedulerSettings } from './scheduler/config.js';
import type { Rate } from './ratelimit.js';
import { isSan } from './tls/server.js';

/** Everything the master can be told. */
export interface MasterConfig {
  /** Where the store, tokens and client config live. */
  dataDir: string;
  /**
   * Plain MQTT listener (TCP), on loopback only unless `insecureListen` (docs/security.md). 0 picks a free port
   * (tests); -1 disables it.
   */
  mqttPort: number;
  /** The address the LAN-facing listeners (MQTT over TLS, HTTPS; plain MQTT with `insecureListen`) bind (`--bind`). */
  mqttHost: string;
  /**
   * MQTT over TLS (`--mqtts-port`): 8883; 0 picks a free port; -1 disables it. Unset while `mqttPort` is 0 (an
   * embedded or test master), it is 0 too, so two such masters never collide on 8883.
   */
  mqttsPort: number;
  /** `--insecure-listen`: the plain MQTT port listens on `mqttHost` too, not only on loopback (logged as a warning). */
  insecureListen: boolean;
  /** `--tls-san`: more names or addresses for the server certificate. */
  tlsSans: string[];
  /** Lifetime of the node certificates the CA signs (`--node-cert-lifetime`); agents renew at 2/3 of it. 1 year. */
  nodeCertLifetimeMs: number;
  /** HTTPS listener for /healthz and /metrics (TLS with the server certificate); 0 picks a free port; -1 disables it. */
  httpPort: number;
  httpHost: string;
  /** A node without a lease for this long turns Ready=Unknown. 10 s. */
  nodeMonitorGraceMs: number;
  /** Leases per second the whole fleet may send: the interval assigned to agents grows with the fleet (docs/scale.md "Idle cost of leases"). 100; 0 = assign none. */
  maxLeasesPerSecond: number;
  /** The shortest lease interval assigned, ms. 2 s (the agents' default). */
  leaseIntervalMinMs: number;
  /** The longest lease interval assigned, ms. 10 s (the kubelet's node lease renew interval). */
  leaseIntervalMaxMs: number;
  /** Pods on an unreachable node are evicted after this long (their default toleration). 30 s. */
  podEvictionTimeoutMs: number;
  /** First retry delay of a Job after a pod failure, doubled per failure up to 6 min. 10 s, as Kubernetes. */
  jobBackoffBaseMs: number;
  /** How often each HorizontalPodAutoscaler is evaluated. 15 s, as Kubernetes' --horizontal-pod-autoscaler-sync-period. */
  hpaSyncPeriodMs: number;
  /**
   * The most pods one object may ask for: spec.replicas, a Job's parallelism and completions, an HPA's
   * maxReplicas, checked at apply and scale. 10,000: an edge master has one event loop and one disk.
   */
  maxReplicas: number;
  /** Creates and updates are refused while the data dir's disk has less free than this, so deletes still fit. 64 MiB. */
  minFreeBytes: number;
  /** A reserve file in the data dir, given up when a write fails for lack of space. 8 MiB. */
  diskReserveBytes: number;
  /** The scheduling engine: the WebAssembly build, or the TS reference twin. */
  engine: 'wasm' | 'reference';
  /** Log lines as text (the agent's shape) or JSON (`--log-format`). On stderr. */
  logFormat: LogFormat;
  /** The least severe level logged (`--log-level`). */
  logLevel: LogLevel;
  /** Tests: log errors only, whatever `logLevel` says. */
  quiet: boolean;
  /** Announce the MQTT listener on the LAN as `_skiff-master._tcp` (mDNS), unless bound to loopback. `--no-mdns` turns it off. */
  mdns: boolean;
  /** Where the state lives: '' = SQLite in the data dir; `sqlite:DIR`; `etcd://H:P,.../ROOT` or `etcds://` (master/store/location.ts). */
  store: string;
  /** etcd TLS and auth (--etcd-cafile, --etcd-certfile, --etcd-keyfile, --etcd-username, --etcd-password). */
  etcd: EtcdFlags;
  /** A cron expression for scheduled backups ('' = none), e.g. "0 3 * * *". */
  backupSchedule: string;
  /** Where scheduled backups go; '' = DATA_DIR/backups. */
  backupDir: string;
  /** How many scheduled backups to keep. 7. */
  backupKeep: number;
  /** `--scheduler-config FILE`: a KubeSchedulerConfiguration (docs/scheduler.md), read and checked by resolveConfig. */
  schedulerConfig?: string;
  /** The scheduler's scoring settings: from `schedulerConfig` when given, else kube-scheduler's defaults. */
  scheduler: Readonly<SchedulerSettings>;
  /** Joins accepted from one source address: bursts of 30, then 30 a minute (`--join-rate`). */
  joinRatePerSource: Rate;
  /** Joins accepted in all, whatever the source: bursts of 300, then 300 a minute. */
  joinRate: Rate;
  /** How long an event is kept after it was last seen (`--event-ttl`). 1 h, as kube-apiserver's --event-ttl. */
  eventTtlMs: number;
  /** At most this many events are kept in memory; the least recently seen go first. 10,000. */
  maxEvents: number;
  /**
   * Changes per kind the informers keep for watches that start from a resourceVersion (Kubernetes' watch cache);
   * a watch from further back is refused as SKIFF_ERR_GONE and the client lists again. 4,096.
   */
  watchWindow: number;
  /** Serve the dashboard at `/` of the HTTP port (`--no-dashboard` turns it off; /metrics and /healthz stay). */
  dashboard: boolean;
  /** The Pod Security enforce level of namespaces without the label (`--pod-security-default`). baseline. */
  podSecurityDefault: 'privileged' | 'baseline' | 'restricted';
  /**
   * `--broker URL`: an external MQTT broker (Mosquitto with dynamic security) instead of the embedded one; '' =
   * embedded. Several masters need it (docs/ha.md). Parsed by master/external/url.ts.
   */
  broker: string;
  /** `--name`: this master's name, the holder of the leader Lease when it leads. Default: the hostname. */
  name: string;
  /** `--leader-lease`: the etcd lease of the leader election, in seconds; a killed leader is replaced within about this. 3 s. */
  leaderLeaseSeconds: number;
  /** `--upload-certs`: seal the cluster's shared files into the store for 2 h and print the certificate key (docs/ha.md). */
  uploadCerts: boolean;
  /** `--certificate-key KEY`: on an empty data dir, fetch the shared files another master uploaded; '' = none. */
  certificateKey: string;
  /** DATA/audit.log is rotated before it grows past this many bytes (`--audit-log-maxsize` MB). 10 MiB. */
  auditLogMaxBytes: number;
  /** Rotated audit logs kept (`--audit-log-maxbackup`). 5. */
  auditLogBackups: number;
}

/** The address the plain MQTT port listens on: loopback, unless `insecureListen` puts it on `mqttHost`. */
export function plainMqttHost(cfg: Pick<MasterConfig, 'mqttHost' | 'insecureListen'>): string {
  if (cfg.insecureListen) return cfg.mqttHost;
  return cfg.mqttHost.includes(':') ? '::1' : '127.0.0.1';
}

/** The default data dir: ~/.skiff/master. */
export const defaultDataDir = join(homedir(), '.skiff', 'master');

/** Defaults. */
export const defaults: Readonly<MasterConfig> = Object.freeze({
  dataDir: defaultDataDir,
  mqttPort: 1883,
  mqttHost: '0.0.0.0',
  mqttsPort: 8883,
  insecureListen: false,
  tlsSans: Object.freeze([]) as unknown as string[],
  nodeCertLifetimeMs: 365 * 86_400_000,
  httpPort: 8080,
  httpHost: '0.0.0.0',
  nodeMonitorGraceMs: 10_000,
  maxLeasesPerSecond: 100,
  leaseIntervalMinMs: 2_000,
  leaseIntervalMaxMs: 10_000,
  podEvictionTimeoutMs: 30_000,
  jobBackoffBaseMs: 10_000,
  hpaSyncPeriodMs: 15_000,
  maxReplicas: defaultMaxReplicas,
  minFreeBytes: 64 * 1024 * 1024,
  diskReserveBytes: 8 * 1024 * 1024,
  engine: 'wasm',
  logFormat: 'text',
  logLevel: 'info',
  quiet: false,
  mdns: true,
  store: '',
  etcd: {},
  backupSchedule: '',
  backupDir: '',
  backupKeep: 7,
  scheduler: defaultSchedulerSettings,
  joinRatePerSource: Object.freeze({ burst: 30, perMinute: 30 }),
  joinRate: Object.freeze({ burst: 300, perMinute: 300 }),
  eventTtlMs: 3_600_000,
  maxEvents: 10_000,
  watchWindow: 4096,
  dashboard: true,
  podSecurityDefault: 'baseline',
  auditLogMaxBytes: 10 * 1024 * 1024,
  auditLogBackups: 5,
  broker: '',
  name: '',
  leaderLeaseSeconds: 3,
  uploadCerts: false,
  certificateKey: '',
});

/** Merges options over defaults, checks them, and freezes the result. Throws SKIFF_ERR_VALIDATION. */
export function resolveConfig(opts: Partial<MasterConfig>): Readonly<MasterConfig> {
  const cfg: MasterConfig = { ...defaults, ...Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) };
  if (opts.mqttsPort === undefined && cfg.mqttPort === 0) cfg.mqttsPort = 0;
  const c = new Checker('master config');
  c.string(cfg.dataDir, 'dataDir', true);
  c.int(cfg.mqttPort, 'mqttPort', -1, 65535, true);
  c.int(cfg.mqttsPort, 'mqttsPort', -1, 65535, true);
  if (cfg.mqttPort < 0 && cfg.mqttsPort < 0) c.fail('mqttsPort', 'the plain and the TLS MQTT port cannot both be off (-1)', cfg.mqttsPort);
  if (typeof cfg.insecureListen !== 'boolean') c.fail('insecureListen', 'must be true or false', cfg.insecureListen);
  if (!Array.isArray(cfg.tlsSans)) c.fail('tlsSans', 'must be a list of DNS names or IP addresses', cfg.tlsSans);
  else for (const [i, san] of cfg.tlsSans.entries()) if (typeof san !== 'string' || !isSan(san)) c.fail(`tlsSans[${i}]`, 'must be a DNS name or an IP address', san);
  c.int(cfg.nodeCertLifetimeMs, 'nodeCertLifetimeMs', 5_000, 10 * 365 * 86_400_000, true);
  c.int(cfg.httpPort, 'httpPort', -1, 65535, true);
  if (cfg.httpPort > 0 && cfg.httpPort === cfg.mqttPort) c.fail('httpPort', 'must differ from mqttPort', cfg.httpPort);
  c.int(cfg.nodeMonitorGraceMs, 'nodeMonitorGraceMs', 100, 3_600_000, true);
  c.int(cfg.maxLeasesPerSecond, 'maxLeasesPerSecond', 0, 1_000_000, true);
  c.int(cfg.leaseIntervalMinMs, 'leaseIntervalMinMs', leaseIntervalMinMs, leaseIntervalMaxMs, true);
  c.int(cfg.leaseIntervalMaxMs, 'leaseIntervalMaxMs', leaseIntervalMinMs, leaseIntervalMaxMs, true);
  if (cfg.leaseIntervalMaxMs < cfg.leaseIntervalMinMs) c.fail('leaseIntervalMaxMs', `must be ≥ leaseIntervalMinMs (${cfg.leaseIntervalMinMs})`, cfg.leaseIntervalMaxMs);
  c.int(cfg.podEvictionTimeoutMs, 'podEvictionTimeoutMs', 0, 86_400_000, true);
  c.int(cfg.jobBackoffBaseMs, 'jobBackoffBaseMs', 0, 3_600_000, true);
  c.int(cfg.hpaSyncPeriodMs, 'hpaSyncPeriodMs', 100, 3_600_000, true);
  c.int(cfg.maxReplicas, 'maxReplicas', 1, replicasCeiling, true);
  c.int(cfg.minFreeBytes, 'minFreeBytes', 0, Number.MAX_SAFE_INTEGER, true);
  c.int(cfg.diskReserveBytes, 'diskReserveBytes', 0, Number.MAX_SAFE_INTEGER, true);
  c.oneOf(cfg.engine, 'engine', ['wasm', 'reference'], true);
  c.oneOf(cfg.logFormat, 'logFormat', ['text', 'json'], true);
  c.oneOf(cfg.logLevel, 'logLevel', logLevels, true);
  if (typeof cfg.mdns !== 'boolean') c.fail('mdns', 'must be true or false', cfg.mdns);
  c.string(cfg.store, 'store');
  if (cfg.store !== '') {
    try {
      parseStoreUrl(cfg.store, cfg.etcd);
    } catch (err) {
      if (!(err instanceof SkiffError)) throw err;
      c.fail('store', err.message.replace(/^--store: /, ''));
    }
  } else if (Object.values(cfg.etcd).some((v) => v !== undefined)) c.fail('etcd', 'the --etcd-* flags need --store etcds://... or etcd://...', undefined);
  c.string(cfg.broker, 'broker');
  if (cfg.broker !== '' && !/^mqtts?:\/\//.test(cfg.broker)) c.fail('broker', 'must be an mqtt:// or mqtts:// URL', cfg.broker.replace(/:[^:@/]*@/, ':***@'));
  c.string(cfg.name, 'name');
  if (cfg.name === '') cfg.name = hostname().toLowerCase().replace(/[^a-z0-9.-]/g, '-').slice(0, 63) || 'master';
  if (!/^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(cfg.name)) c.fail('name', 'must be a DNS name: lowercase letters, digits, "-" and ".", at most 63', cfg.name);
  c.int(cfg.leaderLeaseSeconds, 'leaderLeaseSeconds', 2, 3600, true);
  c.string(cfg.certificateKey, 'certificateKey');
  if (cfg.certificateKey !== '' && !/^[0-9a-f]{64}$/.test(cfg.certificateKey)) c.fail('certificateKey', 'must be 64 hexadecimal digits, as skiff master --upload-certs printed it');
  if ((cfg.uploadCerts || cfg.certificateKey !== '') && !/^etcds?:\/\//.test(cfg.store ?? '')) c.fail(cfg.uploadCerts ? 'uploadCerts' : 'certificateKey', 'needs an etcd store (--store etcd://...): the files go through the store several masters share');
  c.string(cfg.backupSchedule, 'backupSchedule');
  if (cfg.backupSchedule !== '' && !cron.validate(cfg.backupSchedule)) c.fail('backupSchedule', 'must be a cron expression such as "0 3 * * *"', cfg.backupSchedule);
  c.string(cfg.backupDir, 'backupDir');
  c.int(cfg.backupKeep, 'backupKeep', 1, 100_000, true);
  c.string(cfg.schedulerConfig, 'schedulerConfig');
  c.oneOf(cfg.podSecurityDefault, 'podSecurityDefault', ['privileged', 'baseline', 'restricted'], true);
  c.int(cfg.auditLogMaxBytes, 'auditLogMaxBytes', 4096, 2 ** 40, true);
  c.int(cfg.auditLogBackups, 'auditLogBackups', 0, 1000, true);
  for (const k of ['joinRatePerSource', 'joinRate'] as const)
    if (c.object(cfg[k], k, true)) {
      c.int(cfg[k].burst, `${k}.burst`, 1, 1_000_000, true);
      c.int(cfg[k].perMinute, `${k}.perMinute`, 0, 60_000_000, true);
    }
  c.int(cfg.eventTtlMs, 'eventTtlMs', 1000, 30 * 86_400_000, true);
  c.int(cfg.maxEvents, 'maxEvents', 10, 1_000_000, true);
  c.int(cfg.watchWindow, 'watchWindow', 1, 1_000_000, true);
  if (typeof cfg.dashboard !== 'boolean') c.fail('dashboard', 'must be true or false', cfg.dashboard);
  c.throwIfAny();
  if (cfg.schedulerConfig !== undefined) cfg.scheduler = loadSchedulerConfig(cfg.schedulerConfig);
  return Object.freeze(cfg);
}
