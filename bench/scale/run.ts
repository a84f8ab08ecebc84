/**
 * One trial of the scale harness: a fresh `skiff master` process, `agents` simulated agents joined over real
 * MQTT, a quiet window of idle figures, then a Deployment of `pods` replicas applied and followed until every pod
 * is Running — with the nodes watched for any NotReady, the pods for create → Running, the API timed meanwhile, and
 * the master's CPU, memory and disk writes read from /proc — and a second idle window as long as the first with
 * every pod Running (the steady cost of a full cluster).
 *
 * An idle window is the steady state, as Kubernetes means an idle cluster: nothing joining, nothing rolling out, every
 * agent on its regular cycle. It starts once the fleet has **settled**: every agent says its metrics since it connected
 * carried its node and every pod it runs, and then the master says it holds them (its `top` verb, the metrics-server
 * role) — after the join, a sample of every node: every agent's first whole metrics message taken (an agent sends it
 * one sample interval, 10 s, after it connects; the joins and their certificates are over by then: every agent is
 * connected and Ready); after the rollout, a sample of every pod: every agent's delta with its new pods taken. What
 * lies between Ready (or all Running and the API timed) and settled is the join's (the rollout's) tail: its CPU seconds
 * have rows of their own, not hidden. A window lasts one whole cycle of the agents' metrics by default (`idleWindowMs`:
 * KEEP_MS in whole samples, 50 s), so it holds every agent's keep-alive delta once and its leases in between, whatever
 * the agents' phases; a shorter one (`--idle 10000`) holds part of a cycle and reads high or low with where the deltas
 * fall. The bench's own event-loop probe in the master (loop-probe.ts, ~1.3 % of a core) is paused during the windows.
 * What the window cannot leave out: a major GC of the master's heap (0.5–1 s of CPU, mostly V8's helper threads, the
 * rollout's garbage) lands in about one window in two — the main thread's share beside each figure shows it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../cluster-selfheal.js';
import { adminClient, logLines, startMaster } from './master-proc.js';
import { NodeTracker, PodTracker } from './observe.js';
import { ProbeThread, type ProbeFigures } from './probe-worker.js';
import { boxShare, cpuShare, ProcWatcher, runWaitShare, stealShare, type ProcSample } from './procfs.js';
import { BoxSpeed } from './box-speed.js';
import { loopSummary, memAtPeak, monoAt, pauseLoopProbe, type LoopSummary, type MemLine } from './loop.js';
import { longTasks, newestProfile, topSelfTime, type HotFunction, type LongTasks } from './profile.js';
import { startSimFleet, type SimAgent } from './sim-agent.js';
import { readyStatus, type Node } from '../../protocol/index.js';
import { KEEP_MS } from '../../edge-agent/telemetry.js';

/** The agents' metrics sample interval, ms (edge-agent/config.ts metricsIntervalMs: the simulated agent's too). */
const metricsIntervalMs = 10_000;
/**
 * One whole cycle of an idle agent's metrics: the keep-alive delta goes at the first sample KEEP_MS after the last
 * message, 50 s; the leases fill the rest. The default idle window.
 */
export const idleWindowMs = Math.ceil(KEEP_MS / metricsIntervalMs) * metricsIntervalMs;

