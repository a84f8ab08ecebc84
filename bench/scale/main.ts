/**
 * `npm run bench:scale -- --agents N --pods P [--trials T] [--tls] [--full-sets] [--profile] [--poll MS] [--store URL]
 * [--broker URL] [--grace 10s] [--lease MS] [--idle MS] [--get-every MS] [--keep] [--json]`: the simulated-agent scale bench
 * (issue 16). `--lease MS`: every agent leases every MS whatever the master assigns (as agents older than the lease
 * budget); by default they follow the master's `cluster/lease`, from 2 s. Each trial starts a fresh `skiff master` process and N simulated agents in this process over real
 * MQTT, applies a Deployment of P replicas and prints, one column per trial beside the goal: pods/s end to end,
 * create → Running p50/p99, master CPU and RSS, bytes written per pod, MQTT bytes per node per minute, API `get`
 * and `list pods` p50/p99, nodes ever NotReady, pods deleted, name collisions, and with --profile the master's
 * top self-time functions. The last line is the whole result as JSON. `--idle MS`: each idle window's length (default
 * one whole cycle of the agents' metrics, 50 s); the windows start once the fleet has settled (run.ts), and the join's
 * and the rollout's tails before them have their own rows. `--get-every MS`: how often a `get` is timed during the
 * rollout (default 50 ms).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { formatLoop, formatMem } from './loop.js';
import { formatLongTasks, formatProfile } from './profile.js';
import { runScale, type ScaleResult } from './run.js';
import { p50p99, pct, table } from './stats.js';

/** The machine's CPUs (the busy row's whole). */
const cores = availableParallelism();

