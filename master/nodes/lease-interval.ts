/**
 * The lease interval rule (Nomad's `max_heartbeats_per_second`: heartbeat TTLs grow with the cluster). The master
 * picks one interval for the whole fleet, so that all leases together stay under a budget: 40 boards keep 2 s
 * leases and 10 s detection, 1,000 boards lease every 10 s (Kubernetes' node lease renew interval) and are found
 * dead after 50 s (Kubernetes: 40 s). A node's grace — silence before it turns NotReady — scales with the interval
 * assigned, when its agent says it follows it; an agent that says nothing (older than the rule) keeps
 * --node-monitor-grace.
 * Pure functions: the table tests (test/unit/lease-interval.test.ts) read as the rule.
 */
import { leaseIntervalMinMs } from '../../protocol/index.js';

/** The budget and bounds of the rule (master config: maxLeasesPerSecond, leaseIntervalMinMs, leaseIntervalMaxMs). */
export interface LeaseBudget {
  /** Leases per second the whole fleet may send; 0 = assign nothing (every agent keeps its own interval). */
  perSecond: number;
  /** Never shorter than this, ms (the agents' default --lease-interval: 2 s). */
  minMs: number;
  /** Never longer than this, ms (10 s: the kubelet's node lease renew interval). */
  maxMs: number;
}

/** Defaults: 100 leases/s, between 2 s and 10 s. */
export const defaultLeaseBudget: Readonly<LeaseBudget> = Object.freeze({ perSecond: 100, minMs: 2_000, maxMs: 10_000 });

/**
 * The budget of a master's settings. The shortest interval assigned is at most --node-monitor-grace ÷ graceIntervals,
 * so a small fleet keeps exactly that grace (2 s and 10 s by default; a test's 1.5 s grace stays 1.5 s). The longest
 * is at most --node-monitor-grace: a node whose agent has not said it follows the assignment yet (its first lease
 * after a new leader took over, say) is judged by that grace, and must not be able to stay silent longer than it.
 */
export function leaseBudgetOf(c: { maxLeasesPerSecond: number; leaseIntervalMinMs: number; leaseIntervalMaxMs: number; nodeMonitorGraceMs: number }): LeaseBudget {
  const minMs = Math.max(leaseIntervalMinMs, Math.min(c.leaseIntervalMinMs, Math.floor(c.nodeMonitorGraceMs / graceIntervals)));
  return { perSecond: c.maxLeasesPerSecond, minMs, maxMs: Math.max(minMs, Math.min(c.leaseIntervalMaxMs, c.nodeMonitorGraceMs)) };
}

/** A node's grace is at least this many of its lease intervals (Kubernetes: 40 s grace over a 10 s renew, 4; 5 here so 2 s ↔ 10 s). */
export const graceIntervals = 5;

/** Assigned intervals above the minimum are whole seconds, rounded up: fewer distinct values, fewer announcements while a fleet grows. */
const stepMs = 1_000;

/**
 * The interval for a fleet of `nodes`: nodes / perSecond seconds, within [minMs, maxMs] (above minMs rounded up to a
 * whole second).
 * Past maxMs × perSecond nodes the budget is exceeded rather than detection slowed further (5,000 nodes: 500/s).
 */
export function leaseIntervalFor(nodes: number, b: LeaseBudget): number {
  if (b.perSecond <= 0) return b.minMs;
  const even = (Math.max(0, nodes) * 1000) / b.perSecond;
  if (even <= b.minMs) return b.minMs;
  return Math.min(b.maxMs, Math.ceil(even / stepMs) * stepMs);
}

/**
 * The grace of one node: max(--node-monitor-grace, graceIntervals × the interval assigned now) when its agent follows
 * the assignment (it says an interval in its leases: `followsMs`), else --node-monitor-grace (an older agent leases
 * every 2 s whatever the master says). The interval assigned now, not the one the agent last said: a longer one
 * counts at once (the agent may adopt it before its next lease says so), and after a shorter one the agent still on
 * the longer leases 2.5 times or more per grace. An agent's own longer --lease-interval buys no more grace, as before.
 */
export function nodeGraceMs(followsMs: number | undefined, assignedMs: number, monitorGraceMs: number): number {
  if (followsMs === undefined) return monitorGraceMs;
  return Math.max(monitorGraceMs, graceIntervals * assignedMs);
}
