/**
 * `skiff master`: parses flags, starts the master, prints where things are, stops cleanly on
 * SIGINT/SIGTERM. `main(argv)` is called by bin/skiff.js with the arguments after `master`.
 */
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { SkiffError, bytes, configChain, durationFlag, logLevels, mergeContextInto, nodeDefaultV8Pool, readConfigFile, resolveContext, v8PoolFlag } from '../protocol/index.js';
import { defaultDataDir, resolveConfig, type MasterConfig } from './config.js';
import { etcdFlags, parseStoreUrl } from './store/location.js';
import { isSan } from './tls/server.js';
import { parseBrokerUrl } from './external/url.js';
import { startMaster } from './index.js';

const usage = `Usage: skiff master [flags]

Runs the Skiff control plane: an MQTT broker, the store, the scheduler and the controllers.

Flags:
  --data-dir DIR              store, tokens, the cluster CA (DIR/tls) and client config (default ${defaultDataDir})
  --mqtts-port PORT           MQTT over TLS, what agents and clients on the LAN use (default 8883; -1 disables)
  --mqtt-port PORT            plain MQTT, on loopback only (default 1883; -1 disables)
  --insecure-listen           plain MQTT on --bind too, not only on loopback: passwords cross the LAN in clear text
  --http-port PORT            HTTPS: the dashboard at /, /metrics, /healthz, MQTT over WebSocket at /mqtt
                              (default 8080; --http-port=-1 disables)
  --no-dashboard              do not serve the dashboard (/metrics, /healthz and /mqtt stay)
  --event-ttl DUR             how long an event is kept after it was last seen (default 1h)
  --bind ADDRESS              address the TLS listeners listen on (default 0.0.0.0)
  --tls-san NAME[,NAME...]    more DNS names or IP addresses for the server certificate (repeatable);
                              it always names the hostname, localhost, 127.0.0.1 and the addresses listened on
  --node-cert-lifetime DUR    lifetime of node certificates; agents renew at 2/3 of it (default 8760h = 1 year)
  --node-monitor-grace DUR    a node without heartbeat for DUR turns NotReady (default 10s); a node whose agent
                              follows an assigned lease interval gets at least 5 × that interval
  --max-leases-per-second N   the lease budget of the whole fleet: agents are told to lease every nodes/N seconds
                              (default 100; 0 = tell them nothing, each keeps its --lease-interval)
  --lease-interval-min DUR    the shortest lease interval assigned (default 2s)
  --lease-interval-max DUR    the longest lease interval assigned (default 10s, the kubelet's lease renew interval)
  --pod-eviction-timeout DUR  pods on an unreachable node move after DUR (default 30s)
  --max-replicas N            the most pods one object may ask for: replicas, a Job's parallelism and completions,
                              an autoscaler's maxReplicas (default 10000)
  --min-free SIZE             refuse creates and updates while the data dir's disk has less free (default 64Mi);
                              deletes still work, and start-up needs this much
  --disk-reserve SIZE         a reserve file in the data dir, given up when the disk fills so deletes go through (default 8Mi)
  --engine wasm|reference     scheduling engine (default wasm)
  --log-format text|json      log lines on stderr as text or JSON (default text)
  --log-level LEVEL           debug, info, warn or error (default info)
  --scheduler-config FILE     a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): NodeResourcesFit
                              scoringStrategy (LeastAllocated, MostAllocated, RequestedToCapacityRatio) and
                              score plugin weights; see docs/scheduler.md
  --no-mdns                   do not announce this master on the LAN (_skiff-master._tcp, for agents joining without --master)
  --store URL                 where the state lives (default: SQLite in the data dir):
                                sqlite:DIR, etcd://HOST:PORT,HOST:PORT[/ROOT], etcds://... (TLS);
                                ROOT (default /skiff) lets several clusters share one etcd
  --etcd-cafile FILE          CA of the etcd servers' certificates (etcds://)
  --etcd-certfile FILE        client certificate for etcd (with --etcd-keyfile)
  --etcd-keyfile FILE         its private key
  --etcd-username NAME        etcd user (or etcd://NAME:PASSWORD@HOST...)
  --etcd-password PASSWORD    its password
  --broker URL                an external MQTT broker instead of the embedded one (several masters need it):
                                mqtt://USER@HOST:PORT?password-file=FILE, mqtts://...&ca-file=CA.pem;
                                skiff broker-config mosquitto prints it (docs/ha.md)
  --name NAME                 this master's name, the leader Lease's holder (default: the hostname)
  --leader-lease DUR          the leader's etcd lease; a killed leader is replaced within about this (default 3s)
  --upload-certs              seal the files every master shares (tokens, cluster CA, Secrets encryption config) into
                              the etcd store for 2 h and print the certificate key other masters join with
  --certificate-key KEY       on an empty data dir: fetch those files from the store with the key --upload-certs
                              printed, then start as another master of the cluster (docs/ha.md)
  --backup-schedule CRON      take a backup on this schedule, e.g. "0 3 * * *" (docs/state.md)
  --backup-dir DIR            where scheduled backups go (default DATA_DIR/backups)
  --backup-keep N             keep the newest N scheduled backups (default 7)
  --join-rate N               joins accepted per minute from one address, in bursts of up to N (default 30;
                              the whole cluster accepts 10 × N)
  --pod-security-default LEVEL  Pod Security enforce level of namespaces without the
                              pod-security.kubernetes.io/enforce label: privileged, baseline or restricted
                              (default baseline; docs/security.md)
  --audit-log-maxsize MB      rotate DATA/audit.log at this size (default 10)
  --audit-log-maxbackup N     rotated audit logs kept (default 5)
  -h, --help                  this help
`;

