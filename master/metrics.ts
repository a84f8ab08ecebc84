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
import { silentLogger, type Logger, type MetricsMessage, type Pod } from '../protocol/index.js';

/** One pod's sample. */
export interface PodSample {
  cpuMilli: number;
  memoryBytes: number;
  /** When the master received it (ms since epoch; agents' clocks may be off). */
  at: number;
}

/** An external metric's latest value. */
export interface ExternalSample {
  value: number;
  at: number;
}

/** Samples older than this are ignored (Kubernetes' metrics-server keeps about a minute). */
export const sampleTtlMs = 60_000;

/** Pod samples kept per node message: well above Kubernetes' 110 pods per node. */
export const maxPodsPerNode = 1000;

/** External metric names kept; a new name beyond this is ignored (and logged once). */
export const maxExternalMetrics = 1000;

/** An external metric's payload is one number: anything longer is not read. */
export const maxMetricPayloadBytes = 256;

/** Finds a pod in the cache (the master passes its informers). */
export type PodLookup = (namespace: string, name: string) => Pod | undefined;

interface NodeSamples {
  node?: PodSample;
  pods: Map<string, PodSample & { uid: string }>;
  at: number;
}

/** Latest samples, in memory. */
export class MetricsStore {
  private readonly byNode = new Map<string, NodeSamples>();
  private readonly external = new Map<string, ExternalSample>();
  private readonly listeners = new Set<(kind: 'pods' | 'external', name: string) => void>();
  private warnedFull = false;
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
    const entry: NodeSamples = { pods: new Map(), at: now };
    if (m?.node && Number.isFinite(m.node.cpuMilli) && Number.isFinite(m.node.memoryBytes))
      entry.node = { cpuMilli: m.node.cpuMilli, memoryBytes: m.node.memoryBytes, at: now };
    const pods = Array.isArray(m?.pods) ? m.pods.slice(0, maxPodsPerNode) : [];
    for (const p of pods) {
      if (typeof p?.namespace !== 'string' || typeof p.name !== 'string' || !Number.isFinite(p.cpuMilli)) continue;
      const bound = this.lookup(p.namespace, p.name);
      if (!bound || bound.spec.nodeName !== node || bound.metadata.uid !== p.uid) continue;
      entry.pods.set(`${p.namespace}/${p.name}`, { uid: p.uid, cpuMilli: p.cpuMilli, memoryBytes: Number(p.memoryBytes) || 0, at: now });
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
    const node = this.lookup(namespace, name)?.spec.nodeName;
    const s = node ? this.byNode.get(node)?.pods.get(`${namespace}/${name}`) : undefined;
    if (!s || (uid && s.uid !== uid) || now - s.at > sampleTtlMs) return undefined;
    return s;
  }

  /** The latest fresh sample of a node. */
  node(name: string, now = Date.now()): PodSample | undefined {
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
  private expire(now: number): void {
    for (const [node, e] of this.byNode) if (now - e.at > sampleTtlMs) this.byNode.delete(node);
  }

  private emit(kind: 'pods' | 'external', name: string): void {
    for (const l of this.listeners) l(kind, name);
  }
}
