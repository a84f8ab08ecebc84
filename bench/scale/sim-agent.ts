/**
 * One simulated agent for the scale harness: a real protocol speaker without processes. It joins with the
 * agent's own join code (join token exchange → node credential, over TLS the node certificate), connects with
 * the agent's own Session (Will, back-off), publishes its retained online status and a lease every
 * `leaseIntervalMs` in which it sent nothing else (as the agent: any message proves it alive), subscribes to its desired set, and answers every pod in it with a Running report (and every
 * terminating pod with `gone`), as the real agent does once its processes are up. Like the agent it asks for
 * desired deltas (`resync` once a full set says `deltas`, and on every connect) and merges them with the agent's
 * own applyDelta; with `fullSets` it behaves as an older agent that only takes the retained full sets.
 */
import { mkdirSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import type { MqttClient } from 'mqtt';
import { decodeObject, encode } from '../../protocol/codec.js';
import type { DesiredMessage, DesiredResync, MetricsMessage, NodeStatusMessage, PodReport, PodsMessage } from '../../protocol/messages.js';
import { topics } from '../../protocol/topics.js';
import { parseLeaseConfig } from '../../protocol/lease.js';
import { LEASE_JITTER, LEASE_QOS, METRICS_QOS, TelemetryPacer } from '../../edge-agent/telemetry.js';
import type { Pod, PodStatus } from '../../protocol/index.js';
import { resolveOptions } from '../../edge-agent/config.js';
import { checkDesired } from '../../edge-agent/desired.js';
import { applyDelta, isDelta } from '../../edge-agent/desired-delta.js';
import { onlineStatus } from '../../edge-agent/facts.js';
import { join } from '../../edge-agent/join.js';
import type { Logger } from '../../edge-agent/log.js';
import { Session } from '../../edge-agent/session.js';
import type { NodeTls } from '../../edge-agent/tls.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The most reports in one `pods` message (the master refuses more: master/nodes/pod-report.ts). */
const reportsPerMessage = 500;

/** What the harness reads from each agent. */
export interface SimAgentStats {
  /** Bytes read and written on this agent's MQTT connections so far (all of them, reconnects included). */
  bytes(): number;
  /** Times the connection came up (1 = never dropped). */
  connects: number;
  /** MQTT packets this agent sent and received so far, and the PINGREQs among those sent (what an idle master reads and writes). */
  packets: { sent: number; received: number; pings: number };
  /** Desired-set messages received and refused (bad shape). */
  desiredMessages: number;
  desiredRefused: number;
  /** Pods this agent reports Running now. */
  running: number;
  /**
   * True once this connection's metrics carried the node and every pod running now: the first whole message went, and
   * a delta since with every new pod (the master holds them once it took the message: run.ts checks with `top`).
   */
  metricsCaughtUp(): boolean;
}

/** A connected simulated agent. */
export interface SimAgent extends SimAgentStats {
  name: string;
  stop(): Promise<void>;
}

/** Where and how an agent joins. */
export interface SimAgentOptions {
  url: string;
  joinToken: string;
  name: string;
  dataDir: string;
  leaseIntervalMs: number;
  /**
   * Lease every `leaseIntervalMs` whatever the master assigns, and never say which interval (an agent older than
   * the lease budget; the bench's `--lease MS`). Otherwise it follows `cluster/lease` as the agent does.
   */
  fixedLease?: boolean;
  /** Behave as an agent older than desired deltas: never send `resync`, take the retained full sets. */
  fullSets?: boolean;
}

/** A pod's status as the agent reports it once its containers run and are ready. */
export function runningStatus(p: Pod, now: string): PodStatus {
  const ready = [
    { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
    { type: 'Initialized', status: 'True', lastTransitionTime: now },
    { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
    { type: 'Ready', status: 'True', lastTransitionTime: now },
  ] as PodStatus['conditions'];
  return {
    phase: 'Running',
    startTime: now,
    hostIP: '127.0.0.1',
    podIP: '127.0.0.1',
    conditions: ready,
    containerStatuses: p.spec.containers.map((c) => ({ name: c.name, ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } })),
  } as PodStatus;
}

/** Joins and connects one simulated agent; resolves once it has sent its status and subscribed. */
export async function startSimAgent(o: SimAgentOptions): Promise<SimAgent> {
  mkdirSync(o.dataDir, { recursive: true });
  const cfg = resolveOptions({ master: o.url, token: o.joinToken, name: o.name, dataDir: o.dataDir, address: '127.0.0.1', logger: quiet, leaseIntervalMs: o.leaseIntervalMs });
  const joined = await join(cfg, o.joinToken);
  const session = new Session({
    url: o.url,
    clientId: `skiff-agent-${o.name}`,
    username: o.name,
    keepaliveSeconds: cfg.keepaliveSeconds,
    will: { topic: topics.nodeStatus(o.name), payload: encode({ node: o.name, online: false } satisfies NodeStatusMessage) },
    reconnect: cfg.reconnect,
    log: quiet,
  });
  if (joined.tls) session.setTls(joined.tls as NodeTls);
  const pods = new PodBook();
  let generation = 0;
  /** The set held (what a delta applies to), and whether this connection asked for deltas yet (as the agent: edge-agent/agent.ts). */
  let held: DesiredMessage | undefined;
  let askedDeltas = false;
  const resync = () => {
    askedDeltas = true;
    if (session.publish(topics.nodeResync(o.name), encode({ generation: held?.generation ?? 0 } satisfies DesiredResync), 1)) lease.published();
  };
  let closedBytes = 0;
  let current: MqttClient | undefined;
  const streamBytes = (c?: MqttClient) => {
    const s = c?.stream as { bytesRead?: number; bytesWritten?: number } | undefined;
    return (s?.bytesRead ?? 0) + (s?.bytesWritten ?? 0);
  };
  const counted = new WeakSet<MqttClient>();
  const agent: SimAgent = {
    name: o.name,
    connects: 0,
    packets: { sent: 0, received: 0, pings: 0 },
    desiredMessages: 0,
    desiredRefused: 0,
    get running() {
      return pods.size;
    },
    metricsCaughtUp: () => reported !== undefined && pods.all((uid) => reported!.has(uid)),
    bytes: () => closedBytes + streamBytes(current),
    async stop() {
      clearInterval(metricsTimer);
      lease.stop();
      await session.stop();
    },
  };
  const status = encode(onlineStatus(cfg, ['process']));
  // Every message proves the node alive as a lease does: the agent leases only when it sent nothing else for a period
  // (edge-agent/agent.ts lease: any publish counts, session.lastPublishAt), so a node reporting pods leases less.
  const report = (m: PodsMessage) => session.publish(topics.nodePods(o.name), encode(m), 1) && lease.published();
  session.on('message', (topic, payload) => {
    if (topic === topics.leaseConfig) return lease.onConfig(payload);
    if (topic !== topics.nodeDesired(o.name) || payload.length === 0) return; // empty: the retained set cleared at the first resync
    agent.desiredMessages++;
    const value = decodeObject(payload).value;
    const checked = isDelta(value) ? applyDelta(held, value) : checkDesired(value);
    if (!checked.ok) {
      if ('resync' in checked && checked.resync) return resync();
      return void agent.desiredRefused++;
    }
    if (checked.desired.generation < generation) return;
    generation = checked.desired.generation;
    held = checked.desired;
    for (const m of pods.apply(checked.desired, generation)) report(m);
    if (!o.fullSets && checked.desired.deltas && !askedDeltas) resync();
  });
  const up = new Promise<void>((resolve) => {
    session.on('connect', async (client) => {
      if (current && current !== client) closedBytes += streamBytes(current);
      current = client;
      if (!counted.has(client)) {
        counted.add(client);
        client.on('packetsend', (p) => (agent.packets.sent++, p.cmd === 'pingreq' && agent.packets.pings++));
        client.on('packetreceive', () => agent.packets.received++);
      }
      agent.connects++;
      askedDeltas = false;
      pacer.reconnected(); // the next metrics message is a whole one, as the agent's
      reported = undefined;
      if (session.publish(topics.nodeStatus(o.name), status, 1, true)) lease.published();
      if (!o.fullSets && held?.deltas) resync(); // every connect, as the agent
      await session.subscribe([topics.nodeDesired(o.name)]).catch(() => undefined);
      if (!o.fixedLease) await session.subscribe([topics.leaseConfig]).catch(() => undefined);
      if (!o.fixedLease) lease.now();
      // After a reconnect the master may have missed reports: send the whole set again, as the agent does.
      if (agent.connects > 1) for (const m of pods.full(generation)) report(m);
      resolve();
    });
  });
  const lease = new SimLease(cfg.leaseIntervalMs, !o.fixedLease, (m) => session.publish(topics.nodeLease(o.name), encode({ generation, ...m }), LEASE_QOS));
  // Metrics as the agent sends them (edge-agent/agent.ts sampleMetrics): a sample every metricsIntervalMs from the
  // start, paced by the agent's own TelemetryPacer — the first message after a connect whole, then deltas of the pods
  // that are new or moved, an empty delta every KEEP_MS; each counts as a lease, at the agent's QoS. A simulated pod
  // never moves.
  const pacer = new TelemetryPacer(cfg.leaseIntervalMs, 1, cfg.metricsIntervalMs);
  /** The pods the metrics sent since this connect's whole message carried (undefined: none sent yet). */
  let reported: Set<string> | undefined;
  const metricsTimer = setInterval(() => {
    const m = pacer.metrics({ ts: Date.now(), node: simNodeSample, pods: pods.samples() });
    if (!m || !session.publish(topics.nodeMetrics(o.name), encode(m), METRICS_QOS)) return;
    lease.published();
    if (!m.delta) reported = new Set();
    for (const p of m.pods) reported?.add(p.uid);
  }, cfg.metricsIntervalMs);
  session.start(joined.credential);
  await up;
  return agent;
}

/**
 * A simulated agent's leases, as the agent's (edge-agent/telemetry.ts): every max(own, assigned) ms, each period
 * drawn up to LEASE_JITTER short so agents that joined together drift apart; `follow` off = an older agent.
 */
class SimLease {
  private assignedMs = 0;
  private timer?: NodeJS.Timeout;
  private lastSent = Date.now();
  private jitter = 1;

  constructor(
    private readonly ownMs: number,
    private readonly follow: boolean,
    private readonly send: (m: { intervalMs?: number }) => void,
  ) {
    this.schedule();
  }

  /** The interval followed now. */
  get intervalMs(): number {
    return Math.max(this.ownMs, this.assignedMs);
  }

  /** A `cluster/lease` message: followed when valid (the agent logs what it refuses; the bench only counts on it). */
  onConfig(payload: Buffer): void {
    const c = parseLeaseConfig(payload);
    if ('error' in c) return;
    this.assignedMs = c.intervalMs;
    this.schedule();
  }

  /** A lease now (every connect, as the agent: the master learns the interval it follows at once). */
  now(): void {
    this.send(this.follow ? { intervalMs: this.intervalMs } : {});
    this.lastSent = Date.now();
    this.jitter = 1 - LEASE_JITTER * Math.random();
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Another message went out: it proves liveness as a lease would (the agent's TelemetryPacer.published). */
  published(): void {
    this.lastSent = Date.now();
    this.jitter = 1 - LEASE_JITTER * Math.random();
    this.schedule();
  }

  /** The next lease one (jittered) period after the last one. */
  private schedule(): void {
    clearTimeout(this.timer);
    const wait = this.lastSent + this.intervalMs * this.jitter - Date.now();
    this.timer = setTimeout(() => this.now(), Math.max(0, wait));
  }
}

/** A board's sample as the agent's metrics take it: a quiet Raspberry Pi's cpu and memory. */
const simNodeSample = { cpuMilli: 120, memoryBytes: 300 << 20, cpuSeconds: 1000 };
/** One running pod's sample: one container using little, steadily (it never moves enough to be news again). */
const simPodUsage = { cpuMilli: 2, memoryBytes: 12 << 20, cpuSeconds: 0.05 };

/** The pods an agent "runs": what it reported Running, by uid. */
class PodBook {
  private readonly running = new Map<string, PodReport>();

  /** Each running pod's metrics sample, as edge-agent/metrics.ts makes them (per container too). */
  samples(): MetricsMessage['pods'] {
    return [...this.running.values()].map((r) => ({
      namespace: r.namespace,
      name: r.name,
      uid: r.uid,
      ...simPodUsage,
      containers: (r.status.containerStatuses ?? []).map((c) => ({ name: c.name, cpuSeconds: simPodUsage.cpuSeconds, memoryBytes: simPodUsage.memoryBytes })),
    }));
  }

  get size(): number {
    return this.running.size;
  }

  /** True when `fn` holds for every running pod's uid. */
  all(fn: (uid: string) => boolean): boolean {
    for (const uid of this.running.keys()) if (!fn(uid)) return false;
    return true;
  }

  /** The reports a new desired set calls for: new pods Running, terminating or removed pods gone. */
  apply(d: DesiredMessage, generation: number): PodsMessage[] {
    const now = new Date().toISOString();
    const fresh: PodReport[] = [];
    const gone: string[] = [];
    const wanted = new Set<string>();
    for (const p of d.pods) {
      const uid = p.metadata.uid!;
      if (p.metadata.deletionTimestamp) continue; // stopped at once: reported gone below
      wanted.add(uid);
      if (this.running.has(uid)) continue;
      const r: PodReport = { namespace: p.metadata.namespace ?? 'default', name: p.metadata.name, uid, status: runningStatus(p, now) };
      this.running.set(uid, r);
      fresh.push(r);
    }
    for (const uid of [...this.running.keys()]) if (!wanted.has(uid)) (this.running.delete(uid), gone.push(uid));
    for (const p of d.pods) if (p.metadata.deletionTimestamp) gone.push(p.metadata.uid!);
    return chunks(fresh, gone, generation, false);
  }

  /** Everything, as the full report after a reconnect. */
  full(generation: number): PodsMessage[] {
    return chunks([...this.running.values()], [], generation, true);
  }
}

function chunks(reports: PodReport[], gone: string[], generation: number, full: boolean): PodsMessage[] {
  const out: PodsMessage[] = [];
  for (let i = 0; i < reports.length; i += reportsPerMessage) out.push({ pods: reports.slice(i, i + reportsPerMessage), generation });
  if (gone.length) out.push({ pods: [], gone, generation });
  if (full && out.length === 0) out.push({ pods: [], generation });
  if (full) out[0].full = true;
  return out;
}

/** Joins `count` agents, `concurrency` at a time; resolves when all are up. */
export async function startSimFleet(o: { url: string; joinToken: string; count: number; dir: string; leaseIntervalMs: number; fixedLease?: boolean; concurrency?: number; prefix?: string; fullSets?: boolean }): Promise<SimAgent[]> {
  const names = Array.from({ length: o.count }, (_, i) => `${o.prefix ?? 'sim'}-${i}`);
  const agents: SimAgent[] = [];
  const queue = [...names];
  const worker = async () => {
    for (let name = queue.shift(); name; name = queue.shift())
      agents.push(await startSimAgent({ url: o.url, joinToken: o.joinToken, name, dataDir: joinPath(o.dir, name), leaseIntervalMs: o.leaseIntervalMs, fixedLease: o.fixedLease, fullSets: o.fullSets }));
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 20 }, worker));
  return agents;
}