function fail(message: string): never {
  throw new SkiffError('SKIFF_ERR_BAD_REQUEST', message);
}

function port(flag: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > 65535) fail(`--${flag}: must be a port number from ${min} to 65535, got "${v}"`);
  return n;
}

function oneOf<T extends string>(flag: string, v: string | undefined, values: readonly T[]): T | undefined {
  if (v !== undefined && !(values as readonly string[]).includes(v)) fail(`--${flag}: must be one of ${values.join(', ')}, got "${v}"`);
  return v as T | undefined;
}

function duration(flag: string, v: string | undefined): number | undefined {
  return v === undefined ? undefined : durationFlag(`--${flag}`, v);
}

/** `--join-rate N`: N a minute from one address (bursts of N), 10 × N in all. */
function joinRate(v: string | undefined): Pick<MasterConfig, 'joinRatePerSource' | 'joinRate'> | {} {
  if (v === undefined) return {};
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) fail(`--join-rate: must be a whole number of joins a minute from 1 to 100000, got "${v}"`);
  return { joinRatePerSource: { burst: n, perMinute: n }, joinRate: { burst: 10 * n, perMinute: 10 * n } };
}

function size(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = bytes(v);
  if (n === undefined) fail(`--${flag}: must be a size such as 64Mi, 1Gi or 500M, got "${v}"`);
  return n;
}

