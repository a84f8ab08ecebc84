/**
 * The agent's options: defaults and rules in one place, checked once at start-up, then frozen.
 * Durations carry their unit in the name (`leaseIntervalMs`).
 */
import os from 'node:os';
import path from 'node:path';
import { SkiffError } from '../protocol/errors.js';
import { agentReconnectMaxMs } from '../protocol/messages.js';
import { nodeLabelRefusal } from '../protocol/node-labels.js';
import { isTopicLevel } from '../protocol/topics.js';
import type { StringMap } from '../protocol/types.js';
import { consoleLogger, type Logger } from './log.js';
import type { ProxyOptions } from './proxy/options.js';
import type { DetectOptions } from './cgroups/detect.js';

/** What `startAgent` takes. Only `master` is required (and `token` on the first join); without it `startAgent` finds the master by mDNS. */
export interface AgentOptions {
  /** `mqtt://HOST:PORT` of the master's broker; `startAgent` browses the LAN (`_skiff-master._tcp`) when it is missing. */
  master?: string;
  /** How long `startAgent` browses for a master when `master` is missing; default 10000 (10 s). */
  discoveryTimeoutMs?: number;
  /** Announce this node's share of the NodePort/LoadBalancer Services by mDNS (default true; off when `address` is loopback). */
  mdns?: boolean;
  /** The join token; needed only while the node has no credential yet. Dropped from memory once the credential is stored. */
  token?: string;
  /** A file holding the join token (read when needed, never kept in memory): what `--token-file` gives. */
  tokenFile?: string;
  /** The master was found by mDNS (set by startAgent): the join then asks the master to check the address dialled. */
  discovered?: boolean;
  /** Node name; default: the hostname, lowercased and made DNS-safe. */
  name?: string;
  /** Default `~/.skiff/agent`. */
  dataDir?: string;
  /** Where local-path volumes (PersistentVolumes the master provisions on this node) live; default DATA/volumes. */
  volumeDir?: string;
  labels?: StringMap;
  /** The node's InternalIP; default the first non-internal IPv4, else 127.0.0.1. */
  address?: string;
  /** The shortest lease heartbeat period; default 2000 (2 s). A longer interval the master assigns (cluster/lease) is followed. */
  leaseIntervalMs?: number;
  /** Metrics sample period; default 10000 (10 s). */
  metricsIntervalMs?: number;
  /** MQTT keep-alive; default 10 s. */
  keepaliveSeconds?: number;
  /** How long a join waits for the master's answer; default 30000 (30 s). */
  joinTimeoutMs?: number;
  /** Pod status changes within this window go out as one message; default 50 ms. */
  reportDebounceMs?: number;
  /** At start, how long an agent with a cached desired set waits for the master's before it starts the cached pods; default 3000 (3 s), 0 starts them at once. */
  cacheWaitMs?: number;
  /** Reconnect back-off, full jitter: uniform in [0, min(maxMs, initialMs × 2^attempt)]; default 500 ms doubling to a 5 s cap. */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** CrashLoopBackOff: the first restart is immediate, then initialMs doubling to maxMs; reset after resetAfterMs of running. */
  crashLoop?: { initialMs?: number; maxMs?: number; resetAfterMs?: number };
  /** The bundle file this agent runs from (launch.ts sets it); without one the agent refuses upgrades. */
  bundle?: string;
  /** The service proxy's options (edge-agent/proxy/options.ts); false runs no proxy. */
  proxy?: ProxyOptions | false;
  /** A container's log is rotated past this size (edge-agent/logs/keeper.ts); default 10 MiB, the kubelet's containerLogMaxSize. */
  containerLogMaxBytes?: number;
  /** Log files kept per container attempt, the current one included (≥ 2); default 5, the kubelet's containerLogMaxFiles. */
  containerLogMaxFiles?: number;
  /** How often running containers' log sizes are sampled to date their lines; default 1000 (1 s). */
  logSampleMs?: number;
  /**
   * The container engine's Docker API endpoint (`unix:///run/podman/podman.sock`, `tcp://host:2375`): the only one
   * tried. Default: $DOCKER_HOST, then /var/run/docker.sock, then /run/podman/podman.sock. false: no container runtime.
   */
  containerEndpoint?: string | false;
  /** How container pods get a network: auto (default), bridge or host (edge-agent/net/podnet.ts, docs/networking.md). */
  podNetwork?: 'auto' | 'bridge' | 'host';
  /**
   * With a bridge pod network, make skiff0 and serve the cluster DNS (default true). false keeps pods in their own
   * network namespaces without either: for tests whose engine runs in another network namespace than the agent.
   */
  podServices?: boolean;
  /** The /16 where pods see the services (clusterIP 127.77.a.b → a.b in it); default 10.43.0.0. */
  podServiceRange?: string;
  /** Back-off between failed image pulls: initialMs doubling to maxMs; default 10 s to 300 s (kubelet's). */
  imagePullBackoff?: { initialMs?: number; maxMs?: number };
  /** pids.max of every pod's cgroup (kubelet's --pod-max-pids); default 4096, 0 = unlimited. */
  podPidsLimit?: number;
  /**
   * Resource limits through cgroups (default: detected at start). false runs every pod unlimited (the node's
   * ResourceLimits condition says so); an object points detection elsewhere (tests: a fake mountinfo).
   */
  cgroups?: false | DetectOptions;
  /** The node command WASI modules run under; default the agent's own node. An agent run under an emulator names one that starts node. */
  wasiNode?: string[];
  logger?: Logger;
}

