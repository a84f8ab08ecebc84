/**
 * The master under test: a real `skiff master` child process with its own data dir, a free plain port on
 * loopback (port 0; the URL it writes into DATA/config.json is where the simulated agents connect) and, with
 * `tls`, a free TLS port (config.json then names the mqtts:// URL). `--store` and `--broker` are passed through
 * (issue 17: etcd, Mosquitto). With `profileDir` it runs under `node --cpu-prof`; with `loopFile` it reports its
 * event-loop delay (loop-probe.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { v8PoolFlag } from '../../protocol/index.js';
import { repoRoot, spawnNode, stopProc, waitFor } from '../cluster-selfheal.js';

/** How to start the master. */
export interface MasterUnderTest {
  dataDir: string;
  /** MQTT over TLS for the agents (and the API client); otherwise the plain loopback listener. */
  tls: boolean;
  /** `--node-monitor-grace` (default the master's: 10 s). */
  grace?: string;
  /** `--store URL` (etcd://...), passed through. */
  store?: string;
  /** `--broker URL` (an external broker), passed through. */
  broker?: string;
  /** `--max-replicas`, at least the replicas asked for. */
  maxReplicas: number;
  /** Write a CPU profile here when the master exits. */
  profileDir?: string;
  /** Preload loop-probe.ts: the master appends its event-loop delay to this file once a second. */
  loopFile?: string;
  /** More flags. */
  extra?: string[];
}

/** A running master: its process, where agents and clients connect, and an admin API client. */
export interface RunningMaster {
  proc: ChildProcess;
  url: string;
  ca: string;
  adminToken: string;
  joinToken: string;
  api: Api;
  logFile: string;
  stop(): Promise<void>;
}

/** Starts the master and waits for its API. */
export async function startMaster(o: MasterUnderTest): Promise<RunningMaster> {
  mkdirSync(o.dataDir, { recursive: true });
  const logFile = `${o.dataDir}.log`;
  const node = [...(o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : []), ...(o.loopFile ? ['--import', pathToFileURL(join(repoRoot, 'dist', 'bench', 'scale', 'loop-probe.js')).href] : [])];
  // The probe reads its file from the environment the child inherits (spawnNode passes process.env).
  if (o.loopFile) process.env.SKIFF_BENCH_LOOP_FILE = o.loopFile;
  // SKIFF_BENCH_MASTER_NODE_FLAGS: node flags for the master only (space-separated), for A/B runs of V8 settings.
  const flags = (process.env.SKIFF_BENCH_MASTER_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  // As `skiff up` starts it: V8's helper threads fitted to the CPUs (protocol/v8-pool.ts), unless the flags above say.
  const pool = v8PoolFlag(availableParallelism(), flags, process.env.NODE_OPTIONS);
  if (pool) flags.push(pool);
  const args = [
    ...flags,
    ...node,
    join(repoRoot, 'bin', 'skiff.js'),
    'master',
    '--data-dir', o.dataDir,
    '--mqtt-port', '0',
    `--mqtts-port=${o.tls ? 0 : -1}`,
    '--http-port=-1',
    '--bind', '127.0.0.1',
    '--no-mdns',
    '--log-level', 'warn',
    '--pod-security-default', 'privileged',
    // Hundreds of simulated boards join from one address.
    '--join-rate', '100000',
    '--max-replicas', String(o.maxReplicas),
    ...(o.grace ? ['--node-monitor-grace', o.grace] : []),
    ...(o.store ? ['--store', o.store] : []),
    ...(o.broker ? ['--broker', o.broker] : []),
    ...(o.extra ?? []),
  ];
  // SKIFF_BENCH_MASTER_PREFIX: a command the master runs under (space-separated, e.g. `heaptrack -o /tmp/ht`); the
  // bench's CPU and RSS rows then read that wrapper's process, not the master's.
  const prefix = (process.env.SKIFF_BENCH_MASTER_PREFIX ?? '').split(' ').filter((f) => f !== '');
  const proc = spawnNode(args, logFile, prefix);
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code, sig) => reject(new Error(`the master exited (${code ?? sig}) before it was up: see ${logFile}`))));
  exited.catch(() => undefined);
  const config = join(o.dataDir, 'config.json');
  await Promise.race([waitFor(() => existsSync(config), 'the master config.json', 60_000, 100), exited]);
  const c = JSON.parse(readFileSync(config, 'utf8')) as { server: string; token: string; 'certificate-authority-data': string };
  const ca = Buffer.from(c['certificate-authority-data'], 'base64').toString();
  const joinToken = readFileSync(join(o.dataDir, 'join.token'), 'utf8').trim();
  const api = await Promise.race([waitFor(() => connectApi({ server: c.server, user: 'admin', token: c.token, ca, timeoutMs: 30_000 }), 'the master API', 60_000, 200), exited]);
  return {
    proc,
    url: c.server,
    ca,
    adminToken: c.token,
    joinToken,
    api,
    logFile,
    async stop() {
      await api.close().catch(() => undefined);
      await stopProc(proc, 20_000);
    },
  };
}

/** Another admin API client to the same master (probes and watches each get their own connection). */
export function adminClient(m: Pick<RunningMaster, 'url' | 'ca' | 'adminToken'>, timeoutMs = 30_000): Promise<Api> {
  return connectApi({ server: m.url, user: 'admin', token: m.adminToken, ca: m.ca, timeoutMs });
}

/** Lines of the master's log that contain `needle` (name collisions, NotReady transitions). */
export function logLines(m: Pick<RunningMaster, 'logFile'>, needle: string): string[] {
  if (!existsSync(m.logFile)) return [];
  return readFileSync(m.logFile, 'utf8').split('\n').filter((l) => l.includes(needle));
}