/** Parses `skiff master` flags into a partial config. */
export function parseMasterArgs(argv: string[]): Partial<MasterConfig> | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        'data-dir': { type: 'string' },
        'mqtt-port': { type: 'string' },
        'mqtts-port': { type: 'string' },
        'insecure-listen': { type: 'boolean' },
        'tls-san': { type: 'string', multiple: true },
        'node-cert-lifetime': { type: 'string' },
        'http-port': { type: 'string' },
        bind: { type: 'string' },
        'node-monitor-grace': { type: 'string' },
        'max-leases-per-second': { type: 'string' },
        'lease-interval-min': { type: 'string' },
        'lease-interval-max': { type: 'string' },
        'pod-eviction-timeout': { type: 'string' },
        engine: { type: 'string' },
        'log-format': { type: 'string' },
        'log-level': { type: 'string' },
        'scheduler-config': { type: 'string' },
        'max-replicas': { type: 'string' },
        'min-free': { type: 'string' },
        'disk-reserve': { type: 'string' },
        'no-mdns': { type: 'boolean' },
        'no-dashboard': { type: 'boolean' },
        'event-ttl': { type: 'string' },
        store: { type: 'string' },
        'etcd-cafile': { type: 'string' },
        'etcd-certfile': { type: 'string' },
        'etcd-keyfile': { type: 'string' },
        'etcd-username': { type: 'string' },
        'etcd-password': { type: 'string' },
        'backup-schedule': { type: 'string' },
        'backup-dir': { type: 'string' },
        'backup-keep': { type: 'string' },
        'join-rate': { type: 'string' },
        'pod-security-default': { type: 'string' },
        'audit-log-maxsize': { type: 'string' },
        'audit-log-maxbackup': { type: 'string' },
        broker: { type: 'string' },
        name: { type: 'string' },
        'leader-lease': { type: 'string' },
        'upload-certs': { type: 'boolean' },
        'certificate-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    });
  } catch (err) {
    fail(`skiff master: ${(err as Error).message}`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (v.engine !== undefined && v.engine !== 'wasm' && v.engine !== 'reference') fail(`--engine: must be wasm or reference, got "${v.engine}"`);
  const logFormat = oneOf('log-format', v['log-format'], ['text', 'json'] as const);
  const logLevel = oneOf('log-level', v['log-level'], logLevels);
  // Checked here too, so a bad URL is reported against the flag before anything starts.
  if (v.store !== undefined) parseStoreUrl(v.store, etcdFlags(v) ?? {});
  if (v.broker !== undefined) parseBrokerUrl(v.broker);
  const lease = duration('leader-lease', v['leader-lease']);
  return {
    broker: v.broker,
    name: v.name,
    leaderLeaseSeconds: lease === undefined ? undefined : Math.round(lease / 1000),
    uploadCerts: v['upload-certs'] ? true : undefined,
    certificateKey: v['certificate-key'],
    dataDir: v['data-dir'],
    mqttPort: v['mqtt-port'] === '-1' ? -1 : port('mqtt-port', v['mqtt-port']),
    mqttsPort: v['mqtts-port'] === '-1' ? -1 : port('mqtts-port', v['mqtts-port']),
    insecureListen: v['insecure-listen'] ? true : undefined,
    tlsSans: tlsSans(v['tls-san']),
    nodeCertLifetimeMs: duration('node-cert-lifetime', v['node-cert-lifetime']),
    httpPort: v['http-port'] === '-1' ? -1 : port('http-port', v['http-port']),
    mqttHost: v.bind,
    httpHost: v.bind,
    nodeMonitorGraceMs: duration('node-monitor-grace', v['node-monitor-grace']),
    maxLeasesPerSecond: v['max-leases-per-second'] === '0' ? 0 : count('max-leases-per-second', v['max-leases-per-second']),
    leaseIntervalMinMs: duration('lease-interval-min', v['lease-interval-min']),
    leaseIntervalMaxMs: duration('lease-interval-max', v['lease-interval-max']),
    podEvictionTimeoutMs: duration('pod-eviction-timeout', v['pod-eviction-timeout']),
    engine: v.engine as MasterConfig['engine'] | undefined,
    logFormat,
    logLevel,
    schedulerConfig: v['scheduler-config'],
    maxReplicas: count('max-replicas', v['max-replicas']),
    minFreeBytes: size('min-free', v['min-free']),
    diskReserveBytes: size('disk-reserve', v['disk-reserve']),
    mdns: v['no-mdns'] ? false : undefined,
    dashboard: v['no-dashboard'] ? false : undefined,
    eventTtlMs: duration('event-ttl', v['event-ttl']),
    store: v.store,
    etcd: etcdFlags(v),
    backupSchedule: v['backup-schedule'],
    backupDir: v['backup-dir'],
    backupKeep: count('backup-keep', v['backup-keep']),
    ...joinRate(v['join-rate']),
    podSecurityDefault: oneOf('pod-security-default', v['pod-security-default'], ['privileged', 'baseline', 'restricted'] as const),
    auditLogMaxBytes: v['audit-log-maxsize'] === undefined ? undefined : count('audit-log-maxsize', v['audit-log-maxsize'])! * 1024 * 1024,
    auditLogBackups: v['audit-log-maxbackup'] === undefined ? undefined : whole('audit-log-maxbackup', v['audit-log-maxbackup']),
  };
}

/** `--tls-san a,b --tls-san c`: each a DNS name or an IP address. */
function tlsSans(v: string[] | undefined): string[] | undefined {
  if (!v) return undefined;
  const sans = v.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  for (const s of sans) if (!isSan(s)) fail(`--tls-san: must be DNS names or IP addresses, got "${s}"`);
  return sans;
}

function whole(flag: string, v: string): number {
  if (!/^\d+$/.test(v)) fail(`--${flag}: must be a whole number ≥ 0, got "${v}"`);
  return Number(v);
}

function count(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1) fail(`--${flag}: must be a whole number ≥ 1, got "${v}"`);
  return n;
}