/** Options after defaults and checks; frozen. */
export interface AgentConfig {
  readonly master: string;
  /** Announce Services on the LAN: `mdns` and a non-loopback `address`. */
  readonly mdns: boolean;
  /** Absolute path of the join token file, if any (the token itself is not part of the config). */
  readonly tokenFile?: string;
  readonly discovered: boolean;
  readonly name: string;
  readonly dataDir: string;
  /** Absolute: where local-path volumes live (told to the master in the node status). */
  readonly volumeDir: string;
  readonly labels: Readonly<StringMap>;
  readonly address: string;
  readonly leaseIntervalMs: number;
  readonly metricsIntervalMs: number;
  readonly keepaliveSeconds: number;
  readonly joinTimeoutMs: number;
  readonly reportDebounceMs: number;
  readonly cacheWaitMs: number;
  readonly reconnect: { readonly initialMs: number; readonly maxMs: number };
  readonly crashLoop: { readonly initialMs: number; readonly maxMs: number; readonly resetAfterMs: number };
  readonly containerLogMaxBytes: number;
  readonly containerLogMaxFiles: number;
  readonly logSampleMs: number;
  readonly containerEndpoint?: string | false;
  readonly podNetwork: 'auto' | 'bridge' | 'host';
  readonly podServices: boolean;
  readonly podServiceRange: string;
  readonly imagePullBackoff: { readonly initialMs: number; readonly maxMs: number };
  /** undefined: unlimited. */
  readonly podPidsLimit?: number;
  readonly cgroups: false | DetectOptions;
  readonly wasiNode?: readonly string[];
  readonly logger: Logger;
}

const dnsSubdomain = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const labelKey = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Turns a hostname into a DNS-1123 subdomain: `My_Pi.local` → `my-pi.local`. */
export function dnsSafeName(hostname: string): string {
  const n = hostname
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 253)
    .replace(/[-.]+$/, '');
  return n || 'node';
}

/** The first non-internal IPv4 address, else 127.0.0.1. */
export function defaultAddress(): string {
  for (const list of Object.values(os.networkInterfaces()))
    for (const a of list ?? []) if ((a.family === 'IPv4' || (a.family as unknown) === 4) && !a.internal) return a.address;
  return '127.0.0.1';
}

function fail(field: string, rule: string, got?: unknown): never {
  throw new SkiffError('SKIFF_ERR_VALIDATION', `${field}: ${rule}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`, [{ field, rule }]);
}

function positive(v: number | undefined, field: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) fail(field, 'must be a positive number', v);
  return v;
}