/** What a trial is asked to do. */
export interface ScaleOptions {
  agents: number;
  pods: number;
  /** Agents over mqtts:// (the master's TLS listener) instead of the plain loopback listener. */
  tls?: boolean;
  /** Agents' lease interval, ms: fixed, whatever the master assigns (`--lease MS`); default: 2 s, or the master's longer one. */
  leaseIntervalMs?: number;
  /** `--node-monitor-grace` of the master. */
  grace?: string;
  store?: string;
  broker?: string;
  /** Run the master under --cpu-prof and summarise it. */
  profile?: boolean;
  /** Follow pods with polled lists every N ms instead of a watch (0 = watch, the default). */
  pollMs?: number;
  /** Agents older than desired deltas (retained full sets, never `resync`); default: deltas, as the agent today. */
  fullSets?: boolean;
  /** How long each idle window lasts (idle CPU and MQTT figures), ms; default idleWindowMs (one cycle, 50 s). */
  idleMs?: number;
  /** Deadline for the fleet to settle before each idle window (header comment), ms; default 120 s. */
  settleTimeoutMs?: number;
  /** Deadline for all pods Running, ms. */
  timeoutMs?: number;
  /**
   * How often the probe times a `get` during the rollout, ms; default 50: ~300 rollout gets at 20,000 pods, so that
   * their p99 is not the single worst of ~60 (at 250 ms, as before session 26, one stall decided it).
   */
  getEveryMs?: number;
  /** API requests timed back to back after the rollout (gets, lists). */
  apiSamples?: { gets: number; lists: number };
  /** Keep the data dirs (default: removed). */
  keep?: boolean;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** The figures of one trial. */
export interface ScaleResult {
  agents: number;
  pods: number;
  allRunning: boolean;
  runningSeen: number;
  /** Seconds from apply to the last pod seen Running. */
  seconds: number;
  podsPerSecond: number;
  createToRunningMs: number[];
  /** Share of one core (1 = 100 %) during the rollout and while idle (after the join settled). */
  masterCpu: number;
  /** The same, the master's main thread alone (the event loop): the rest is its other threads (deflate, SQLite's, GC helpers). */
  masterCpuMain: number;
  /** Share of the rollout the master's main thread waited, runnable, for a CPU (NaN without schedstat): time it neither ran nor idled. */
  masterRunWait: number;
  /** Share of one CPU the machine's hypervisor took during the rollout (steal; NaN where /proc/stat has none). */
  stolenCpu: number;
  /** Shares of one CPU during the rollout: every process on the machine (`busy`) and the harness's own (`harness`: the simulated agents, the probes); NaN without /proc. */
  boxCpu: { busy: number; harness: number };
  /** µs of CPU per SHA-256 digest of 1 KiB in the idle minute and in the rollout (box-speed.ts): how fast the box was. */
  boxSpeed: { idleUs: number; rolloutUs: number };
  idleCpu: number;
  /** Share of one core while the fleet sits idle after the rollout settled, every pod Running (a window as long as the first). */
  idleCpuAfter: number;
  /** The same two windows, the master's main thread alone (the rest: its worker threads). */
  idleCpuMain: number;
  idleCpuAfterMain: number;
  /** The idle windows' length, ms. */
  idleMs: number;
  /** Ready → settled (every node's first metrics taken), and all Running (+ the API's timing) → settled (every pod's sample taken): seconds and the master's CPU seconds. */
  joinTail: Tail;
  rolloutTail: Tail;
  /** The master's RSS at the end of that spell (what stays once the rollout's garbage is collected or not). */
  rssAfterBytes: number;
  peakRssBytes: number;
  /** The master's memory in parts at the probe's second with the highest RSS (loop.ts memAtPeak). */
  peakMem: MemLine | undefined;
  /** Bytes the master wrote to storage per pod created (during the rollout). */
  writeBytesPerPod: number;
  /** MQTT packets per node per minute in the first idle window (at the agents: sent = what the master reads, received = what it writes), and PINGREQs among those sent. */
  mqttPacketsPerNodeMinuteIdle: { sent: number; received: number; pings: number };
  /** MQTT bytes (both directions, at the agents' sockets) per node per minute: idle and during the rollout. */
  mqttBytesPerNodeMinuteIdle: number;
  mqttBytesPerNodeMinuteRollout: number;
  /** MQTT packets per pod created during the rollout (at the agents: sent = what the master reads, received = what it writes), and desired-set messages among those received. */
  mqttPacketsPerPodRollout: { sent: number; received: number; desired: number };
  apiGetMs: number[];
  /** The get probe thread's timer lateness during the rollout, ms (its own wait for a CPU). */
  probeLateMs: number[];
  /** How many of `apiGetMs` (the last ones) were timed back to back after the rollout; the rest were timed during it. */
  apiGetAfterCount: number;
  apiListMs: number[];
  /** How many of apiListMs (the last ones) were timed back to back after the rollout: lists of every pod. */
  apiListAfterCount: number;
  apiErrors: number;
  /** Nodes ever not Ready from the fleet's start to the end of the rollout. */
  nodesNotReady: string[];
  /** Pods deleted while the Deployment only scaled up (evictions, replacements). */
  podsDeleted: number;
  /** Pod names seen for two different uids, and creates that failed on a name collision (the master's log). */
  duplicateNames: number;
  nameCollisions: number;
  /** Times the pod watch was dropped by the master and re-listed. */
  watchRelists: number;
  /** Agents whose connection dropped at least once. */
  agentsReconnected: number;
  joinSeconds: number;
  /** The master's event-loop delay during the rollout (loop-probe.ts). */
  loop?: LoopSummary;
  profile?: { totalMs: number; hot: HotFunction[] };
  /** With a profile: the same, of each idle window alone (after the join, with every pod Running). */
  idleProfiles?: { totalMs: number; hot: HotFunction[] }[];
  /** With a profile: the tasks that held the master's thread over 20 ms during the rollout, and what ran in them. */
  longTasks?: LongTasks;
}

const deployment = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: scale}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: scale}}
  template:
    metadata: {labels: {app: scale}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        command: [sleep, infinity]
`;

/** The stretch between the end of a phase and the fleet settled. */
export interface Tail {
  seconds: number;
  cpuSeconds: number;
}

const tail = (a: ProcSample, b: ProcSample): Tail => ({ seconds: (b.at - a.at) / 1000, cpuSeconds: b.cpuSeconds - a.cpuSeconds });

const sumBytes = (agents: SimAgent[]) => agents.reduce((n, a) => n + a.bytes(), 0);
const sumDesired = (agents: SimAgent[]) => agents.reduce((n, a) => n + a.desiredMessages, 0);
const sumPackets = (agents: SimAgent[]) => agents.reduce((n, a) => ({ sent: n.sent + a.packets.sent, received: n.received + a.packets.received, pings: n.pings + a.packets.pings }), { sent: 0, received: 0, pings: 0 });

/** Runs one trial. */
export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const say = o.log ?? (() => {});
  const root = mkdtempSync(join(tmpdir(), 'skiff-scale-'));
  const profileDir = o.profile ? join(root, 'profile') : undefined;
  const loopFile = join(root, 'loop.jsonl');
  const master = await startMaster({ dataDir: join(root, 'master'), tls: !!o.tls, grace: o.grace, store: o.store, broker: o.broker, maxReplicas: Math.max(10_000, o.pods), profileDir, loopFile });
  const watcher = new ProcWatcher(master.proc.pid!);
  const speed = new BoxSpeed();
  const agents: SimAgent[] = [];
  const nodes = new NodeTracker();
  const pods = new PodTracker(o.pods);
  const [watchApi, nodeApi] = await Promise.all([adminClient(master), adminClient(master)]);
  let probe: ProbeThread | undefined;
  try {
    say(`master pid ${master.proc.pid} at ${master.url}; joining ${o.agents} agents`);
    const joinStart = Date.now();
    agents.push(...(await startSimFleet({ url: master.url, joinToken: master.joinToken, count: o.agents, dir: join(root, 'agents'), leaseIntervalMs: o.leaseIntervalMs ?? 2000, fixedLease: o.leaseIntervalMs !== undefined, fullSets: o.fullSets })));
    await waitAllReady(master.api, o.agents, 120_000);
    const ready = watcher.now()!;
    const joinSeconds = (Date.now() - joinStart) / 1000;
    nodes.start(nodeApi);
    const idleMs = o.idleMs ?? idleWindowMs;
    const settleMs = o.settleTimeoutMs ?? 120_000;
    pauseLoopProbe(loopFile, true);
    say(`${o.agents} nodes Ready after ${joinSeconds.toFixed(1)} s; waiting for every node's first metrics`);
    await waitSettled(master.api, agents, 'Node', o.agents, settleMs);
    const idleA = watcher.now()!;
    const joinTail = tail(ready, idleA);
    const idleBytesA = sumBytes(agents);
    const idlePacketsA = sumPackets(agents);
    say(`settled ${joinTail.seconds.toFixed(1)} s after Ready; idle for ${idleMs / 1000} s`);
    await new Promise((r) => setTimeout(r, idleMs));
    const idleB = watcher.now()!;
    const idleBytesB = sumBytes(agents);
    const idlePacketsB = sumPackets(agents);
    pauseLoopProbe(loopFile, false);
    await new Promise((r) => setTimeout(r, 1500)); // the probe looks at its pause once a second
    pods.start(watchApi, 'app=scale', o.pollMs ?? 0);
    // In its own thread: the simulated agents' work on this one must not count as the master's latency.
    const burst = o.apiSamples ?? { gets: 200, lists: 100 }; // 100 lists of every pod: a p99 (stats.ts minP99Samples)
    probe = new ProbeThread({ master: { url: master.url, ca: master.ca, adminToken: master.adminToken }, getParams: { kind: 'Node', name: 'sim-0' }, getEveryMs: o.getEveryMs ?? 50, listEveryMs: 1000, burst });
    await probe.started();
    say(`applying a Deployment of ${o.pods} replicas`);
    const a = watcher.now()!;
    const bytesA = sumBytes(agents);
    const packetsA = sumPackets(agents);
    const desiredA = sumDesired(agents);
    const t0 = Date.now();
    await master.api.request('apply', { manifest: deployment(o.pods) });
    const allRunning = await pods.allRunning(o.timeoutMs ?? 600_000);
    const t1 = Date.now();
    const b = watcher.now()!;
    const bytesB = sumBytes(agents);
    const packetsB = sumPackets(agents);
    const desiredB = sumDesired(agents);
    say(`${pods.runningCount}/${o.pods} Running after ${((t1 - t0) / 1000).toFixed(1)} s; timing the API`);
    const api: ProbeFigures = await probe.stop();
    probe = undefined;
    await pods.stop();
    await nodes.stop();
    pauseLoopProbe(loopFile, true);
    const running = watcher.now()!;
    say(`waiting for every pod's metrics`);
    await waitSettled(master.api, agents, 'Pod', o.pods, settleMs);
    const afterA = watcher.now()!;
    const rolloutTail = tail(running, afterA);
    say(`settled ${rolloutTail.seconds.toFixed(1)} s after the API's timing; idle for ${idleMs / 1000} s with every pod Running`);
    await new Promise((r) => setTimeout(r, idleMs));
    const afterB = watcher.now()!;
    const names = [...pods.names.values()];
    const result: ScaleResult = {
      agents: o.agents,
      pods: o.pods,
      allRunning,
      runningSeen: pods.runningCount,
      seconds: (t1 - t0) / 1000,
      podsPerSecond: pods.runningCount / ((t1 - t0) / 1000),
      createToRunningMs: pods.latencies(),
      masterCpu: cpuShare(a, b),
      masterCpuMain: cpuShare(a, b, 'main'),
      masterRunWait: runWaitShare(a, b),
      stolenCpu: stealShare(a, b),
      boxCpu: { busy: boxShare(a, b, 'busy'), harness: boxShare(a, b, 'harness') },
      boxSpeed: { idleUs: speed.between(idleA.at, idleB.at), rolloutUs: speed.between(a.at, b.at) },
      idleCpu: cpuShare(idleA, idleB),
      idleCpuAfter: cpuShare(afterA, afterB),
      idleCpuMain: cpuShare(idleA, idleB, 'main'),
      idleCpuAfterMain: cpuShare(afterA, afterB, 'main'),
      idleMs,
      joinTail,
      rolloutTail,
      rssAfterBytes: afterB.rssBytes,
      peakRssBytes: watcher.peakRss,
      peakMem: memAtPeak(loopFile),
      writeBytesPerPod: writesPerPod(a, b, o.pods),
      mqttBytesPerNodeMinuteIdle: perNodeMinute(idleBytesB - idleBytesA, o.agents, idleB.at - idleA.at),
      mqttPacketsPerNodeMinuteIdle: {
        sent: perNodeMinute(idlePacketsB.sent - idlePacketsA.sent, o.agents, idleB.at - idleA.at),
        received: perNodeMinute(idlePacketsB.received - idlePacketsA.received, o.agents, idleB.at - idleA.at),
        pings: perNodeMinute(idlePacketsB.pings - idlePacketsA.pings, o.agents, idleB.at - idleA.at),
      },
      mqttBytesPerNodeMinuteRollout: perNodeMinute(bytesB - bytesA, o.agents, t1 - t0),
      mqttPacketsPerPodRollout: { sent: (packetsB.sent - packetsA.sent) / o.pods, received: (packetsB.received - packetsA.received) / o.pods, desired: (desiredB - desiredA) / o.pods },
      apiGetMs: api.getMs,
      probeLateMs: api.getLateMs,
      // The probe times the rollout's gets, then the burst's (a get that failed is not in either).
      apiGetAfterCount: Math.min(burst.gets, api.getMs.length),
      apiListMs: api.listMs,
      apiListAfterCount: Math.min(burst.lists, api.listMs.length),
      apiErrors: api.errors,
      nodesNotReady: [...nodes.notReady],
      podsDeleted: pods.deleted,
      duplicateNames: names.length - new Set(names).size,
      nameCollisions: logLines(master, 'already exists').length,
      watchRelists: pods.relists,
      agentsReconnected: agents.filter((x) => x.connects > 1).length,
      joinSeconds,
      loop: loopSummary(loopFile, t0, t1),
    };
    const window = { fromUs: monoAt(loopFile, t0) ?? 0, toUs: monoAt(loopFile, t1) ?? Infinity };
    const idleWindows = [[idleA, idleB], [afterA, afterB]].map(([x, y]) => ({ fromUs: monoAt(loopFile, x.at) ?? 0, toUs: monoAt(loopFile, y.at) ?? 0 }));
    await Promise.all([watchApi.close(), nodeApi.close()].map((p) => p.catch(() => undefined)));
    await Promise.all(agents.splice(0).map((x) => x.stop()));
    watcher.stop();
    await master.stop();
    const prof = profileDir && newestProfile(profileDir);
    if (prof) result.profile = topSelfTime(prof, repoRoot);
    if (prof) result.longTasks = longTasks(prof, repoRoot, window);
    if (prof) result.idleProfiles = idleWindows.map((w) => topSelfTime(prof, repoRoot, 16, w));
    return result;
  } finally {
    watcher.stop();
    await speed.stop();
    await probe?.kill();
    await pods.stop();
    await nodes.stop();
    await Promise.all(agents.map((x) => x.stop().catch(() => undefined)));
    await master.stop();
    if (!o.keep) rmSync(root, { recursive: true, force: true });
    else say(`kept ${root}`);
  }
}