/**
 * A port another program holds, said the way the user fixes it: `MQTT port 1883 is in use (--mqtt-port to
 * choose another)`; undefined for any other error.
 */
export function busyPort(err: NodeJS.ErrnoException & { port?: number }, opts: Partial<MasterConfig>): string | undefined {
  if (err.code !== 'EADDRINUSE') return undefined;
  const c = resolveConfig(opts); // it passed once already: startMaster resolved the same options
  const listeners = [
    { name: 'MQTT over TLS', port: c.mqttsPort, flag: '--mqtts-port' },
    { name: 'MQTT', port: c.mqttPort, flag: '--mqtt-port' },
    { name: 'HTTP', port: c.httpPort, flag: '--http-port' },
  ];
  const l = listeners.find((x) => x.port > 0 && x.port === err.port);
  return l ? `${l.name} port ${l.port} is in use (${l.flag} to choose another)` : `port ${err.port ?? '?'} is in use (${err.message})`;
}

/**
 * How far V8 lets the old generation grow past what survived a full collection before it collects again, in percent.
 * Left to itself V8 picks the factor from its heap limit, so from the machine's memory: 1.3–2× below a 2 GB limit (a
 * board with less than 8 GB), up to 4× from 2 GB on (the 24 GB bench box). With up to 4× the master's heap at 20,000
 * pods held ~335 MB for ~175 MB live and its RSS peaked at 535 MB; at 2× (the most V8 gives a smaller machine) 436 MB
 * (docs/scale.md, "Peak RSS"). Pinned, the master needs the same memory on every machine; a `--heap-growing-percent`
 * given to node on its command line is kept.
 */
export const heapGrowingPercent = 100;

/** The V8 flag main() sets, or undefined when node was given one already (NODE_OPTIONS cannot carry it: node refuses it there). */
export function heapGrowthFlag(execArgv: readonly string[]): string | undefined {
  const given = execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a));
  return given ? undefined : `--heap-growing-percent=${heapGrowingPercent}`;
}

