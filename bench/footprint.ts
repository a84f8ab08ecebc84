// npm run bench:footprint [-- --arch x64,arm64] [-- --window 60] [-- --json]
// The one-file agent's footprint (docs/edge.md, "Footprint"): the bundle's size (raw, gzipped), then per
// architecture (the host's node, and Debian's node on emulated arm64 through test/helpers/arm.ts) an agent run
// from a copy of the bundle, against a master in this process over a counting TCP proxy:
//   time from start to Ready; resident memory, cpu (% of one core) and bytes written to disk (/proc/PID/io
//   write_bytes, extrapolated to an hour) over an idle window; MQTT bytes per minute each way (counted on the
//   proxy socket); then the same with 10 process pods on the node.
// Under emulation the memory is qemu's process (the translator's code cache included) and the cpu is the
// emulator's: they say how a board behaves only roughly; the byte counts are exact either way.
// A benchmark, not a test. Prints a table and, last, one JSON line.
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startMaster, type Master } from '../master/index.js';
import type { Node, Pod } from '../protocol/index.js';
import { repoRoot, recordedPids } from './cluster-selfheal.js';
import { armNode } from '../test/helpers/arm.js';
import mqttPacket from 'mqtt-packet';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
const ARCHES = opt('arch', 'x64,arm64').split(',') as ('x64' | 'arm64' | 'armhf')[];
const WINDOW_S = Number(opt('window', '60'));
const bundle = join(repoRoot, 'dist', 'skiff-agent.mjs');

/** Bytes the agent sent per packet kind (`publish lease`, `pingreq`, ...), since the last reset. */
const byKind = new Map<string, number>();

/** A TCP proxy in front of the master's broker that counts bytes each way (and the agent's by packet kind). */
async function countingProxy(target: number): Promise<{ port: number; up: () => number; down: () => number; close: () => void }> {
  let up = 0;
  let down = 0;
  const server = net.createServer((client) => {
    const broker = net.connect(target, '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (packet) => {
      const p = packet as { cmd: string; topic?: string; length: number };
      const kind = p.cmd === 'publish' ? `publish ${p.topic?.split('/').pop()}` : p.cmd;
      // Fixed header: 1 byte + the remaining-length varint.
      byKind.set(kind, (byKind.get(kind) ?? 0) + p.length + 1 + (p.length < 128 ? 1 : p.length < 16384 ? 2 : 3));
    });
    client.on('data', (d) => ((up += d.length), parser.parse(d), broker.write(d)));
    broker.on('data', (d) => ((down += d.length), client.write(d)));
    const end = () => (client.destroy(), broker.destroy());
    client.on('error', end).on('close', end);
    broker.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as net.AddressInfo).port, up: () => up, down: () => down, close: () => server.close() };
}

