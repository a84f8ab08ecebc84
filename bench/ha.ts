/**
 * Several masters, measured with real processes (docs/ha.md "Measured"): a three-member etcd cluster on loopback,
 * Mosquitto configured by `skiff broker-config`, three `skiff master --broker` and two real `skiff-agent`s.
 *   npm run bench:ha [-- --trials 5 --pods 20]      (needs npm run build)
 * - fail-over: the leader killed with SIGKILL, until another master's Lease answers through the API (trials,
 *   p50 and max); the killed master is started again as a candidate before the next trial;
 * - reconnect storm: Mosquitto killed with SIGKILL and started again (same port, its persistence file), until
 *   every agent and master is connected and the API answers;
 * - etcd write volume per pod: a Deployment of N pods from apply to all Running, as etcd revisions (writes) and
 *   bytes the three etcd members wrote to disk (/proc/PID/io write_bytes), per pod.
 * The etcd + Mosquitto vs SQLite + aedes comparison at 1,000 simulated agents is bench/ha-scale.ts.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3 } from 'etcd3';
import type { Api } from '../cli/types.js';
import type { Lease } from '../protocol/index.js';
import { idleDeployment, listNodes, listPods, processesWith, readyOf, runningReady, startAgentProc, stopAgentProc } from './cluster-selfheal.js';
import { startEtcdCluster } from '../test/helpers/etcd.js';
import { haApi, shareCluster, startHaMaster, startMosquitto, type HaMaster, type Mosquitto } from '../test/helpers/ha.js';
import { requireBuild } from '../test/helpers/procs.js';
import { eventually, tempDir } from '../test/helpers/wait.js';

const { values: flags } = parseArgs({ options: { trials: { type: 'string', default: '5' }, pods: { type: 'string', default: '20' } } });
const trials = Number(flags.trials);
const podCount = Number(flags.pods);

function diskWrites(pid: number): number {
  return Number(/^write_bytes: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}

const step = (m: string) => process.stderr.write(`bench:ha: ${m}\n`);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main(): Promise<void> {
  requireBuild();
  const dir = await tempDir('skiff-bench-ha-');
  const [etcd, first] = await Promise.all([startEtcdCluster(3), startMosquitto(join(dir, 'broker'))]);
  let broker: Mosquitto = first;
  const masters = new Map<string, HaMaster>();
  const agents = new Map<string, ChildProcess>();
  const marker = `skiff-bench-ha-${process.pid}`;
  const startM = (name: string) => startHaMaster({ name, dataDir: join(dir, name), store: etcd.storeUrl('/bench'), broker: broker.brokerUrl, args: ['--leader-lease', '2s'] }, join(dir, `${name}.log`));
  let api: Api | undefined;
  try {
    masters.set('m1', await startM('m1'));
    for (const n of ['m2', 'm3']) shareCluster(join(dir, 'm1'), join(dir, n));
    for (const m of await Promise.all([startM('m2'), startM('m3')])) masters.set(m.name, m);
    api = await haApi(broker.url, join(dir, 'm1'), 400);
    const joinToken = readFileSync(join(dir, 'm1', 'join.token'), 'utf8').trim();
    for (const n of ['bench-a', 'bench-b']) agents.set(n, startAgentProc({ master: broker.url, token: joinToken, name: n, dataDir: join(dir, n), address: '127.0.0.1' }, join(dir, `${n}.log`)));
    await eventually(async () => (await listNodes(api!).catch(() => [])).filter((n) => readyOf(n) === 'True').length === 2, 'two Ready nodes', 30_000, 200);

    step('cluster up: 3 masters, 2 Ready nodes');
    // etcd write volume per pod.
    const client = new Etcd3({ hosts: etcd.hosts.map((h) => `http://${h}`) });
    const revision = async () => Number((await client.get('/').exec()).header.revision);
    const disk = () => etcd.members.reduce((s, m) => s + diskWrites(m.process.pid!), 0);
    const [r0, d0] = [await revision(), disk()];
    await api.request('apply', { manifest: idleDeployment('bench', podCount, `${marker}-bench`) });
    await eventually(async () => {
      const ps = await listPods(api!, 'app=bench').catch(() => []);
      return ps.length === podCount && ps.every(runningReady);
    }, `${podCount} running pods`, 120_000, 200);
    const [r1, d1] = [await revision(), disk()];
    step(`${podCount} pods Running`);

    // Fail-over: the Lease object read straight from etcd (the API answers only once a leader does).
    const holder = async () => {
      const v = await client.get('/bench/registry/leases/skiff-system/skiff-controller').string();
      return v ? (JSON.parse(v) as Lease).spec.holderIdentity : undefined;
    };
    const failovers: number[] = [];
    for (let t = 0; t < trials; t++) {
      const leader = await eventually(holder, 'a Lease', 20_000, 100);
      const t0 = Date.now();
      await masters.get(leader)!.kill9();
      await eventually(async () => {
        const h = await holder();
        return h !== undefined && h !== leader;
      }, 'another leader', 30_000, 20);
      failovers.push(Date.now() - t0);
      step(`fail-over ${t + 1}: ${failovers.at(-1)} ms`);
      masters.set(leader, await startM(leader));
    }
    client.close();

    // Reconnect storm: the broker killed and started again on its port.
    const seen = broker.log().length;
    await broker.kill9();
    const t0 = Date.now();
    broker = await startMosquitto(join(dir, 'broker'), broker.port, false);
    await api.close().catch(() => undefined); // the CLI's client does not reconnect: a new one once the broker is back
    await eventually(() => [...masters.keys(), ...agents.keys()].every((c) => broker.log().slice(seen).match(new RegExp(`as skiff-(master|agent)-${c} `))), 'every master and agent reconnected', 60_000, 50);
    api = await eventually(() => haApi(broker.url, join(dir, 'm1'), 400).catch(() => undefined), 'an API client', 30_000, 50);
    await eventually(async () => (await listNodes(api!).catch(() => [])).length === 2, 'the API answering', 30_000, 50);
    const storm = Date.now() - t0;
    step(`broker restart: ${storm} ms`);
    const pods = await listPods(api, 'app=bench');

    console.log(`\nSkiff HA on this machine: etcd 3.4 × 3 members, Mosquitto 2.0, 3 masters, 2 real agents (loopback)\n`);
    console.log(`| measure | value |\n| --- | ---: |`);
    console.log(`| fail-over after SIGKILL of the leader, p50 (${trials} trials) | ${pct(failovers, 50)} ms |`);
    console.log(`| fail-over, max | ${Math.max(...failovers)} ms |`);
    console.log(`| reconnect storm: broker SIGKILL + restart → 3 masters + 2 agents back, API answering | ${storm} ms |`);
    console.log(`| etcd writes (revisions) per pod, apply → Running (${podCount} pods) | ${((r1 - r0) / podCount).toFixed(1)} |`);
    console.log(`| etcd disk bytes per pod, all three members | ${Math.round((d1 - d0) / podCount).toLocaleString('en')} |`);
    console.log(`| pods still Running once, after ${trials} fail-overs and a broker restart | ${pods.filter(runningReady).length}/${podCount}, ${processesWith(`${marker}-bench`).length} processes |`);
  } finally {
    await api?.close().catch(() => undefined);
    await Promise.all([...agents.entries()].map(([n, a]) => stopAgentProc(a, join(dir, n))));
    await Promise.all([...masters.values()].map((m) => m.stop()));
    for (const pid of processesWith(marker)) process.kill(pid, 'SIGKILL');
    await broker.stop();
    await etcd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