function writesPerPod(a: ProcSample, b: ProcSample, pods: number): number {
  return a.writeBytes < 0 || b.writeBytes < 0 ? NaN : (b.writeBytes - a.writeBytes) / pods;
}

function perNodeMinute(bytes: number, nodes: number, ms: number): number {
  return ms > 0 ? bytes / nodes / (ms / 60_000) : 0;
}

/**
 * Waits until the fleet has settled: every agent's metrics since its connect carried its node and every pod it runs
 * (in-process, polled every 250 ms), and then the master holds a fresh sample of `n` objects of `kind` (its `top` verb,
 * as `kubectl top`): every node's first whole metrics message taken, or every pod's first sample. The master is asked
 * only once the agents have sent (a `top` of 10,000 pods is a list's work, and its garbage must not land in the window).
 */
async function waitSettled(api: import('../../cli/types.js').Api, agents: SimAgent[], kind: 'Node' | 'Pod', n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const late = (what: string) => new Error(`the fleet did not settle in ${timeoutMs} ms: ${what}`);
  while (!agents.every((a) => a.metricsCaughtUp())) {
    if (Date.now() > deadline) throw late(`${agents.filter((a) => !a.metricsCaughtUp()).length} agents have not sent their metrics`);
    await new Promise((r) => setTimeout(r, 250));
  }
  for (;;) {
    await new Promise((r) => setTimeout(r, 500)); // the master's bulk queue takes metrics in its turns
    const { items } = await api.request<{ items: unknown[] }>('top', { kind, allNamespaces: true });
    if (items.length >= n) return;
    if (Date.now() > deadline) throw late(`the master holds metrics of ${items.length}/${n} ${kind}s`);
  }
}

/** Waits until `n` nodes are Ready. */
async function waitAllReady(api: import('../../cli/types.js').Api, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { items } = await api.request<{ items: Node[] }>('list', { kind: 'Node' });
    const ready = items.filter((x) => readyStatus(x) === 'True').length;
    if (ready >= n) return;
    if (Date.now() > deadline) throw new Error(`only ${ready}/${n} nodes Ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
