/**
 * How little the agent sends when nothing happens (docs/edge.md, "Bandwidth"):
 *
 * - **Leases** prove liveness only when nothing else did: every message a node publishes counts as a heartbeat
 *   at the master (master/router.ts), so a lease goes out only after `period` without any other message. The
 *   period is `leaseIntervalMs` (2 s) while things change (a connect, a desired set, a pod status report in the
 *   last ACTIVE_MS) and IDLE_FACTOR × that (4 s) when the node is quiet: the master's node-monitor grace (10 s)
 *   still sees two leases, and one lost lease leaves an 8 s gap. A master with a lease budget assigns a longer
 *   interval to a large fleet (`cluster/lease`, protocol/lease.ts): both periods are then at least that one, and
 *   the master's grace for the node grows with it. Each period is drawn a little short (LEASE_JITTER), so agents
 *   that connected together drift apart instead of leasing in bursts.
 * - **Metrics** are sampled every `metricsIntervalMs` (10 s) and sent as deltas: the first message after a
 *   connect, and one every FULL_EVERY_MS, carry every pod; the others only the pods (and the node) whose cpu or
 *   memory moved beyond a threshold (the node's at most every NODE_EVERY_MS), and the master keeps the rest
 *   (master/metrics.ts). With nothing to say, an
 *   empty delta every KEEP_MS keeps the master's samples from expiring (its TTL is 60 s).
 */
import type { MetricsMessage } from '../protocol/messages.js';

/** How long after a change the node counts as active (leases at the configured interval). */
export const ACTIVE_MS = 30_000;
/** A quiet node's lease period, as a multiple of the configured one. */
export const IDLE_FACTOR = 2;
/** A lease period is drawn from [1 - LEASE_JITTER, 1] × the period: never later, so the master's grace holds. */
export const LEASE_JITTER = 0.15;
/**
 * Leases go at QoS 1. The master's PUBACK then tells the agent the master is alive, and mqtt.js defers its keep-alive
 * PINGREQ on every acknowledgement, so while leases flow no ping goes out: a ping and its PINGRESP had cost the master
 * a read and a write as dear as the lease itself, every keep-alive (10 s) on every node (docs/scale.md, session 22).
 * A dead master is still found within 1.5 keep-alives (no acknowledgement, then the ping goes unanswered). An older
 * master takes a QoS 1 lease through its broker, as any other message of the node.
 */
export const LEASE_QOS = 1 as const;
/**
 * Metrics go at QoS 1 too, for the same reason. A metrics message stands in for a lease (`published`), so the next
 * lease comes a whole period after it; at QoS 0 nothing acknowledged it, mqtt.js sent its PINGREQ one keep-alive after
 * the last lease's PUBACK — before that next lease — and the master read the ping and wrote a PINGRESP through its
 * broker: every metrics message (an empty delta every ~50 s on an idle board) cost the master two reads and a write
 * instead of one read and one write (docs/scale.md, session 23). The master's fast path acknowledges it where it
 * reads it; an older master acknowledges it through its broker.
 */
export const METRICS_QOS = 1 as const;
/** A full metrics message at least this often (and after every connect). */
export const FULL_EVERY_MS = 5 * 60_000;
/** Cpu seconds used since the value the master holds that make a sample news (its counter would stall otherwise). */
export const CPU_SECONDS_NEWS = 1;
/** A moving node sample goes at most this often (at the default 10 s sampling; NODE_EVERY_SAMPLES samples otherwise). */
export const NODE_EVERY_MS = 30_000;
/** An empty delta at least this often: the master forgets samples older than 60 s. */
export const KEEP_MS = 45_000;
/** NODE_EVERY_MS and KEEP_MS in samples: an agent sampling faster than every 10 s (a test, a demo) is paced in step. */
const NODE_EVERY_SAMPLES = 3;
const KEEP_SAMPLES = 4.5;

type Sample = { cpuMilli: number; memoryBytes: number; cpuSeconds?: number };
/** A whole sample, as MetricsSampler takes it. */
export type FullSample = MetricsMessage & { node: Sample };

/**
 * Moved enough to be worth a message: cpu by 10 % and at least `cpuFloor` millicores, memory by 5 % and at least
 * `memFloor` bytes (what `top` and the HPA could tell apart; the HPA's own tolerance is 10 %).
 */
export function moved(a: Sample, b: Sample, cpuFloor: number, memFloor: number): boolean {
  const cpu = Math.abs(a.cpuMilli - b.cpuMilli);
  const mem = Math.abs(a.memoryBytes - b.memoryBytes);
  // The cumulative cpu counter (Prometheus' *_cpu_usage_seconds_total) must not stall while the cpu rate is steady:
  // a second of cpu used since the value the master holds is news too. An idle pod never gets there.
  const used = a.cpuSeconds !== undefined && b.cpuSeconds !== undefined && b.cpuSeconds - a.cpuSeconds >= CPU_SECONDS_NEWS;
  return used || (cpu >= cpuFloor && cpu >= 0.1 * Math.max(a.cpuMilli, b.cpuMilli)) || (mem >= memFloor && mem >= 0.05 * Math.max(a.memoryBytes, b.memoryBytes));
}