function nonNegative(v: number | undefined, field: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) fail(field, 'must be a number ≥ 0', v);
  return v;
}

/** An integer ≥ `min`, default `dflt`. */
function atLeast(v: number | undefined, field: string, min: number, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min) fail(field, `must be an integer ≥ ${min}`, v);
  return v;
}

/** The pod pids limit: default 4096 (a fork bomb stops there, not at the board's whole pid space), 0 for none. */
function pidsLimit(v: number | undefined): { podPidsLimit?: number } {
  if (v === undefined) return { podPidsLimit: 4096 };
  if (!Number.isInteger(v) || v < 0) fail('podPidsLimit', 'must be an integer ≥ 0 (0: unlimited)', v);
  return v === 0 ? {} : { podPidsLimit: v };
}

/** A command line given as a list: at least its program, all strings. */
function checkCommand(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.some((a) => typeof a !== 'string' || a === '')) fail(field, 'must be a non-empty list of strings (a program and its arguments)', v);
  return [...(v as string[])];
}

/** Applies defaults and checks every option; throws SKIFF_ERR_VALIDATION naming the option. */
export function resolveOptions(o: AgentOptions): AgentConfig {
  if (typeof o.master !== 'string' || !/^mqtts?:\/\/[^/\s]+/.test(o.master)) fail('master', 'must be a URL like mqtt://HOST:PORT', o.master);
  if (o.mdns !== undefined && typeof o.mdns !== 'boolean') fail('mdns', 'must be true or false', o.mdns);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token.length === 0)) fail('token', 'must be a non-empty string');
  if (o.tokenFile !== undefined && (typeof o.tokenFile !== 'string' || o.tokenFile.length === 0)) fail('tokenFile', 'must be a file path');
  const name = o.name ?? dnsSafeName(os.hostname());
  if (!dnsSubdomain.test(name) || name.length > 253 || !isTopicLevel(name)) fail('name', 'must be a DNS subdomain (lowercase letters, digits, "-" and ".")', name);
  const labels = { ...(o.labels ?? {}) };
  for (const [k, v] of Object.entries(labels)) {
    if (!labelKey.test(k)) fail(`labels.${k}`, 'key must be a Kubernetes label key', k);
    if (typeof v !== 'string' || v.length > 63 || !labelValue.test(v)) fail(`labels.${k}`, 'value must be a Kubernetes label value', v);
    const refused = nodeLabelRefusal(name, k, v);
    if (refused) fail(`labels.${k}`, refused, v);
  }
  const address = o.address ?? defaultAddress();
  if (!/^(\d{1,3})(\.\d{1,3}){3}$/.test(address) && !address.includes(':')) fail('address', 'must be an IP address', address);
  const crash = o.crashLoop ?? {};
  const pull = o.imagePullBackoff ?? {};
  if (o.containerEndpoint !== undefined && o.containerEndpoint !== false && (typeof o.containerEndpoint !== 'string' || !/^(unix:\/\/\/|\/|tcp:\/\/|http:\/\/)/.test(o.containerEndpoint)))
    fail('containerEndpoint', 'must be unix:///path/to.sock or tcp://host:port', o.containerEndpoint);
  if (o.podNetwork !== undefined && !['auto', 'bridge', 'host'].includes(o.podNetwork)) fail('podNetwork', 'must be auto, bridge or host', o.podNetwork);
  const range = o.podServiceRange ?? '10.43.0.0';
  if (!/^(\d{1,3})\.(\d{1,3})\.0\.0$/.test(range) || range.split('.').some((x) => Number(x) > 255) || range.startsWith('127.')) fail('podServiceRange', 'must be the start of a /16 outside 127/8, like 10.43.0.0', range);
  const reconnect = o.reconnect ?? {};
  const cfg: AgentConfig = {
    master: o.master!,
    mdns: o.mdns !== false && !/^127\./.test(address) && address !== '::1',
    ...(o.tokenFile !== undefined ? { tokenFile: path.resolve(o.tokenFile) } : {}),
    discovered: o.discovered === true,
    name,
    dataDir: resolveDataDir(o.dataDir),
    volumeDir: path.resolve(o.volumeDir ?? path.join(resolveDataDir(o.dataDir), 'volumes')),
    labels: Object.freeze(labels),
    address,
    leaseIntervalMs: positive(o.leaseIntervalMs, 'leaseIntervalMs', 2000),
    metricsIntervalMs: positive(o.metricsIntervalMs, 'metricsIntervalMs', 10_000),
    keepaliveSeconds: positive(o.keepaliveSeconds, 'keepaliveSeconds', 10),
    joinTimeoutMs: positive(o.joinTimeoutMs, 'joinTimeoutMs', 30_000),
    reportDebounceMs: positive(o.reportDebounceMs, 'reportDebounceMs', 50),
    cacheWaitMs: nonNegative(o.cacheWaitMs, 'cacheWaitMs', 3000),
    reconnect: Object.freeze({ initialMs: positive(reconnect.initialMs, 'reconnect.initialMs', 500), maxMs: positive(reconnect.maxMs, 'reconnect.maxMs', agentReconnectMaxMs) }),
    crashLoop: Object.freeze({
      initialMs: positive(crash.initialMs, 'crashLoop.initialMs', 10_000),
      maxMs: positive(crash.maxMs, 'crashLoop.maxMs', 300_000),
      resetAfterMs: positive(crash.resetAfterMs, 'crashLoop.resetAfterMs', 600_000),
    }),
    containerLogMaxBytes: positive(o.containerLogMaxBytes, 'containerLogMaxBytes', 10 << 20),
    containerLogMaxFiles: atLeast(o.containerLogMaxFiles, 'containerLogMaxFiles', 2, 5),
    logSampleMs: positive(o.logSampleMs, 'logSampleMs', 1000),
    ...(o.containerEndpoint !== undefined ? { containerEndpoint: o.containerEndpoint } : {}),
    podNetwork: o.podNetwork ?? 'auto',
    podServices: o.podServices !== false,
    podServiceRange: range,
    imagePullBackoff: Object.freeze({ initialMs: positive(pull.initialMs, 'imagePullBackoff.initialMs', 10_000), maxMs: positive(pull.maxMs, 'imagePullBackoff.maxMs', 300_000) }),
    ...pidsLimit(o.podPidsLimit),
    cgroups: o.cgroups === false ? false : (o.cgroups ?? {}),
    ...(o.wasiNode !== undefined ? { wasiNode: Object.freeze(checkCommand(o.wasiNode, 'wasiNode')) } : {}),
    logger: o.logger ?? consoleLogger(),
  };
  return Object.freeze(cfg);
}