const { values: v } = parseArgs({
  options: {
    agents: { type: 'string', default: '100' },
    pods: { type: 'string', default: '1000' },
    trials: { type: 'string', default: '1' },
    tls: { type: 'boolean', default: false },
    'full-sets': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    poll: { type: 'string', default: '0' },
    store: { type: 'string' },
    broker: { type: 'string' },
    grace: { type: 'string' },
    lease: { type: 'string' },
    idle: { type: 'string' },
    'get-every': { type: 'string' },
    timeout: { type: 'string', default: '600000' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

function int(name: string, s: string | undefined, min: number): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench:scale: --${name}: must be a whole number ≥ ${min}, got "${s}"\n`);
    process.exit(1);
  }
  return n;
}

const agents = int('agents', v.agents, 1);
const pods = int('pods', v.pods, 1);
const trials = int('trials', v.trials, 1);
const mb = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MB`;
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;

const tailCell = (t: ScaleResult['joinTail']) => `${t.seconds.toFixed(1)} s, ${t.cpuSeconds.toFixed(2)} CPU s (${t.seconds > 0 ? ((t.cpuSeconds / t.seconds) * 100).toFixed(0) : '—'} %)`;

const rows: [string, (r: ScaleResult) => string, string][] = [
  ['all Running', (r) => `${r.runningSeen}/${r.pods}${r.allRunning ? '' : ' (TIMEOUT)'}`, 'all'],
  ['seconds to all Running', (r) => r.seconds.toFixed(1), ''],
  ['pods/s end to end', (r) => r.podsPerSecond.toFixed(0), '≥ 1000'],
  ['create→Running', (r) => p50p99(r.createToRunningMs, 'ms'), 'p99 < 5000 ms'],
  ['master CPU (rollout) (main thread)', (r) => `${(r.masterCpu * 100).toFixed(0)} % (${(r.masterCpuMain * 100).toFixed(0)} %)`, ''],
  // CPU time per pod, the process's and (in parentheses) its main thread's, whatever share of a core a busy machine
  // gave it (1,000 pods/s needs the main thread's < 1 ms).
  ['master CPU per pod (rollout) (main)', (r) => `${((r.masterCpu * r.seconds * 1000) / r.pods).toFixed(2)} ms (${((r.masterCpuMain * r.seconds * 1000) / r.pods).toFixed(2)} ms)`, '< 1 ms'],
  // How much of the machine ran at all, and the harness's share of it (its agents and probes share the box with the master).
  ['box CPU busy (rollout)', (r) => (Number.isNaN(r.boxCpu.busy) ? '—' : `${(r.boxCpu.busy * 100).toFixed(0)} % of ${cores * 100} %; harness ${(r.boxCpu.harness * 100).toFixed(0)} %`), ''],
  // The main thread's rollout in three: running (above), waiting for a CPU the box's other threads held (here), idle (the rest).
  ['master main thread waiting for a CPU', (r) => (Number.isNaN(r.masterRunWait) ? '—' : `${(r.masterRunWait * 100).toFixed(0)} % of the rollout`), ''],
  // What the hypervisor took from this machine meanwhile (all CPUs, in cores): a slow run with much of it was the box.
  ['box CPU stolen (rollout)', (r) => (Number.isNaN(r.stolenCpu) ? '—' : `${(r.stolenCpu * 100).toFixed(0)} % of a core`), ''],
  // A fixed piece of work timed in a thread of the harness (box-speed.ts): runs on a slower box read higher here.
  ['box speed: µs per SHA-256 of 1 KiB', (r) => `${r.boxSpeed.idleUs.toFixed(2)} idle | ${r.boxSpeed.rolloutUs.toFixed(2)} rollout`, ''],
  // The join's and the rollout's tails: from Ready (all Running and the API timed) to the fleet settled, the window's start.
  ['join tail: Ready → settled', (r) => tailCell(r.joinTail), ''],
  ['rollout tail: → settled', (r) => tailCell(r.rolloutTail), ''],
  ['master CPU (idle) (main thread)', (r) => `${(r.idleCpu * 100).toFixed(1)} % (${(r.idleCpuMain * 100).toFixed(1)} %), ${r.idleMs / 1000} s`, '< 5 % at 1000 agents'],
  ['master CPU (idle, pods Running)', (r) => `${(r.idleCpuAfter * 100).toFixed(1)} % (${(r.idleCpuAfterMain * 100).toFixed(1)} %)`, '< 5 % at 1000 agents'],
  ['master peak RSS', (r) => mb(r.peakRssBytes), '< 500 MB'],
  // The probe's second with the highest RSS (once a second, so it may read a little under the row above), in parts, MB.
  ['master memory at its peak second', (r) => formatMem(r.peakMem), ''],
  ['master RSS at the end', (r) => mb(r.rssAfterBytes), ''],
  ['written per pod', (r) => kb(r.writeBytesPerPod), '< 10 KB'],
  ['MQTT per node per min (idle)', (r) => kb(r.mqttBytesPerNodeMinuteIdle), ''],
  ['MQTT packets per node per min (idle)', (r) => `${r.mqttPacketsPerNodeMinuteIdle.sent.toFixed(1)} in, ${r.mqttPacketsPerNodeMinuteIdle.received.toFixed(1)} out (master's view); ${r.mqttPacketsPerNodeMinuteIdle.pings.toFixed(1)} pings`, ''],
  ['MQTT per node per min (rollout)', (r) => kb(r.mqttBytesPerNodeMinuteRollout), ''],
  ['MQTT packets per pod (rollout)', (r) => `${r.mqttPacketsPerPodRollout.sent.toFixed(2)} in, ${r.mqttPacketsPerPodRollout.received.toFixed(2)} out (${r.mqttPacketsPerPodRollout.desired.toFixed(2)} desired sets)`, ''],
  // The rollout's gets (one every --get-every ms while the pods start) and the burst's after it, apart: together the
  // burst's fast ones diluted the rollout's (before session 26 the p99 of ~60 rollout and 200 burst gets was the
  // rollout's ~3rd worst).
  ['API get (rollout)', (r) => p50p99(rolloutGets(r), 'ms', 1), 'p99 < 20 ms'],
  ['API get (after, back to back)', (r) => p50p99(r.apiGetMs.slice(rolloutGets(r).length), 'ms', 1), 'p99 < 20 ms'],
  ['API get worst 3: rollout | after', (r) => worstGets(r), ''],
  // The probe thread's timer fired this late (its loop does nothing else): the bench process's share of the CPU, which a
  // get's figure includes — a slow get with a late timer beside it is the box's, not the master's.
  ['get probe thread late (rollout)', (r) => p50p99(r.probeLateMs, 'ms', 1), ''],
  // Apart as the gets: the rollout's (one a second, of the pods made so far) and the burst's after it (every pod).
  ['API list pods (rollout)', (r) => p50p99(rolloutLists(r), 'ms', 0), ''],
  ['API list pods (all, after)', (r) => p50p99(r.apiListMs.slice(rolloutLists(r).length), 'ms', 0), 'p99 < 150 ms (10k)'],
  ['master loop delay (rollout)', (r) => formatLoop(r.loop), 'stalls < 20 ms'],
  ['API errors', (r) => String(r.apiErrors), '0'],
  ['nodes ever NotReady', (r) => String(r.nodesNotReady.length), '0'],
  ['pods deleted meanwhile', (r) => String(r.podsDeleted), '0'],
  ['duplicate names / collisions', (r) => `${r.duplicateNames} / ${r.nameCollisions}`, '0 / 0'],
  ['watch dropped → re-listed', (r) => String(r.watchRelists), ''],
  ['agents reconnected', (r) => String(r.agentsReconnected), '0'],
  ['join of all agents', (r) => `${r.joinSeconds.toFixed(1)} s`, ''],
];

/** The gets timed during the rollout (the rest were timed back to back after it). */
function rolloutGets(r: ScaleResult): number[] {
  return r.apiGetMs.slice(0, r.apiGetMs.length - r.apiGetAfterCount);
}

/** The lists timed during the rollout (the rest were timed back to back after it). */
function rolloutLists(r: ScaleResult): number[] {
  return r.apiListMs.slice(0, r.apiListMs.length - r.apiListAfterCount);
}

function worstGets(r: ScaleResult): string {
  const cut = r.apiGetMs.length - r.apiGetAfterCount;
  const worst = (xs: number[]) => [...xs].sort((a, b) => b - a).slice(0, 3).map((x) => x.toFixed(1)).join(', ') || '—';
  return `${worst(r.apiGetMs.slice(0, cut))} ms (n=${cut}) | ${worst(r.apiGetMs.slice(cut))} ms (n=${r.apiGetAfterCount})`;
}

const results: ScaleResult[] = [];
for (let t = 0; t < trials; t++) {
  const r = await runScale({
    agents,
    pods,
    tls: v.tls,
    fullSets: v['full-sets'],
    profile: v.profile,
    pollMs: int('poll', v.poll, 0),
    store: v.store,
    broker: v.broker,
    grace: v.grace,
    leaseIntervalMs: v.lease === undefined ? undefined : int('lease', v.lease, 100),
    idleMs: v.idle === undefined ? undefined : int('idle', v.idle, 0),
    getEveryMs: v['get-every'] === undefined ? undefined : int('get-every', v['get-every'], 1),
    timeoutMs: int('timeout', v.timeout, 1000),
    keep: v.keep,
    log: (l) => process.stderr.write(`[trial ${t + 1}/${trials}] ${l}\n`),
  });
  results.push(r);
  if (r.profile) process.stdout.write(`trial ${t + 1} ${formatProfile(r.profile)}\n`);
  if (r.longTasks) process.stdout.write(`trial ${t + 1} ${formatLongTasks(r.longTasks)}\n`);
  for (const [i, p] of (r.idleProfiles ?? []).entries()) process.stdout.write(`trial ${t + 1} idle window ${i + 1} (${i ? 'pods Running' : 'after the join'}), main thread ${formatProfile(p)}\n`);
}

const header = ['', ...results.map((_, i) => `trial ${i + 1}`), 'goal (issue 16)'];
process.stdout.write(`\n${agents} simulated agents, ${pods} replicas${v.tls ? ', TLS' : ''}${v.store ? `, store ${v.store}` : ''}${v.broker ? `, broker ${v.broker}` : ''}\n`);
process.stdout.write(table(rows.map(([label, f, goal]) => [label, ...results.map(f), goal]), header) + '\n');
if (trials > 1) {
  const all = results.flatMap((r) => r.createToRunningMs);
  const gets = results.flatMap(rolloutGets);
  const lists = results.flatMap((r) => r.apiListMs);
  process.stdout.write(`over ${trials} trials: create→Running ${p50p99(all, 'ms')}; get (rollout) ${p50p99(gets, 'ms', 1)}; list ${p50p99(lists, 'ms')}; pods/s median ${pct(results.map((r) => r.podsPerSecond), 50).toFixed(0)}\n`);
}
if (v.json) process.stdout.write(JSON.stringify(results.map((r) => ({ ...r, createToRunningMs: undefined, apiGetMs: undefined, apiListMs: undefined, p99: { createToRunningMs: pct(r.createToRunningMs, 99), getMs: pct(r.apiGetMs, 99), rolloutGetMs: pct(rolloutGets(r), 99), listMs: pct(r.apiListMs, 99) } }))) + '\n');
process.exit(results.every((r) => r.allRunning) ? 0 : 1);
