/**
 * Several real masters for HA tests and the HA bench (docs/ha.md): Mosquitto configured by `skiff broker-config`
 * on a free loopback port, `skiff master` processes on one etcd root with `--broker`, the cluster's shared files
 * (admin and join tokens, cluster CA, Secrets encryption config) copied from the first master's data dir to the
 * others before they start, as an operator does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { main as brokerConfig } from '../../master/external/broker-config.js';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import type { Lease } from '../../protocol/index.js';
import { kill9, stopProc } from '../../bench/cluster-selfheal.js';
import { freePort, skiffBin, startProcess } from './procs.js';
import { eventually } from './wait.js';

/** True when Mosquitto is installed; on CI (whose .ci/run installs it) a missing one is an error, not a skip. */
export const haveMosquitto = existsSync('/usr/sbin/mosquitto');
if (!haveMosquitto && process.env.CI) throw new Error('/usr/sbin/mosquitto is missing on CI: .ci/run must install mosquitto');

/** The files every master of one cluster shares (docs/ha.md "Several masters"). */
export const sharedFiles = ['admin.token', 'join.token', 'encryption-config.json', 'tls/ca.crt', 'tls/ca.key'];

/** Copies the shared files of one master's data dir into another's (made 0700). */
export function shareCluster(fromDir: string, toDir: string): void {
  mkdirSync(join(toDir, 'tls'), { recursive: true, mode: 0o700 });
  for (const f of sharedFiles) copyFileSync(join(fromDir, f), join(toDir, f));
}

/** A running Mosquitto with the config of `skiff broker-config mosquitto`. */
export interface Mosquitto {
  port: number;
  /** The `--broker` URL for the masters (the last line broker-config printed). */
  brokerUrl: string;
  /** `mqtt://127.0.0.1:PORT` (`mqtts://` with TLS): where agents and clients connect. */
  url: string;
  log(): string;
  stop(): Promise<void>;
  /** SIGKILL (its persistence file and dynamic-security file stay for a restart). */
  kill9(): Promise<void>;
}

/**
 * Writes a broker config into `dir` (unless `configure` is false: a restart on the config already there) and
 * starts mosquitto on it; resolves once it accepts connections. `tls`: the listener speaks TLS with a certificate
 * signed by the cluster CA of that master data dir (`--tls --cluster-dir`).
 */
export async function startMosquitto(dir: string, port?: number, configure = true, tls?: { clusterDir: string }): Promise<Mosquitto> {
  port ??= await freePort();
  const urlFile = join(dir, 'broker-url');
  if (configure) {
    let printed = '';
    const extra = tls ? ['--tls', '--cluster-dir', tls.clusterDir] : [];
    const code = await brokerConfig(['mosquitto', '--dir', dir, '--port', String(port), '--bind', '127.0.0.1', ...extra], (s) => (printed += s), (s) => (printed += s));
    if (code !== 0) throw new Error(`skiff broker-config failed: ${printed}`);
    writeFileSync(urlFile, printed.trim().split('\n').at(-1)!);
  }
  const brokerUrl = readFileSync(urlFile, 'utf8');
  const logFile = join(dir, 'mosquitto.log');
  const out = createWriteStream(logFile, { flags: configure ? 'w' : 'a' });
  const child: ChildProcess = spawn('mosquitto', ['-c', join(dir, 'mosquitto.conf'), '-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  await eventually(() => new Promise<boolean>((r) => {
    const s = connect(port, '127.0.0.1', () => (s.destroy(), r(true)));
    s.on('error', () => r(false));
  }), 'mosquitto listening', 10_000, 50);
  return {
    port,
    brokerUrl,
    url: `${brokerUrl.startsWith('mqtts:') ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    stop: () => stopProc(child),
    kill9: () => kill9(child),
  };
}

/** A master process of an HA cluster. */
export interface HaMaster {
  name: string;
  dataDir: string;
  child: ChildProcess;
  log(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `skiff master --name NAME --store STORE --broker URL ...`; resolves once it has started (not necessarily leading). */
export async function startHaMaster(o: { name: string; dataDir: string; store: string; broker: string; args?: string[] }, logFile: string): Promise<HaMaster> {
  const args = [skiffBin, 'master', '--name', o.name, '--data-dir', o.dataDir, '--store', o.store, '--broker', o.broker, '--mqtt-port=-1', '--mqtts-port', '0', '--http-port=-1', '--bind', '127.0.0.1', '--no-mdns', '--pod-security-default', 'privileged', ...(o.args ?? [])];
  const child = startProcess(args, logFile);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const before = (log().match(/\binfo started\b/g) ?? []).length;
  const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  await Promise.race([
    eventually(() => (log().match(/\binfo started\b/g) ?? []).length > before, `master ${o.name} started`, 30_000, 50),
    exited.then((c) => {
      throw new Error(`master ${o.name} exited with ${c}:\n${log()}`);
    }),
  ]);
  return { name: o.name, dataDir: o.dataDir, child, log, kill9: () => kill9(child), stop: () => stopProc(child) };
}

/** An admin API client through the broker (the CLI's; it finds the external topics by itself). */
export function haApi(brokerUrl: string, dataDir: string, timeoutMs = 5000): Promise<Api> {
  return connectApi({ server: brokerUrl, user: 'admin', token: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(), timeoutMs });
}

/** The leader Lease now, or undefined. */
export async function leaseOf(api: Api): Promise<Lease | undefined> {
  try {
    return await api.request<Lease>('get', { kind: 'Lease', namespace: 'skiff-system', name: 'skiff-controller' });
  } catch {
    return undefined;
  }
}

/** A free port (re-exported for callers building agent URLs). */
export { freePort };
