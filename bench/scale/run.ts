/**
 * One trial of the scale harness: a fresh `skiff master` process, `agents` simulated agents joined over real
 * MQTT, a quiet minute's worth of idle figures, then a Deployment of `pods` replicas applied and followed until
 * every pod is Running — with the nodes watched for any NotReady, the pods for create → Running, the API timed
 * meanwhile, and the master's CPU, memory and disk writes read from /proc — and a second idle spell as long as
 * the first with every pod Running (the steady cost of a full cluster; the first spell also holds the tail of
 * the join).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../cluster-selfheal.js';
import { adminClient, logLines, startMaster } from './master-proc.js';
import { NodeTracker, PodTracker } from './observe.js';
import { ProbeThread, type ProbeFigures } from './probe-worker.js';
import { cpuShare, ProcWatcher, type ProcSample } from './procfs.js';
import { loopSummary, monoAt, type LoopSummary } from './loop.js';
import { longTasks, newestProfile, topSelfTime, type HotFunction, type LongTasks } from './profile.js';
import { startSimFleet, type SimAgent } from './sim-agent.js';
import { readyStatus, type Node } from '../../protocol/index.js';

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
  /** How long the fleet sits idle before the rollout (idle CPU and MQTT figures), ms. */
  idleMs?: number;
  /** Deadline for all pods Running, ms. */
  timeoutMs?: number;
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
  /** Share of one core (1 = 100 %) during the rollout and while idle. */
  masterCpu: number;
  idleCpu: number;
  /** Share of one core while the fleet sits idle after the rollout, every pod Running (the same length as the first idle spell). */
  idleCpuAfter: number;
  /** The master's RSS at the end of that spell (what stays once the rollout's garbage is collected or not). */
  rssAfterBytes: number;
  peakRssBytes: number;
  /** Bytes the master wrote to storage per pod created (during the rollout). */
  writeBytesPerPod: number;
  /** MQTT bytes (both directions, at the agents' sockets) per node per minute: idle and during the rollout. */
  mqttBytesPerNodeMinuteIdle: number;
  mqttBytesPerNodeMinuteRollout: number;
  apiGetMs: number[];
  apiListMs: number[];
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

const sumBytes = (agents: SimAgent[]) => agents.reduce((n, a) => n + a.bytes(), 0);

/** Runs one trial. */
export async function runScale(o: ScaleOptions): Promise<ScaleResult> {
  const say = o.log ?? (() => {});
  const root = mkdtempSync(join(tmpdir(), 'skiff-scale-'));
  const profileDir = o.profile ? join(root, 'profile') : undefined;
  const loopFile = join(root, 'loop.jsonl');
  const master = await startMaster({ dataDir: join(root, 'master'), tls: !!o.tls, grace: o.grace, store: o.store, broker: o.broker, maxReplicas: Math.max(10_000, o.pods), profileDir, loopFile });
  const watcher = new ProcWatcher(master.proc.pid!);
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
    const joinSeconds = (Date.now() - joinStart) / 1000;
    nodes.start(nodeApi);
    say(`${o.agents} nodes Ready after ${joinSeconds.toFixed(1)} s; idle for ${(o.idleMs ?? 10_000) / 1000} s`);
    const idleA = watcher.now()!;
    const idleBytesA = sumBytes(agents);
    await new Promise((r) => setTimeout(r, o.idleMs ?? 10_000));
    const idleB = watcher.now()!;
    const idleBytesB = sumBytes(agents);
    pods.start(watchApi, 'app=scale', o.pollMs ?? 0);
    // In its own thread: the simulated agents' work on this one must not count as the master's latency.
    probe = new ProbeThread({ master: { url: master.url, ca: master.ca, adminToken: master.adminToken }, getParams: { kind: 'Node', name: 'sim-0' }, getEveryMs: 250, listEveryMs: 1000, burst: o.apiSamples ?? { gets: 200, lists: 30 } });
    await probe.started();
    say(`applying a Deployment of ${o.pods} replicas`);
    const a = watcher.now()!;
    const bytesA = sumBytes(agents);
    const t0 = Date.now();
    await master.api.request('apply', { manifest: deployment(o.pods) });
    const allRunning = await pods.allRunning(o.timeoutMs ?? 600_000);
    const t1 = Date.now();
    const b = watcher.now()!;
    const bytesB = sumBytes(agents);
    say(`${pods.runningCount}/${o.pods} Running after ${((t1 - t0) / 1000).toFixed(1)} s; timing the API`);
    const api: ProbeFigures = await probe.stop();
    probe = undefined;
    await pods.stop();
    await nodes.stop();
    say(`idle for ${(o.idleMs ?? 10_000) / 1000} s with every pod Running`);
    const afterA = watcher.now()!;
    await new Promise((r) => setTimeout(r, o.idleMs ?? 10_000));
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
      idleCpu: cpuShare(idleA, idleB),
      idleCpuAfter: cpuShare(afterA, afterB),
      rssAfterBytes: afterB.rssBytes,
      peakRssBytes: watcher.peakRss,
      writeBytesPerPod: writesPerPod(a, b, o.pods),
      mqttBytesPerNodeMinuteIdle: perNodeMinute(idleBytesB - idleBytesA, o.agents, idleB.at - idleA.at),
      mqttBytesPerNodeMinuteRollout: perNodeMinute(bytesB - bytesA, o.agents, t1 - t0),
      apiGetMs: api.getMs,
      apiListMs: api.listMs,
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
    await Promise.all([watchApi.close(), nodeApi.close()].map((p) => p.catch(() => undefined)));
    await Promise.all(agents.splice(0).map((x) => x.stop()));
    watcher.stop();
    await master.stop();
    const prof = profileDir && newestProfile(profileDir);
    if (prof) result.profile = topSelfTime(prof, repoRoot);
    if (prof) result.longTasks = longTasks(prof, repoRoot, window);
    return result;
  } finally {
    watcher.stop();
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
