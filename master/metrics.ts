/**
 * The master's metrics store: the latest cpu/memory sample per pod and per node from the agents'
 * `nodes/{node}/metrics` messages (what `top` and the HPA read, like Kubernetes' metrics-server), and
 * the latest value of each external metric published on `skiff/v1/metrics/{name}` (the HPA's
 * edge-native signal: a queue depth, a sensor backlog).
 *
 * Bounded, because a node's message is the node's word only about itself: a sample is kept only for
 * a pod the cache has bound to the reporting node (same uid), each message replaces that node's
 * samples (at most maxPodsPerNode), a node silent for sampleTtlMs is forgotten, and at most
 * maxExternalMetrics external names are kept, each value at most maxMetricPayloadBytes long.
 */
import { silentLogger, type ContainerSample, type Logger, type MetricsMessage, type Pod } from '../protocol/index.js';
import { NodeHistory } from './telemetry/history.js';

/** One pod's (or node's) sample. */
export interface PodSample {
  cpuMilli: number;
  memoryBytes: number;
  /** When the master received it (ms since epoch; agents' clocks may be off). */
  at: number;
  /** Cumulative cpu seconds (a counter), when the agent reports it (Prometheus). */
  cpuSeconds?: number;
  /** Per container, when the agent reports it (Prometheus' container_* series). */
  containers?: ContainerSample[];
}

/** A node's sample, with which balancer implementation its agent runs. */
export interface NodeSample extends PodSample {
  balancer?: 'wasm' | 'reference';
}

/** At most this many containers of one pod are kept from a sample (a pod has a handful). */
const maxContainers = 32;

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * The well-formed container samples of a pod's entry (names are checked against the pod spec by whoever exports them).
 * A name the pod's spec has is kept as the spec's string: the message's is garbage once read.
 */
function containersOf(v: unknown, pod: Pod): ContainerSample[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const out: ContainerSample[] = [];
  for (const c of v.slice(0, maxContainers)) {
    const cpu = finite(c?.cpuSeconds);
    const mem = finite(c?.memoryBytes);
    if (typeof c?.name === 'string' && c.name.length <= 63 && cpu !== undefined && mem !== undefined) {
      const name = pod.spec.containers?.find((x) => x.name === c.name)?.name ?? c.name;
      out.push({ name, cpuSeconds: cpu, memoryBytes: mem });
    }
  }
  return out;
}

/** An external metric's latest value. */
export interface ExternalSample {
  value: number;
  at: number;
}

/** Samples older than this are ignored (Kubernetes' metrics-server keeps about a minute). */
export const sampleTtlMs = 60_000;

/** How often silent nodes' samples are forgotten at most, ms. */
const expireEveryMs = 1000;

/** Pod samples kept per node message: well above Kubernetes' 110 pods per node. */
export const maxPodsPerNode = 1000;

/** External metric names kept; a new name beyond this is ignored (and logged once). */
export const maxExternalMetrics = 1000;

/** An external metric's payload is one number: anything longer is not read. */
export const maxMetricPayloadBytes = 256;

/** Finds a pod in the cache (the master passes its informers). */
export type PodLookup = (namespace: string, name: string) => Pod | undefined;

/** A pod's sample as kept: with the pod's namespace and name, to check it is still bound to the node. */
interface KeptPodSample extends PodSample {
  namespace: string;
  name: string;
}

/**
 * A node's latest samples. Its pods are keyed by uid, and every string kept (the key, namespace, name) is the cached
 * pod's: nothing is built per sample, and nothing decoded from the message stays — a string msgpackr decoded can be a
 * slice of a whole message's text, which it would keep alive (a 20,000-pod heap held ~4 MB of metrics messages so).
 */
interface NodeSamples {
  node?: NodeSample;
  pods: Map<string, KeptPodSample>;
  at: number;
}

/** Latest samples, in memory. */
export class MetricsStore {
  private readonly byNode = new Map<string, NodeSamples>();
  /** The last hour of every node's cpu and memory (the dashboard's charts). */
  readonly history = new NodeHistory();
  private readonly external = new Map<string, ExternalSample>();
  private readonly listeners = new Set<(kind: 'pods' | 'external', name: string) => void>();
  private warnedFull = false;
  /** When silent nodes were last forgotten (expire). */
  private lastExpire = -Infinity;
  /** Refused external values since the last warning, and when that was (one line a minute at most). */
  private refused = { count: 0, lastWarning: 0 };

  /** `lookup` tells which node a pod is bound to; without it no pod sample is kept. */
  constructor(
    private readonly lookup: PodLookup = () => undefined,
    private readonly log: Logger = silentLogger,
  ) {}

