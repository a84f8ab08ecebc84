/**
 * The lease interval rule (Nomad's `max_heartbeats_per_second`: heartbeat TTLs grow with the cluster). The master
 * picks one interval for the whole fleet, so that all leases together stay under a budget: 40 boards keep 2 s
 * leases and 10 s detection, 1,000 boards lease every 10 s (Kubernetes' node lease renew interval) and are found
 * dead after 50 s (Kubernetes: 40 s). A node's grace — silence before it turns NotReady — scales with the interval
 * its agent says it follows; an agent that says nothing (older than the rule) keeps --node-monitor-grace.
 * Pure functions: the table tests (test/unit/lease-interval.test.ts) read as the rule.
 */

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
 * The budget of a master's settings. The longest interval assigned is also capped at --node-monitor-grace: a node
 * whose agent has not said which interval it follows yet (its first lease after a new leader took over, say) is
 * judged by that grace, and must not be able to stay silent longer than it by following the assignment.
 */
export function leaseBudgetOf(c: { maxLeasesPerSecond: number; leaseIntervalMinMs: number; leaseIntervalMaxMs: number; nodeMonitorGraceMs: number }): LeaseBudget {
  return { perSecond: c.maxLeasesPerSecond, minMs: c.leaseIntervalMinMs, maxMs: Math.min(c.leaseIntervalMaxMs, c.nodeMonitorGraceMs) };
}

/** A node's grace is at least this many of its lease intervals (Kubernetes: 40 s grace over a 10 s renew, 4; 5 here so 2 s ↔ 10 s). */
export const graceIntervals = 5;

/** Assigned intervals are whole seconds, rounded up: fewer distinct values, fewer announcements while a fleet grows. */
const stepMs = 1_000;

/**
 * The interval for a fleet of `nodes`: nodes / perSecond seconds, rounded up to a whole second, within [minMs, maxMs].
 * Past maxMs × perSecond nodes the budget is exceeded rather than detection slowed further (5,000 nodes: 500/s).
 */
export function leaseIntervalFor(nodes: number, b: LeaseBudget): number {
  if (b.perSecond <= 0) return b.minMs;
  const even = Math.ceil((Math.max(0, nodes) * 1000) / b.perSecond / stepMs) * stepMs;
  return Math.min(b.maxMs, Math.max(b.minMs, even));
}

/**
 * The grace of one node: max(--node-monitor-grace, graceIntervals × the interval it follows). `followsMs` is what
 * its agent says in its leases (undefined: an older agent, which leases every 2 s whatever the master says); it is
 * taken at least as the interval assigned now (an agent told a longer one a moment ago may not have said so yet)
 * and at most `maxMs` (an agent's claim cannot buy more silence than the master would ever assign).
 */
export function nodeGraceMs(followsMs: number | undefined, assignedMs: number, monitorGraceMs: number, maxMs: number): number {
  if (followsMs === undefined) return monitorGraceMs;
  const interval = Math.min(maxMs, Math.max(followsMs, assignedMs));
  return Math.max(monitorGraceMs, graceIntervals * interval);
}
