/**
 * Node status from agents: the retained `status` message creates or refreshes the Node object
 * (capacity, allocatable, addresses, nodeInfo, well-known labels, Ready=True); the Will
 * (`online: false`) and missing leases (after `nodeMonitorGraceMs`) turn Ready to Unknown.
 * Eviction and taints on unreachable nodes are the node lifecycle controller's job.
 */
import { readyCondition, readyStatus, type Condition, type Node, type NodeStatusMessage, type LeaseMessage } from '../../protocol/index.js';
import { realClock, type Clock, type Timer } from '../clock.js';
import type { ControllerContext } from '../controllers/types.js';
import type { ChangeHandler } from '../informer.js';
import { LeaseWatch, type AssignedLeases } from './lease-watch.js';
import { checkNodeStatus } from './restriction.js';

export { StallLedger } from './lease-stalls.js';
export type { AssignedLeases } from './lease-watch.js';

/**
 * The Ready reason of a Node that joined and has not posted its status yet (Kubernetes' word for it). Such a
 * node was never reachable, so it is not tainted unreachable: it has no pods to evict, and the scheduler keeps
 * pods off it while it is not Ready anyway.
 */
export const NEVER_UPDATED = 'NodeStatusNeverUpdated';

/** A fact made into a label value (at most 63 of A–Z a–z 0–9 . _ -). */
function labelValue(s: string | undefined): string {
  return (s ?? 'unknown').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '') || 'unknown';
}

/** Labels every node carries, as Kubernetes sets them. */
function wellKnownLabels(node: string, m: NodeStatusMessage): Record<string, string> {
  return {
    'kubernetes.io/arch': labelValue(m.facts?.arch),
    'kubernetes.io/os': labelValue(m.facts?.os ?? 'linux'),
    'kubernetes.io/hostname': node,
    'node.skiff.io/agent-version': labelValue(m.facts?.agentVersion),
    // The board model: a fact the master turns into a label (skiff.io/ is not the node's to set, NodeRestriction).
    ...(typeof m.facts?.boardModel === 'string' ? { 'skiff.io/model': labelValue(m.facts.boardModel) } : {}),
  };
}

/**
 * How often an unchanged condition's lastHeartbeatTime is refreshed: Kubernetes' kubelet posts an unchanged
 * NodeStatus every 5 minutes (nodeStatusReportFrequency) and proves liveness with its Lease in between.
 * Skiff's lease lives in the master's memory, so an unchanged status (every reconnect) writes nothing.
 */
export const HEARTBEAT_REFRESH_MS = 5 * 60_000;

/**
 * The refresh period of one node's unchanged heartbeat: between ¾ and all of `refreshMs`, picked from the node's
 * name and its last heartbeat (deterministic, so a test can reason about it). Nodes that joined together then
 * refresh at different moments, and drift further apart with every refresh, instead of writing in one burst
 * every period (Kubernetes jitters its periodic work the same way: wait.Jitter).
 */