  /** Takes a node's metrics message: its node sample and the samples of pods bound to it; the rest is dropped. */
  onNodeMetrics(node: string, m: MetricsMessage, now = Date.now()): void {
    this.expire(now);
    // A delta (edge-agent/telemetry.ts) changes what it lists; what it leaves out is unchanged, and fresh again. It is
    // applied to the node's entry in place: an idle board's delta is empty, every ~50 s from every node (issue 16).
    const prev = m?.delta === true ? this.byNode.get(node) : undefined;
    const entry: NodeSamples = prev ?? { pods: new Map(), at: now };
    entry.at = now;
    if (prev) {
      // The node's last sample holds (and goes on the chart again) until one that moved arrives.
      if (prev.node) {
        prev.node.at = now;
        if (!m.node) this.history.record(node, now, prev.node.cpuMilli, prev.node.memoryBytes);
      }
      // Only pods still bound to the node: a pod deleted since is not carried on (deleting while iterating a Map is safe).
      for (const [uid, p] of prev.pods) {
        const bound = this.lookup(p.namespace, p.name);
        if (bound?.spec.nodeName === node && bound.metadata.uid === uid) p.at = now;
        else prev.pods.delete(uid);
      }
    }
    if (m?.node && Number.isFinite(m.node.cpuMilli) && Number.isFinite(m.node.memoryBytes)) {
      const balancer = m.balancer === 'wasm' || m.balancer === 'reference' ? m.balancer : undefined;
      entry.node = { cpuMilli: m.node.cpuMilli, memoryBytes: m.node.memoryBytes, at: now, cpuSeconds: finite(m.node.cpuSeconds), balancer };
      this.history.record(node, now, m.node.cpuMilli, m.node.memoryBytes);
    }
    const pods = Array.isArray(m?.pods) ? m.pods.slice(0, maxPodsPerNode) : [];
    for (const p of pods) {
      if (typeof p?.namespace !== 'string' || typeof p.name !== 'string' || !Number.isFinite(p.cpuMilli)) continue;
      const bound = this.lookup(p.namespace, p.name);
      if (!bound?.metadata.uid || bound.spec.nodeName !== node || bound.metadata.uid !== p.uid) continue;
      const { uid, namespace = p.namespace, name } = bound.metadata;
      if (entry.pods.size >= maxPodsPerNode && !entry.pods.has(uid)) continue;
      entry.pods.set(uid, { namespace, name, cpuMilli: p.cpuMilli, memoryBytes: Number(p.memoryBytes) || 0, at: now, cpuSeconds: finite(p.cpuSeconds), containers: containersOf(p.containers, bound) });
    }
    this.byNode.set(node, entry);
    this.emit('pods', node);
  }

  /**
   * Takes an external metric's value: the payload is a number as UTF-8 text (`mosquitto_pub -m 42`)
   * or JSON `{"value": 42}`. Returns false (and keeps the old value) when it is not a finite number,
   * is longer than maxMetricPayloadBytes, or is a new name beyond maxExternalMetrics.
   */
  onExternal(name: string, payload: Buffer, now = Date.now()): boolean {
    if (payload.length > maxMetricPayloadBytes) return this.refuse(name, `longer than ${maxMetricPayloadBytes} bytes`, now);
    if (!this.external.has(name) && this.external.size >= maxExternalMetrics) {
      if (!this.warnedFull) this.log.warn('external metrics at their limit: new names are ignored', { limit: maxExternalMetrics, name });
      this.warnedFull = true;
      return false;
    }
    const text = payload.toString('utf8').trim();
    let v = Number(text);
    if (text === '' || !Number.isFinite(v)) {
      try {
        v = Number(JSON.parse(text)?.value);
      } catch {
        return this.refuse(name, 'not a number', now);
      }
    }
    if (!Number.isFinite(v)) return this.refuse(name, 'not a number', now);
    this.external.set(name, { value: v, at: now });
    this.emit('external', name);
    return true;
  }

  /** The latest fresh sample of a pod (matching `uid` when given), from the node it is bound to. */
  pod(namespace: string, name: string, uid?: string, now = Date.now()): PodSample | undefined {
    const bound = this.lookup(namespace, name);
    const node = bound?.spec.nodeName;
    const s = node && bound.metadata.uid ? this.byNode.get(node)?.pods.get(bound.metadata.uid) : undefined;
    if (!s || (uid && bound!.metadata.uid !== uid) || now - s.at > sampleTtlMs) return undefined;
    return s;
  }

  /** The latest fresh sample of a node. */
  node(name: string, now = Date.now()): NodeSample | undefined {
    const s = this.byNode.get(name)?.node;
    return s && now - s.at <= sampleTtlMs ? s : undefined;
  }

  /** The latest value of an external metric (kept until replaced: sensors often publish only on change). */
  externalValue(name: string): ExternalSample | undefined {
    return this.external.get(name);
  }

  /** How many samples are held: nodes, pods, external metrics (for tests and /metrics). */
  size(): { nodes: number; pods: number; external: number } {
    let pods = 0;
    for (const e of this.byNode.values()) pods += e.pods.size;
    return { nodes: this.byNode.size, pods, external: this.external.size };
  }

  /** Calls `fn` when samples arrive. */
  subscribe(fn: (kind: 'pods' | 'external', name: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Counts a refused external value and logs one line a minute at most (a publisher in a loop must not flood the log). */
  private refuse(name: string, why: string, now: number): false {
    this.refused.count++;
    if (now - this.refused.lastWarning >= 60_000) {
      this.log.warn('external metric value ignored', { topic: `skiff/v1/metrics/${name}`, why, ignoredSinceLastWarning: this.refused.count });
      this.refused = { count: 0, lastWarning: now };
    }
    return false;
  }

  /** Forgets nodes that have not reported for sampleTtlMs (deleted, or gone quiet). */
  /**
   * Forgets nodes silent past the TTL, at most once a second: it walks every node, and ran for every metrics message
   * (1,000 agents: each message walked 1,000 entries, issue 16). Readers check freshness themselves; this only frees.
   */
  private expire(now: number): void {
    if (now >= this.lastExpire && now - this.lastExpire < expireEveryMs) return;
    this.lastExpire = now;
    for (const [node, e] of this.byNode) if (now - e.at > sampleTtlMs) this.byNode.delete(node);
  }

  private emit(kind: 'pods' | 'external', name: string): void {
    for (const l of this.listeners) l(kind, name);
  }
}
