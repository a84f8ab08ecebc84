/**
 * The scale bench (bench/scale, issue 16) on etcd + Mosquitto beside the embedded SQLite + aedes, in one run
 * (docs/ha.md "Measured beside the embedded pair"):
 *   npm run bench:ha-scale [-- --agents 1000 --pods 10000]      (needs npm run build)
 * starts a three-member etcd cluster and Mosquitto from `skiff broker-config` on loopback, runs `bench:scale`
 * with `--store etcd://... --broker ...`, then without (SQLite + aedes), and prints both results and the load
 * average before each (the machine may be shared).
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEtcdCluster } from '../test/helpers/etcd.js';
import { startMosquitto } from '../test/helpers/ha.js';
import { requireBuild } from '../test/helpers/procs.js';
import { tempDir } from '../test/helpers/wait.js';

const { values: flags } = parseArgs({ options: { agents: { type: 'string', default: '1000' }, pods: { type: 'string', default: '10000' }, only: { type: 'string' } } });

/** Runs the scale bench with `extra` flags; resolves with its exit code (its output goes to ours). */
function scale(extra: string[]): Promise<number | null> {
  const load = loadavg().map((l) => l.toFixed(2)).join(', ');
  process.stdout.write(`\n=== bench:scale ${extra.join(' ') || '(SQLite + aedes)'} — load average ${load}\n`);
  const child = spawn(process.execPath, ['dist/bench/scale/main.js', '--agents', flags.agents!, '--pods', flags.pods!, ...extra], { stdio: ['ignore', 'inherit', 'inherit'] });
  return new Promise((r) => child.once('exit', (c) => r(c)));
}

async function main(): Promise<void> {
  requireBuild();
  if (flags.only !== 'embedded') {
    const dir = await tempDir('skiff-ha-scale-');
    const [etcd, broker] = await Promise.all([startEtcdCluster(3), startMosquitto(join(dir, 'broker'))]);
    try {
      await scale(['--store', etcd.storeUrl('/scale'), '--broker', broker.brokerUrl]);
    } finally {
      await broker.stop();
      await etcd.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }
  if (flags.only !== 'external') await scale([]);
}

main().catch((err) => {
  process.stderr.write(`bench:ha-scale: ${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
