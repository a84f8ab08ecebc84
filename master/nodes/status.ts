/**
 * Node status from agents: the retained `status` message creates or refreshes the Node object
 * (capacity, allocatable, addresses, nodeInfo, well-known labels, Ready=True); the Will
 * (`online: false`) and missing leases (after `nodeMonitorGraceMs`) turn Ready to Unknown.
 * Eviction and taints on unreachable nodes are the node lifecycle controller's job.
 */
import { agentReconnectMaxMs, readyCondition, readyStatus, type Condition, type Node, type NodeStatusMessage, type LeaseMessage } from '../../protocol/index.js';
import { realClock, type Clock, type Timer } from '../clock.js';
import type { ControllerContext } from '../controllers/types.js';
import { checkNodeStatus } from './restriction.js';

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

/**
 * Time the master itself could not listen: how late each lease check ran (a check due every second that runs
 * 4 s late means the event loop was blocked ~4 s, and no lease could be read meanwhile). A node's grace is
 * extended by the stalls since it was last heard, so a master that falls behind never blames its nodes (issue 16:
 * 1,000 nodes marked NotReady at once while their leases waited in the master's own queue).
 */
export class StallLedger {
  /** [when the stall ended, how long it was], oldest first, kept for `keepMs`. */
  private readonly stalls: [number, number][] = [];

  constructor(private readonly keepMs: number) {}

  /** A check ran at `now` that was due at `due`. */
  record(due: number, now: number): void {
    const late = now - due;
    if (late > 0) this.stalls.push([now, late]);
    while (this.stalls.length && this.stalls[0][0] < now - this.keepMs) this.stalls.shift();
  }

  /** How long the master was stalled after `since`. */
  since(since: number): number {
    let ms = 0;
    for (const [at, late] of this.stalls) if (at > since) ms += late;
    return ms;
  }
}

/** Tracks node status and leases. */
export class NodeStatusTracker {
  /** node → ms of the last lease or status seen. */
  private readonly lastSeen = new Map<string, number>();
  private readonly clock: Clock;
  private readonly startedAt: number;
  private timer?: Timer;
  private readonly stalls: StallLedger;
  private nextCheck = 0;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly nodeMonitorGraceMs: number,
    /** An unchanged condition's lastHeartbeatTime is refreshed at most this often (status or lease). */
    private readonly heartbeatRefreshMs = HEARTBEAT_REFRESH_MS,
  ) {
    this.clock = ctx.clock ?? realClock;
    this.startedAt = this.clock.now();
    this.stalls = new StallLedger(nodeMonitorGraceMs * 4);
  }

  /** Starts the lease check (every second). */
  start(): void {
    this.nextCheck = this.clock.now() + checkEveryMs;
    this.timer = this.clock.every(checkEveryMs, () => {
      const now = this.clock.now();
      this.stalls.record(this.nextCheck, now);
      this.nextCheck = now + checkEveryMs;
      void this.checkLeases(now).catch((err) => this.ctx.log.error('lease check failed', { err }));
    });
  }

  /** The node was heard from now (its lease read off the connection, before any queue: broker/index.ts onLease). */
  heard(node: string): void {
    this.lastSeen.set(node, this.clock.now());
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** When the node was last heard from (ms since epoch), if ever since the master started. */
  lastHeard(node: string): number | undefined {
    return this.lastSeen.get(node);
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
      this.lastSeen.delete(node);
      await this.markUnknown(node, 'NodeStatusUnknown', 'Agent went offline (MQTT Will or clean disconnect).');
      return;
    }
    const now = this.clock.now();
    this.lastSeen.set(node, now);
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
  async onLease(node: string, _m: LeaseMessage): Promise<void> {
    const now = this.clock.now();
    this.lastSeen.set(node, now);
    const n = this.ctx.informers.get('Node', undefined, node);
    if (!n?.status?.capacity) return;
    const ready = readyCondition(n);
    // Nothing is written for a lease of a Ready node until its (spread) refresh is due: the lease itself lives in memory.
    const stale = !ready?.lastHeartbeatTime || now - Date.parse(ready.lastHeartbeatTime) >= this.refreshOf(node, ready);
    if (ready?.status !== 'True' || stale) {
      let was = undefined as Condition['status'] | undefined; // set by the mutation (its last try)
      await this.ctx.objects.mutate('Node', undefined, node, (cur) => {
        was = readyStatus(cur);
        cur.status = { ...(cur.status ?? {}), conditions: setCondition(cur.status?.conditions, agentReady, now, this.refreshOf(node, readyCondition(cur))) };
        return cur;
      });
      if (was !== 'True') this.nodeReady(node);
    }
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
   * time the master itself was stalled since the node was last heard (StallLedger).
   */
  async checkLeases(now = this.clock.now()): Promise<void> {
    for (const n of this.ctx.informers.list('Node')) {
      if (readyStatus(n) !== 'True') continue;
      const heard = this.lastSeen.get(n.metadata.name);
      const since = heard ?? this.startedAt + agentReconnectMaxMs;
      if (now - since <= this.nodeMonitorGraceMs) continue;
      const stalled = this.stalls.since(since);
      if (now - since - stalled <= this.nodeMonitorGraceMs) continue;
      const silent = heard === undefined ? `no lease since the master started ${Math.round((now - this.startedAt) / 1000)}s ago` : `no lease for ${Math.round((now - heard) / 1000)}s`;
      const behind = stalled > 0 ? `, of which the master was stalled ${Math.round(stalled / 1000)}s` : '';
      await this.markUnknown(n.metadata.name, 'NodeStatusUnknown', `Agent stopped posting node status (${silent}${behind}).`);
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