export function spreadRefresh(refreshMs: number, node: string, lastHeartbeatTime: string | undefined): number {
  // FNV-1a over the name and the heartbeat time: a cheap, well-spread fraction in [0, 1).
  let h = 0x811c9dc5;
  for (const ch of `${node}@${lastHeartbeatTime ?? ''}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return Math.round(refreshMs * (0.75 + (0.25 * h) / 2 ** 32));
}

/**
 * Sets (or replaces) one condition, keeping lastTransitionTime when the status does not change. An unchanged
 * condition (status, reason, message) whose lastHeartbeatTime is younger than `refreshMs` is returned as it
 * was, so the caller's write becomes a no-op (objects.mutate skips deep-equal objects).
 */
export function setCondition(conditions: Condition[] | undefined, c: Condition, nowMs = Date.now(), refreshMs = 0): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? list[i] : undefined;
  const beat = prev?.lastHeartbeatTime ? Date.parse(prev.lastHeartbeatTime) : NaN;
  if (prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message && nowMs - beat < refreshMs) return list;
  const now = new Date(nowMs).toISOString();
  const next = { ...c, lastHeartbeatTime: now, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now };
  if (i >= 0) list[i] = next;
  else list.push(next);
  return list;
}

/** The Ready condition of a node whose agent reports (status or lease). */
const agentReady: Condition = { type: 'Ready', status: 'True', reason: 'AgentReady', message: 'skiff-agent is posting ready status' };

/** How often leases are checked, ms. */
const checkEveryMs = 1000;

/** Tracks node status and leases. */
export class NodeStatusTracker {
  /** Each node's silence: last heard, grace, deadlines (lease-watch.ts). */
  private readonly watch: LeaseWatch;
  private readonly clock: Clock;
  private readonly startedAt: number;
  private timer?: Timer;
  private nextCheck = 0;
  /**
   * node → when its Ready heartbeat `beat` is next due for a write (needsWrite): every lease asks, and the answer
   * only changes with the heartbeat written, so the date is parsed and the spread computed once per heartbeat.
   */
  private readonly due = new Map<string, { beat: string; at: number }>();
  /** A Node made Ready by any path is watched; a deleted one is forgotten. */
  private readonly onNode = (obj: Node | undefined, _old: Node | undefined, latest: Node) => {
    if (!obj) (this.watch.removed(latest.metadata.name), this.due.delete(latest.metadata.name));
    else if (readyStatus(obj) === 'True') this.watch.watch(latest.metadata.name);
  };

  constructor(
    private readonly ctx: ControllerContext,
    private readonly nodeMonitorGraceMs: number,
    /** An unchanged condition's lastHeartbeatTime is refreshed at most this often (status or lease). */
    private readonly heartbeatRefreshMs = HEARTBEAT_REFRESH_MS,
    /** The assigned lease interval: a node whose agent follows it gets a grace scaled to it (lease-interval.ts). */
    leases?: AssignedLeases,
  ) {
    this.clock = ctx.clock ?? realClock;
    this.startedAt = this.clock.now();
    this.watch = new LeaseWatch(this.startedAt, nodeMonitorGraceMs, leases);
    ctx.informers.on('Node', this.onNode as ChangeHandler);
  }

  /** Starts the lease check (every second). */
  start(): void {
    this.nextCheck = this.clock.now() + checkEveryMs;
    this.timer = this.clock.every(checkEveryMs, () => {
      const now = this.clock.now();
      this.watch.stalls.record(this.nextCheck, now);
      this.nextCheck = now + checkEveryMs;
      void this.checkLeases(now).catch((err) => this.ctx.log.error('lease check failed', { err }));
    });
  }

  /**
   * The node was heard from now, read off its connection before any queue (broker/index.ts onLease): a lease (with
   * its message) or another message that proves it alive (without). True when that was the whole of a lease's work
   * — the node is Ready and its heartbeat fresh, nothing to write — so the broker need not route it further; false
   * sends it on to `onLease` (through the router, in order with the node's status).
   */
  heard(node: string, lease?: LeaseMessage): boolean {
    const now = this.clock.now();
    this.watch.seen(node, now);
    if (!lease) return false;
    this.watch.follow(node, lease);
    const n = this.ctx.informers.get('Node', undefined, node);
    return !n?.status?.capacity || !this.needsWrite(node, n, now);
  }

  stop(): void {
    this.timer?.cancel();
    this.ctx.informers.off('Node', this.onNode as ChangeHandler);
  }

  /** The grace of `node` now, ms: scaled with the lease interval assigned when its agent follows it (lease-watch.ts). */
  graceOf(node: string): number {
    return this.watch.graceOf(node);
  }

  /** When the node was last heard from (ms since epoch), if ever since the master started. */
  lastHeard(node: string): number | undefined {
    return this.watch.lastHeard(node);
  }

  /**
   * A status message (retained; the Will says online: false). A message that fails validation or sets labels the
   * node may not set (NodeRestriction, restriction.ts) changes nothing: it is logged and recorded as an event.
   */
  async onStatus(node: string, message: unknown): Promise<void> {
    const { objects, events } = this.ctx;
    let m: NodeStatusMessage;
    try {
      m = checkNodeStatus(node, message);
    } catch (err) {
      this.ctx.log.warn('refused a status message', { node, err });
      events.object('Node', undefined, node, 'Warning', 'StatusRefused', (err as Error).message.slice(0, 1024));
      return;
    }
    if (m.online === false) {
      this.watch.offline(node);
      await this.markUnknown(node, 'NodeStatusUnknown', 'Agent went offline (MQTT Will or clean disconnect).');
      return;
    }
    const now = this.clock.now();
    this.watch.seen(node, now);
    const status = (cur: Node | undefined): Node['status'] => ({
      ...(cur?.status ?? {}),
      capacity: m.capacity ?? cur?.status?.capacity,
      allocatable: m.allocatable ?? m.capacity ?? cur?.status?.allocatable,
      addresses: m.addresses ?? cur?.status?.addresses,
      nodeInfo: {
        architecture: m.facts?.arch ?? 'unknown',
        operatingSystem: m.facts?.os ?? 'linux',
        kernelVersion: m.facts?.kernel,
        osImage: m.facts?.osImage,
        // kubectl's VERSION column shows the kubelet's `v1.29.3`; here the agent's `v0.2.0`.
        kubeletVersion: m.facts?.agentVersion ? `v${m.facts.agentVersion}` : 'unknown',
        agentVersion: m.facts?.agentVersion,
        containerRuntimeVersion: (m.runtimes ?? ['process']).join(','),
        runtimes: m.runtimes ?? ['process'],
        nodeVersion: m.facts?.nodeVersion,
        ...(typeof m.facts?.boardModel === 'string' ? { boardModel: m.facts.boardModel.slice(0, 128) } : {}),
        ...(m.containerRuntime ? { containerRuntimeVersion: m.containerRuntime } : {}),
        ...(m.volumeDir ? { volumeDir: m.volumeDir } : {}),
        ...(m.facts?.cgroupVersion ? { cgroupVersion: m.facts.cgroupVersion } : {}),
        ...(m.facts?.cpus ? { cpus: m.facts.cpus } : {}),
        ...(m.facts?.memoryBytes ? { memoryBytes: m.facts.memoryBytes } : {}),
      },
      conditions: [...(m.conditions ?? []).filter((c) => c.type !== agentReady.type), agentReady].reduce<Condition[]>(
        (acc, c) => setCondition(acc, c, now, this.refreshOf(node, acc.find((x) => x.type === c.type))),
        cur?.status?.conditions ?? [],
      ),
    });
    const labels = { ...(m.labels ?? {}), ...wellKnownLabels(node, m) };
    let was = undefined as Condition['status'] | undefined; // set by the mutation (its last try)
    const updated = await objects.mutate('Node', undefined, node, (cur) => {
      was = readyStatus(cur);
      cur.metadata.labels = { ...(cur.metadata.labels ?? {}), ...labels };
      // Taints the agent declares (--taints) join the ones set through the API.
      const taints = [...(cur.spec?.taints ?? [])];
      for (const t of m.taints ?? []) if (!taints.some((x) => x.key === t.key && x.effect === t.effect)) taints.push(t);
      cur.spec = { ...(cur.spec ?? {}), ...(taints.length ? { taints } : {}) };
      cur.status = status(cur);
      return cur;
    });
    if (!updated) {
      await objects.create<Node>({ apiVersion: 'v1', kind: 'Node', metadata: { name: node, labels }, spec: m.taints?.length ? { taints: m.taints } : {}, status: status(undefined) });
      events.object('Node', undefined, node, 'Normal', 'RegisteredNode', `Node ${node} registered`);
    }
    if (was !== 'True') this.nodeReady(node);
  }

  /** The Ready transition's event (and so its log line), as the kubelet records it. */
  private nodeReady(node: string): void {
    this.ctx.events.object('Node', undefined, node, 'Normal', 'NodeReady', `Node ${node} status is now: NodeReady`);
  }

  /**
   * A lease (heartbeat). Cheap: memory only, unless the node was not Ready or its Ready heartbeat is older
   * than the refresh period (one write per node per `heartbeatRefreshMs`, as the kubelet's periodic status).
   */
  async onLease(node: string, m: LeaseMessage): Promise<void> {
    const now = this.clock.now();
    this.watch.seen(node, now);
    this.watch.follow(node, m);
    const n = this.ctx.informers.get('Node', undefined, node);
    if (!n?.status?.capacity || !this.needsWrite(node, n, now)) return;
    let was = undefined as Condition['status'] | undefined; // set by the mutation (its last try)
    await this.ctx.objects.mutate('Node', undefined, node, (cur) => {
      was = readyStatus(cur);
      cur.status = { ...(cur.status ?? {}), conditions: setCondition(cur.status?.conditions, agentReady, now, this.refreshOf(node, readyCondition(cur))) };
      return cur;
    });
    if (was !== 'True') this.nodeReady(node);
  }

  /**
   * True when a lease of `n` must be written: it is not Ready, or its Ready heartbeat is older than its (spread)
   * refresh period. Otherwise the lease lives in memory only.
   */
  private needsWrite(node: string, n: Node, now: number): boolean {
    const ready = readyCondition(n);
    const beat = ready?.lastHeartbeatTime;
    if (ready?.status !== 'True' || !beat) return true;
    let due = this.due.get(node);
    if (due?.beat !== beat) this.due.set(node, (due = { beat, at: Date.parse(beat) + this.refreshOf(node, ready) }));
    return now >= due.at;
  }

  /** This node's refresh period for an unchanged condition, spread per node (spreadRefresh). */
  private refreshOf(node: string, c: Condition | undefined): number {
    return spreadRefresh(this.heartbeatRefreshMs, node, c?.lastHeartbeatTime);
  }

  /**
   * Marks nodes whose lease is older than the grace period as Ready=Unknown. A node not heard from since this
   * master started counts from the start (as Kubernetes' node lifecycle controller does) plus the agents'
   * reconnect back-off cap: its agent may wait that long after the master is back before it tries again, and
   * marking it Unknown meanwhile would evict healthy pods once the toleration ran out. The grace is extended by the
   * time the master itself was stalled since the node was last heard (StallLedger). Only nodes whose deadline came
   * are looked at (lease-deadlines.ts): a node heard since is armed again from when it was heard.
   */
  async checkLeases(now = this.clock.now()): Promise<void> {
    const ready = (n: Node | undefined) => readyStatus(n) === 'True';
    const expired = this.watch.expired(
      now,
      (name) => ready(this.ctx.informers.get('Node', undefined, name)),
      () => this.ctx.informers.list('Node').filter(ready).map((n) => n.metadata.name),
    );
    for (const { node, heard, silentMs, stalledMs, graceMs } of expired) {
      const silent = heard === undefined ? `no lease since the master started ${Math.round((now - this.startedAt) / 1000)}s ago` : `no lease for ${Math.round(silentMs / 1000)}s`;
      const behind = stalledMs > 0 ? `, of which the master was stalled ${Math.round(stalledMs / 1000)}s` : '';
      const scaled = graceMs > this.nodeMonitorGraceMs ? `, grace ${Math.round(graceMs / 1000)}s for its lease interval` : '';
      await this.markUnknown(node, 'NodeStatusUnknown', `Agent stopped posting node status (${silent}${behind}${scaled}).`);
    }
  }

  private async markUnknown(node: string, reason: string, message: string): Promise<void> {
    const before = readyStatus(this.ctx.informers.get('Node', undefined, node));
    await this.ctx.objects.mutate('Node', undefined, node, (cur) => {
      if (readyStatus(cur) === 'Unknown') return undefined;
      cur.status = { ...(cur.status ?? {}), conditions: setCondition(cur.status?.conditions, { type: 'Ready', status: 'Unknown', reason, message }, this.clock.now()) };
      return cur;
    });
    if (before === 'True') this.ctx.events.object('Node', undefined, node, 'Normal', 'NodeNotReady', `Node ${node} status is now: NodeNotReady (${message})`);
  }
}
