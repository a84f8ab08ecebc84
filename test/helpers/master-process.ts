/**
 * A real `skiff master` process for attack replays: its own event loop (latency measured from outside
 * is the master's), its own memory (RSS read from /proc), SIGKILL and restart on the same data dir.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { httpsGet } from './https.js';
import { connectApi } from '../../cli/client.js';
import type { Api } from '../../cli/types.js';
import { testEngine } from './cluster.js';
import { requireBuild, skiffBin, startProcess, stopProcess } from './procs.js';
import { eventually } from './wait.js';

/** A running master process. */
export interface MasterProcess {
  child: ChildProcess;
  dataDir: string;
  url: string;
  httpPort: number;
  adminToken: string;
  joinToken: string;
  /** An admin API client over MQTT (the CLI's). */
  api: Api;
  /** The master's resident memory now, in bytes. */
  rss(): number;
  /** Everything the master printed so far. */
  log(): string;
  /** GET on the master's HTTP port: status and milliseconds taken (status 0 when it did not answer within `timeoutMs`). */
  http(path: string, timeoutMs?: number): Promise<{ status: number; ms: number; text: string }>;
  /** An MQTT connection with these credentials (3.1.1). */
  connect(username: string, password: string, clientId?: string): Promise<MqttClient>;
  /** SIGTERM, then SIGKILL after a grace period. */
  stop(): Promise<void>;
  /** SIGKILL: nothing gets to clean up. */
  kill(): Promise<void>;
}

/** Starts `skiff master` on free ports with `args` added; resolves once its API answers. */
export async function startMasterProcess(dataDir: string, args: string[] = [], logFile = `${dataDir}.log`): Promise<MasterProcess> {
  requireBuild();
  const base = ['master', '--data-dir', dataDir, '--mqtt-port', '0', '--http-port', '0', '--bind', '127.0.0.1', '--no-mdns', '--engine', testEngine, '--pod-security-default', 'privileged'];
  const child = startProcess([skiffBin, ...base, ...args], logFile);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const listening = await Promise.race([
    eventually(() => /\bstarted\b.* mqtt=[^:]+:(\d+) https=[^:]+:(\d+)/.exec(log()), 'the master listening', 60_000, 50),
    exited.then((code) => {
      throw new Error(`skiff master exited with ${code} before listening:\n${log()}`);
    }),
  ]);
  const url = `mqtt://127.0.0.1:${listening[1]}`;
  const httpPort = Number(listening[2]);
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const api = await connectApi({ server: url, user: 'admin', token: adminToken, timeoutMs: 10_000 });
  const stopped = async (signal: 'SIGTERM' | 'SIGKILL') => {
    await api.close().catch(() => undefined);
    if (signal === 'SIGKILL') {
      child.kill('SIGKILL');
      await exited;
    } else await stopProcess(child);
  };
  return {
    child,
    dataDir,
    url,
    httpPort,
    adminToken,
    joinToken: readFileSync(join(dataDir, 'join.token'), 'utf8').trim(),
    api,
    rss: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) * 1024,
    log,
    async http(path, timeoutMs = 5000) {
      const t0 = performance.now();
      try {
        // HTTPS with the cluster CA, as `curl --cacert DATA/tls/ca.crt` (docs/security.md).
        const res = await Promise.race([
          httpsGet(`https://127.0.0.1:${httpPort}${path}`, readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8')),
          new Promise<never>((_r, reject) => setTimeout(() => reject(new Error('timeout')), timeoutMs).unref()),
        ]);
        return { status: res.status, ms: performance.now() - t0, text: res.body };
      } catch {
        return { status: 0, ms: performance.now() - t0, text: '' };
      }
    },
    connect: (username, password, clientId) =>
      new Promise((resolve, reject) => {
        const c = mqtt.connect(url, { protocolVersion: 4, username, password, clientId, reconnectPeriod: 0, connectTimeout: 5000 });
        c.once('connect', () => resolve(c));
        c.once('error', (e) => {
          c.end(true);
          reject(e);
        });
      }),
    stop: () => stopped('SIGTERM'),
    kill: () => stopped('SIGKILL'),
  };
}

/** Milliseconds an API request takes over MQTT (rejects with the request's error). */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

/** The pods the master counts in its /metrics (skiff_pods by phase, summed): cheap to ask while it is loaded. */
export async function podCount(m: MasterProcess): Promise<number> {
  const r = await m.http('/metrics', 10_000);
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}`);
  return [...r.text.matchAll(/^skiff_pods\{phase="\w+"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
}