/** What /proc says about a process: RSS bytes, cpu ticks (user + system), bytes written to storage. */
function proc(pid: number): { rss: number; ticks: number; written: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const io = readFileSync(`/proc/${pid}/io`, 'utf8');
  return {
    rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024,
    ticks: Number(f[11]) + Number(f[12]),
    written: Number(/^write_bytes: (\d+)/m.exec(io)?.[1] ?? 0),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(fn: () => T | undefined | false, what: string, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** One window: the process's figures and the proxy's bytes, per minute and per hour. */
async function window(pid: number, proxy: { up: () => number; down: () => number }, seconds: number) {
  const a = proc(pid);
  byKind.clear();
  const [u0, d0] = [proxy.up(), proxy.down()];
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const b = proc(pid);
  const s = (Date.now() - t0) / 1000;
  return {
    rssMB: +(b.rss / 2 ** 20).toFixed(1),
    cpuPercent: +((((b.ticks - a.ticks) / 100) * 100) / s).toFixed(2),
    diskKBPerHour: +((((b.written - a.written) / 1024) * 3600) / s).toFixed(1),
    mqttUpBPerMin: Math.round(((proxy.up() - u0) * 60) / s),
    mqttDownBPerMin: Math.round(((proxy.down() - d0) * 60) / s),
    upByKindBPerMin: Object.fromEntries([...byKind].map(([k, v]) => [k, Math.round((v * 60) / s)])),
  };
}

async function measure(arch: (typeof ARCHES)[number], master: Master) {
  const dir = mkdtempSync(join(tmpdir(), `skiff-footprint-${arch}-`));
  mkdirSync(join(dir, 'bin'));
  copyFileSync(bundle, join(dir, 'bin', 'skiff-agent.mjs'));
  const proxy = await countingProxy(master.mqttPort);
  const name = `fp-${arch}`;
  const prefix = arch === 'x64' ? [process.execPath] : await armNode(arch);
  const t0 = Date.now();
  const agent: ChildProcess = spawn(prefix[0], [...prefix.slice(1), join(dir, 'bin', 'skiff-agent.mjs'), 'join', '--master', `mqtt://127.0.0.1:${proxy.port}`, '--name', name, '--data-dir', join(dir, 'data'), '--address', '127.0.0.1'], {
    env: { ...process.env, SKIFF_JOIN_TOKEN: master.joinToken },
    stdio: 'ignore',
  });
  try {
    await until(() => master.informers.get('Node', undefined, name)?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'), `${name} Ready`, 180_000);
    const readyMs = Date.now() - t0;
    await sleep(35_000); // past start-up (the join, the first full reports) and quiet for longer than ACTIVE_MS (telemetry.ts)
    const idle = await window(agent.pid!, proxy, WINDOW_S);
    await master.objects.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `ten-${arch}`, namespace: 'default' },
      spec: {
        replicas: 10,
        selector: { matchLabels: { app: `ten-${arch}` } },
        template: { metadata: { labels: { app: `ten-${arch}` } }, spec: { nodeSelector: { 'kubernetes.io/hostname': name }, runtimeClassName: 'process', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', command: ['/bin/sh', '-c', 'exec sleep 100000'] }] } },
      },
    } as never);
    await until(() => master.informers.list('Pod', 'default').filter((p) => p.spec.nodeName === name && p.status?.phase === 'Running').length === 10, '10 pods Running', 180_000);
    await sleep(35_000);
    const busy = await window(agent.pid!, proxy, WINDOW_S);
    return { arch, readyMs, idle, tenPods: busy };
  } finally {
    await master.objects.delete('Deployment', 'default', `ten-${arch}`).catch(() => undefined);
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    // The pods outlive the agent by design: stop them through their records.
    for (const pid of [...recordedPids(join(dir, 'data')).values()].flat()) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (!existsSync(bundle)) throw new Error('dist/skiff-agent.mjs is missing: npm run build');
  const bytes = readFileSync(bundle);
  const size = { rawKB: Math.round(statSync(bundle).size / 1024), gzipKB: Math.round(gzipSync(bytes, { level: 9 }).length / 1024) };
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-footprint-master-'));
  // The bench's pods run as the agent (process pods without runAsUser): a privileged default, as the tests have.
  const master = await startMaster({ dataDir, mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, mdns: false, podSecurityDefault: 'privileged' });
  const results = [];
  try {
    for (const arch of ARCHES) results.push(await measure(arch, master));
  } finally {
    await master.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`bundle dist/skiff-agent.mjs: ${size.rawKB} KiB, ${size.gzipKB} KiB gzipped; windows of ${WINDOW_S} s`);
  console.log('arch   case      ready   RSS MB  cpu %   disk KB/h  MQTT up B/min  down B/min');
  for (const r of results)
    for (const [label, w] of [['idle', r.idle], ['10 pods', r.tenPods]] as const)
      console.log(`${r.arch.padEnd(6)} ${label.padEnd(8)} ${label === 'idle' ? `${(r.readyMs / 1000).toFixed(1)} s`.padStart(7) : ''.padStart(7)} ${String(w.rssMB).padStart(7)} ${String(w.cpuPercent).padStart(6)} ${String(w.diskKBPerHour).padStart(10)} ${String(w.mqttUpBPerMin).padStart(14)} ${String(w.mqttDownBPerMin).padStart(11)}`);
  for (const r of results) for (const [label, w] of [['idle', r.idle], ['10 pods', r.tenPods]] as const) console.log(`${r.arch} ${label}: agent → master by kind (B/min): ${Object.entries(w.upByKindBPerMin).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(JSON.stringify({ bundle: size, windowS: WINDOW_S, results }));
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
