/**
 * Each node's silence: when it was last heard, whether its agent follows the assigned lease interval, its grace
 * (lease-interval.ts nodeGraceMs), and which nodes' grace ran out — looking only at nodes whose deadline came
 * (lease-deadlines.ts), with the grace extended by the master's own stalls (lease-stalls.ts). The NodeStatusTracker
 * (status.ts) feeds it and turns what ran out into Ready=Unknown.
 */
import { agentReconnectMaxMs, leaseIntervalRefusal, type LeaseMessage } from '../../protocol/index.js';
import { LeaseDeadlines } from './lease-deadlines.js';
import { graceIntervals, nodeGraceMs } from './lease-interval.js';
import { StallLedger } from './lease-stalls.js';

/** The lease interval the master assigns and its ceiling (lease-announcer.ts); without one, grace is fixed. */
export interface AssignedLeases {
  /** The interval a following node's grace is scaled by now (LeaseAnnouncer.graceIntervalMs). */
  assignedMs(): number;
  /** The longest interval ever assigned: how far back the master's own stalls are kept. */
  readonly maxMs: number;
}

/** A node whose grace ran out: how long it was silent, the master's stalls in that time, and its grace. */
export interface Silent {
  node: string;
  /** When it was last heard; undefined: never since the master started. */
  heard?: number;
  silentMs: number;
  stalledMs: number;
  graceMs: number;
}

/** The silence of every node. */
export class LeaseWatch {
  /** node → ms of the last lease or status seen. */
  private readonly lastSeen = new Map<string, number>();
  /** node → the lease interval its agent says it follows (LeaseMessage.intervalMs); absent for older agents. */
  private readonly follows = new Map<string, number>();
  /** When each watched node's silence is next looked at. */
  private readonly deadlines = new LeaseDeadlines();
  /** True once every Ready node was armed (the first check); later ones are armed by `watch` and `seen`. */
  private scanned = false;
  /** How late the lease checks ran (the master's own stalls). */
  readonly stalls: StallLedger;

  constructor(
    /** When this master started, ms: a node not heard since counts from then plus the agents' reconnect cap. */
    private readonly startedAt: number,
    private readonly monitorGraceMs: number,
    private readonly leases?: AssignedLeases,
  ) {
    this.stalls = new StallLedger(Math.max(monitorGraceMs, graceIntervals * (leases?.maxMs ?? 0)) * 4);
  }

  /** `node` was heard at `now`; its silence is watched from then if nothing watches it yet. */
  seen(node: string, now: number): void {
    this.lastSeen.set(node, now);
    if (this.scanned && !this.deadlines.has(node)) this.deadlines.arm(node, now + this.graceOf(node));
  }

  /** Remembers that a lease says its agent follows the assignment (a value out of bounds is not believed). */
  follow(node: string, m: LeaseMessage): void {
    if (m.intervalMs === undefined) return;
    if (leaseIntervalRefusal(m.intervalMs, 'intervalMs') === undefined) this.follows.set(node, m.intervalMs);
  }

  /** The agent went offline (its Will): the one that comes back may be another, older one. */
  offline(node: string): void {
    this.lastSeen.delete(node);
    this.follows.delete(node);
  }

  /** The Node was deleted: nothing of it is kept. */
  removed(node: string): void {
    this.offline(node);
    this.deadlines.disarm(node);
  }

  /** The Node is Ready (by any path, the API's too): its silence is watched. */
  watch(node: string): void {
    if (this.scanned && !this.deadlines.has(node)) this.arm(node);
  }

  /** When `node` was last heard, if since the master started. */
  lastHeard(node: string): number | undefined {
    return this.lastSeen.get(node);
  }

  /** The grace of `node` now, ms (lease-interval.ts nodeGraceMs). */
  graceOf(node: string): number {
    if (!this.leases) return this.monitorGraceMs;
    return nodeGraceMs(this.follows.get(node), this.leases.assignedMs(), this.monitorGraceMs);
  }

  /**
   * The nodes whose grace ran out at `now`, among those whose deadline came; `ready` says whether a node is still
   * Ready (others are not watched until they are again); `all` lists the Ready nodes for the first check. A node
   * heard since its deadline was set is watched again from when it was heard.
   */
  expired(now: number, ready: (node: string) => boolean, all: () => Iterable<string>): Silent[] {
    if (!this.scanned) {
      this.scanned = true;
      for (const node of all()) this.arm(node);
    }
    const out: Silent[] = [];
    for (const node of this.deadlines.due(now)) {
      if (!ready(node)) continue;
      const since = this.since(node);
      const graceMs = this.graceOf(node);
      const stalledMs = this.stalls.since(since);
      if (now - since - stalledMs <= graceMs) this.deadlines.arm(node, Math.max(now + 1, since + graceMs + stalledMs + 1));
      else out.push({ node, heard: this.lastSeen.get(node), silentMs: now - since, stalledMs, graceMs });
    }
    return out;
  }

  /** Watches `node`'s silence from when it was last heard (or from the start plus the reconnect cap). */
  private arm(node: string): void {
    this.deadlines.arm(node, this.since(node) + this.graceOf(node));
  }

  /** From when `node`'s silence counts. */
  private since(node: string): number {
    return this.lastSeen.get(node) ?? this.startedAt + agentReconnectMaxMs;
  }
}