/** Entry of `skiff master`. Resolves when the master has stopped; exits 1 on bad flags. */
export async function main(argv: string[]): Promise<void> {
  let opts: ReturnType<typeof parseMasterArgs>;
  try {
    opts = parseMasterArgs(argv);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n\n${usage}`);
    process.exitCode = 1;
    return;
  }
  if (opts === 'help') {
    process.stdout.write(usage);
    return;
  }
  const growth = heapGrowthFlag(process.execArgv);
  if (growth) setFlagsFromString(growth);
  let master;
  try {
    master = await startMaster(opts);
  } catch (err) {
    // startMaster has released what it took: nothing keeps the process alive, it exits 1 now.
    process.stderr.write(`error: ${busyPort(err as NodeJS.ErrnoException, opts) ?? (err as Error).message}\n`);
    process.exitCode = 1;
    // A start that failed half-way may leave a handle open (seen: a busy --mqtt-port, with either store): do not hang on it.
    setTimeout(() => process.exit(1), 200).unref();
    return;
  }
  // The pool is made before any JavaScript runs: started without the flag, the master can only say what to give node.
  const pool = v8PoolFlag(availableParallelism(), process.execArgv, process.env.NODE_OPTIONS);
  if (pool)
    master.log.info(`V8 runs ${nodeDefaultV8Pool} helper threads beside the master's on ${availableParallelism()} CPUs: start node with ${pool} (or NODE_OPTIONS=${pool}) for steadier API latency (docs/operations.md, "CPU")`);
  const dir = master.config.dataDir;
  const defaultData = dir === defaultDataDir;
  // With the default data dir, make the CLI find the master without flags: its context joins the user's client config.
  const userConfig = defaultData ? installContext(dir) : undefined;
  // With an external broker, boards connect to the broker (docs/ha.md).
  const joinUrl = master.config.broker ? parseBrokerUrl(master.config.broker).url : master.mqttsPort >= 0 ? `mqtts://<this-host>:${master.mqttsPort}` : `mqtt://<this-host>:${master.mqttPort}`;
  process.stdout.write(`
  admin token   ${join(dir, 'admin.token')}
  client config ${join(dir, 'config.json')}   (skiff --config ${join(dir, 'config.json')} get nodes)${userConfig ? `
  context       "skiff" in ${userConfig}` : ''}
  cluster CA    ${join(dir, 'tls', 'ca.crt')}   ${master.caHash}
  join a board  copy ${join(dir, 'join.token')} to the board (it pins this CA), then:
                skiff-agent join --master ${joinUrl} --token-file /etc/skiff/join.token${master.httpPort !== undefined && master.config.dashboard ? `
  dashboard     https://<this-host>:${master.httpPort}/   (skiff --config ${join(dir, 'config.json')} dashboard prints a link that logs in)` : ''}${master.certificateKey ? `
  add a master  skiff master --name NAME --store ... --broker ... --certificate-key ${master.certificateKey.key}
                (the key is shown only here; the uploaded files expire at ${master.certificateKey.expiresAt})` : ''}

`);
  await new Promise<void>((resolve) => {
    // The master logs stopping/stopped; a failure to stop is logged by the step that failed.
    const stop = () => void master.stop().then(resolve, (err) => {
      master.log.error('stop failed', { err });
      resolve();
    });
    // A second signal waits for the first stop (stop is idempotent) instead of killing the master mid-way.
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    // A master that lost its leadership stops itself (docs/ha.md); exit 1 so a supervisor restarts it as a candidate.
    void master.done.then(() => {
      if (master.lostLeadership) process.exitCode = 1;
      resolve();
    });
  });
}

/**
 * Adds (or refreshes) the context `skiff` — this master's URL and admin token — in the user's client
 * config (SKIFF_CONFIG's files or ~/.skiff/config.json) and makes it current, keeping every other context
 * (protocol/client-config-file.ts); returns the file written, or undefined when that failed (logged).
 */
function installContext(dir: string): string | undefined {
  try {
    const c = resolveContext(readConfigFile(join(dir, 'config.json'), true)!);
    return mergeContextInto(configChain(undefined, process.env), { name: 'skiff', server: c.server!, username: c.username ?? 'admin', token: c.token ?? '', ...(c.caData ? { caData: c.caData } : {}) });
  } catch (err) {
    process.stderr.write(`warning: could not add the context "skiff" to the client config: ${(err as Error).message}\n`);
    return undefined;
  }
}