/** Decides when to lease and what metrics to send; the agent owns the timers and the session. */
export class TelemetryPacer {
  private lastSent = 0;
  private lastChange = 0;
  /** The interval the master assigned, ms (0: none). */
  private assignedMs = 0;
  /** This period's jitter factor (LEASE_JITTER), drawn after each message. */
  private jitter = 1;
  private lastFull = 0;
  private lastMetrics = 0;
  private lastNode = 0;
  private sent?: { node: Sample; pods: Map<string, Sample> };

  constructor(
    private readonly leaseIntervalMs: number,
    /** The node's cpu count: how much node cpu counts as a change. */
    private readonly cpus = 1,
    /** The sampling interval: the node sample and the keep-alive delta are paced in samples when it is short. */
    metricsIntervalMs = 10_000,
    /** [0, 1): the jitter's draw (tests give a fixed one). */
    private readonly random: () => number = Math.random,
  ) {
    this.nodeEveryMs = Math.min(NODE_EVERY_MS, NODE_EVERY_SAMPLES * metricsIntervalMs);
    this.keepMs = Math.min(KEEP_MS, KEEP_SAMPLES * metricsIntervalMs);
  }

  private readonly nodeEveryMs: number;
  private readonly keepMs: number;

  /** Something changed (connect, desired set, pod report): leases at the full rate for a while. */
  changed(now = Date.now()): void {
    this.lastChange = now;
  }

  /** A message went out: it proves liveness as a lease would. */
  published(now = Date.now()): void {
    if (now === this.lastSent) return;
    this.lastSent = now;
    this.jitter = 1 - LEASE_JITTER * this.random();
  }

  /** Follows the interval the master assigned (undefined: none, or an old master). */
  follow(assignedMs: number | undefined): void {
    this.assignedMs = assignedMs ?? 0;
  }

  /** The lease interval this agent follows, ms: its own, or the master's when longer (said in every lease). */
  intervalMs(): number {
    return Math.max(this.leaseIntervalMs, this.assignedMs);
  }

  /** ms until a lease is due (≤ 0: now), the time to look again. */
  leaseInMs(now = Date.now()): number {
    return this.lastSent + this.period(now) - now;
  }

  /** This lease period: the active or the quiet one, never shorter than the assigned interval, jittered. */
  private period(now: number): number {
    const own = now - this.lastChange < ACTIVE_MS ? this.leaseIntervalMs : this.leaseIntervalMs * IDLE_FACTOR;
    return Math.max(own, this.assignedMs) * this.jitter;
  }

  /** The connection is new: the next metrics message is a full one (the master may have restarted). */
  reconnected(now = Date.now()): void {
    this.sent = undefined;
    this.changed(now);
  }

  /** True when a lease is due now. */
  leaseDue(now = Date.now()): boolean {
    // 5 % slack: the timer that asks may fire a little early or late.
    return now - this.lastSent >= this.period(now) * 0.95;
  }

  /** The message to send for this sample, or undefined when nothing moved and the master's copy is fresh. */
  metrics(m: FullSample, now = m.ts): MetricsMessage | undefined {
    const full = !this.sent || now - this.lastFull >= FULL_EVERY_MS;
    const last = this.sent;
    const pods = full || !last ? m.pods : m.pods.filter((p) => !last.pods.has(p.uid) || moved(last.pods.get(p.uid)!, p, 10, 1 << 20));
    // The node's figures move with everything else on the board (news: a quarter of its cpus, or 64 MiB), and
    // only `top nodes` reads them: at most one node sample per NODE_EVERY_MS. Pods' figures (the HPA's) go at once.
    const nodeMoved = full || !last || (now - this.lastNode >= this.nodeEveryMs && moved(last.node, m.node, 250 * this.cpus, 64 << 20));
    if (!full && !pods.length && !nodeMoved && now - this.lastMetrics < this.keepMs) return undefined;
    // What the master now holds: the new values of what is sent, the old ones of the rest.
    const kept = new Map(full || !last ? [] : [...last.pods].filter(([uid]) => m.pods.some((p) => p.uid === uid)));
    for (const p of pods) kept.set(p.uid, { cpuMilli: p.cpuMilli, memoryBytes: p.memoryBytes, ...(p.cpuSeconds !== undefined ? { cpuSeconds: p.cpuSeconds } : {}) });
    this.sent = { node: nodeMoved || !last ? m.node : last.node, pods: kept };
    if (nodeMoved) this.lastNode = now;
    this.lastMetrics = now;
    if (full) {
      this.lastFull = now;
      return m;
    }
    const { node: _node, ...rest } = m;
    return { ...rest, ...(nodeMoved ? { node: m.node } : {}), pods, delta: true };
  }
}
