/**
 * `npm run bench:tls`: what TLS costs (docs/security.md "Measured"). One master on loopback with both listeners;
 * the client half (bench/tls-client.ts) runs on this machine's node and, when an arm64 sysroot is there, on
 * Debian's Node 18 for arm64 under qemu-aarch64-static — the agent from a checkout, as on a Pi. Each metric is
 * measured plain and over TLS side by side (alternating sample by sample): join, MQTT connect, MQTT QoS 1 round
 * trip, API get. Prints a table and a JSON line.
 *
 * Flags: --arch x64|arm64|both (default both when the sysroot exists), --arm-sysroot DIR (default $ARM_SYSROOT
 * or /var/cache/skiff-acc/arm64/sysroot: build one with Debian's nodejs:arm64 and its libraries, see
 * docs/security.md), --joins N, --samples N.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { startMaster } from '../master/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));

type Samples = Record<string, { plain: number[]; tls: number[] }>;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { arch: { type: 'string' }, 'arm-sysroot': { type: 'string' }, joins: { type: 'string' }, samples: { type: 'string' } } });
  const sysroot = values['arm-sysroot'] ?? process.env.ARM_SYSROOT ?? '/var/cache/skiff-acc/arm64/sysroot';
  const haveArm = existsSync(join(sysroot, 'usr/bin/node'));
  const arch = values.arch ?? (haveArm ? 'both' : 'x64');
  if (arch !== 'x64' && !haveArm) throw new Error(`no arm64 Node in ${sysroot}/usr/bin/node: build an arm64 sysroot (docs/security.md "Measured") or pass --arch x64`);
  const dir = await mkdtemp(join(tmpdir(), 'skiff-bench-tls-'));
  const master = await startMaster({ dataDir: join(dir, 'm'), mqttPort: 0, mqttsPort: 0, mqttHost: '127.0.0.1', httpPort: -1, quiet: true, mdns: false, joinRatePerSource: { burst: 100_000, perMinute: 100_000 }, joinRate: { burst: 100_000, perMinute: 100_000 } });
  const results: { arch: string; node: string; samples: Samples }[] = [];
  try {
    const runs: { label: string; cmd: string; args: string[]; joins: number; samples: number }[] = [];
    if (arch === 'x64' || arch === 'both') runs.push({ label: 'x64', cmd: process.execPath, args: [], joins: Number(values.joins ?? 20), samples: Number(values.samples ?? 500) });
    if (arch === 'arm64' || arch === 'both') runs.push({ label: 'arm64 (qemu)', cmd: 'qemu-aarch64-static', args: ['-cpu', 'cortex-a72', '-L', sysroot, join(sysroot, 'usr/bin/node')], joins: Number(values.joins ?? 6), samples: Number(values.samples ?? 100) });
    for (const r of runs) {
      const setup = { plainUrl: master.url, tlsUrl: master.tlsUrl, ca: master.caPem, adminToken: master.adminToken, joinToken: master.joinToken, joins: r.joins, samples: r.samples };
      process.stderr.write(`bench:tls: ${r.label}: ${r.joins} joins and ${r.samples} samples each way…\n`);
      const { stdout } = await promisify(execFile)(r.cmd, [...r.args, join(here, 'tls-client.js'), JSON.stringify(setup)], { maxBuffer: 64 << 20, timeout: 20 * 60_000 });
      results.push(JSON.parse(stdout.trim().split('\n').pop()!));
    }
  } finally {
    await master.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const rows = [['client', 'metric', 'n', 'plain p50 ms', 'TLS p50 ms', 'TLS/plain', 'plain p90 ms', 'TLS p90 ms']];
  for (const r of results)
    for (const [metric, s] of Object.entries(r.samples)) {
      const [p, t] = [pct(s.plain, 50), pct(s.tls, 50)];
      rows.push([`${r.arch} node ${r.node}`, metric, String(s.plain.length), fmt(p), fmt(t), `${(t / p).toFixed(2)}×`, fmt(pct(s.plain, 90)), fmt(pct(s.tls, 90))]);
    }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(widths[i])).join('  ') + '\n');
  const summary = results.map((r) => ({ arch: r.arch, node: r.node, ...Object.fromEntries(Object.entries(r.samples).map(([m, s]) => [m, { n: s.plain.length, plainP50: +fmt(pct(s.plain, 50)), tlsP50: +fmt(pct(s.tls, 50)), plainP90: +fmt(pct(s.plain, 90)), tlsP90: +fmt(pct(s.tls, 90)) }])) }));
  process.stdout.write(JSON.stringify({ bench: 'tls', results: summary }) + '\n');
}

main().catch((err) => {
  process.stderr.write(`bench:tls: ${(err as Error).message}\n`);
  process.exit(1);
});
