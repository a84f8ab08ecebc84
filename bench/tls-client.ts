/**
 * The client half of `npm run bench:tls` (bench/tls.ts): run by the host's node or, for arm64, by Debian's Node
 * 18 under qemu-aarch64. It measures against a running master, alternating plain MQTT and MQTT over TLS sample
 * by sample: a join (the agent's own code: CA pinning, CSR, the exchange), an MQTT connect, an MQTT QoS 1 round
 * trip (publish and get it back through the broker), and an API `get` (the CLI's client, not the service proxy).
 * Prints one JSON line: {arch, node, samples: {metric: {plain: ms[], tls: ms[]}}}.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { connectApi } from '../cli/client.js';
import { resolveOptions } from '../edge-agent/config.js';
import { join } from '../edge-agent/join.js';

/** What the parent passes (argv[2], JSON). */
interface Setup {
  plainUrl: string;
  tlsUrl: string;
  ca: string;
  adminToken: string;
  joinToken: string;
  joins: number;
  samples: number;
}

type Mode = 'plain' | 'tls';
const quiet = { info() {}, warn() {}, error() {}, debug() {} };

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** Runs `fn` for both modes `n` times, swapping which goes first each time. */
async function sideBySide(n: number, fn: (mode: Mode, i: number) => Promise<number>): Promise<Record<Mode, number[]>> {
  const out: Record<Mode, number[]> = { plain: [], tls: [] };
  for (let i = 0; i < n; i++) for (const mode of (i % 2 ? ['tls', 'plain'] : ['plain', 'tls']) as Mode[]) out[mode].push(await fn(mode, i));
  return out;
}

async function connectAdmin(s: Setup, mode: Mode): Promise<MqttClient> {
  const c = await mqtt.connectAsync(mode === 'tls' ? s.tlsUrl : s.plainUrl, { username: 'admin', password: s.adminToken, protocolVersion: 4, reconnectPeriod: 0, ...(mode === 'tls' ? { ca: s.ca } : {}) });
  (c.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true); // as the CLI and the agent do
  return c;
}

async function main(): Promise<void> {
  const s = JSON.parse(process.argv[2]) as Setup;
  const url = (m: Mode) => (m === 'tls' ? s.tlsUrl : s.plainUrl);
  const dir = mkdtempSync(joinPath(tmpdir(), 'skiff-bench-tls-'));
  const samples: Record<string, Record<Mode, number[]>> = {};
  const run = `${process.arch}-${process.pid}`;
  samples.join = await sideBySide(s.joins, (mode, i) => timed(() => join(resolveOptions({ master: url(mode), name: `b-${run}-${mode}-${i}`, dataDir: dir, address: '127.0.0.1', logger: quiet, joinTimeoutMs: 60_000 }), s.joinToken)));
  samples.connect = await sideBySide(Math.max(5, Math.floor(s.samples / 10)), (mode) => timed(async () => (await connectAdmin(s, mode)).endAsync(true)));
  const clients = { plain: await connectAdmin(s, 'plain'), tls: await connectAdmin(s, 'tls') };
  for (const mode of ['plain', 'tls'] as Mode[]) await clients[mode].subscribeAsync(`skiff/v1/metrics/rtt-${run}-${mode}`, { qos: 1 });
  samples.mqttRoundTrip = await sideBySide(s.samples, (mode, i) => {
    const c = clients[mode];
    const topic = `skiff/v1/metrics/rtt-${run}-${mode}`;
    return timed(() => new Promise<void>((resolve) => {
      const on = (t: string, p: Buffer) => {
        if (t === topic && p.toString() === String(i)) {
          c.off('message', on);
          resolve();
        }
      };
      c.on('message', on);
      c.publish(topic, String(i), { qos: 1 });
    }));
  });
  await Promise.all(Object.values(clients).map((c) => c.endAsync(true)));
  const apis = {
    plain: await connectApi({ server: s.plainUrl, user: 'admin', token: s.adminToken, timeoutMs: 30_000 }),
    tls: await connectApi({ server: s.tlsUrl, user: 'admin', token: s.adminToken, ca: s.ca, timeoutMs: 30_000 }),
  };
  samples.apiGet = await sideBySide(s.samples, (mode) => timed(() => apis[mode].request('get', { kind: 'Namespace', name: 'default' })));
  await Promise.all(Object.values(apis).map((a) => a.close()));
  process.stdout.write(JSON.stringify({ arch: process.arch, node: process.version, samples }) + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench client: ${(err as Error).stack}\n`);
    process.exit(1);
  },
);