/** The data dir of the options: `dataDir`, default ~/.skiff/agent, made absolute. */
export function resolveDataDir(dataDir: string | undefined): string {
  return path.resolve(dataDir ?? path.join(os.homedir(), '.skiff', 'agent'));
}

/** Where things live under the data dir. */
export function layout(dataDir: string) {
  return {
    credential: path.join(dataDir, 'credential'),
    /** The cluster CA pinned at join, the node's key (0600) and certificate (docs/security.md). */
    tls: { ca: path.join(dataDir, 'ca.crt'), key: path.join(dataDir, 'node.key'), cert: path.join(dataDir, 'node.crt') },
    /** The master this node joined when it was found by mDNS: later starts use it instead of browsing again. */
    master: path.join(dataDir, 'master.json'),
    desired: path.join(dataDir, 'desired.msgpack'),
    services: path.join(dataDir, 'services.msgpack'),
    /** DATA/pods/<uid>/: the drivers' records (pid and exit files) and per-pod state. */
    pods: path.join(dataDir, 'pods'),
    /** DATA/logs/<namespace>_<pod>_<uid>/<container>/<restartCount>.log, the kubelet's /var/log/pods layout. */
    logs: path.join(dataDir, 'logs'),
  };
}

/** The paths of one data dir. */
export type Layout = ReturnType<typeof layout>;
