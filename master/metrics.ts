/**
 * The master's metrics store: the latest cpu/memory sample per pod and per node from the agents'
 * `nodes/{node}/metrics` messages (what `top` and the HPA read, like Kubernetes' metrics-server), and
 * the latest value of each external metric published on `skiff/v1/metrics/{name}` (the HPA's
 * edge-native signal: a queue depth, a sensor backlog).
 */
import type { MetricsMessage } from '../protocol/index.js';

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

/** Latest samples, in memory. */
export class MetricsStore {
  private readonly pods = new Map<string, PodSample & { uid: string; node: string }>();
  private readonly nodes = new Map<string, PodSample>();
  private readonly external = new Map<string, ExternalSample>();
  private readonly listeners = new Set<(kind: 'pods' | 'external', name: string) => void>();

  /** Takes a node's metrics message; malformed entries are skipped. */
  onNodeMetrics(node: string, m: MetricsMessage, now = Date.now()): void {
    if (m?.node && Number.isFinite(m.node.cpuMilli)) this.nodes.set(node, { cpuMilli: m.node.cpuMilli, memoryBytes: m.node.memoryBytes, at: now });
    for (const p of Array.isArray(m?.pods) ? m.pods : []) {
      if (typeof p?.namespace !== 'string' || typeof p.name !== 'string' || !Number.isFinite(p.cpuMilli)) continue;
      this.pods.set(`${p.namespace}/${p.name}`, { uid: p.uid, node, cpuMilli: p.cpuMilli, memoryBytes: Number(p.memoryBytes) || 0, at: now });
    }
    this.emit('pods', node);
  }

  /**
   * Takes an external metric's value: the payload is a number as UTF-8 text (`mosquitto_pub -m 42`)
   * or JSON `{"value": 42}`. Returns false (and keeps the old value) when it is not a finite number.
   */
  onExternal(name: string, payload: Buffer, now = Date.now()): boolean {
    const text = payload.toString('utf8').trim();
    let v = Number(text);
    if (text === '' || !Number.isFinite(v)) {
      try {
        v = Number(JSON.parse(text)?.value);
      } catch {
        return false;
      }
    }
    if (!Number.isFinite(v)) return false;
    this.external.set(name, { value: v, at: now });
    this.emit('external', name);
    return true;
  }

  /** The latest fresh sample of a pod (matching `uid` when given). */
  pod(namespace: string, name: string, uid?: string, now = Date.now()): PodSample | undefined {
    const s = this.pods.get(`${namespace}/${name}`);
    if (!s || (uid && s.uid !== uid) || now - s.at > sampleTtlMs) return undefined;
    return s;
  }

  /** The latest fresh sample of a node. */
  node(name: string, now = Date.now()): PodSample | undefined {
    const s = this.nodes.get(name);
    return s && now - s.at <= sampleTtlMs ? s : undefined;
  }

  /** The latest value of an external metric (kept until replaced: sensors often publish only on change). */
  externalValue(name: string): ExternalSample | undefined {
    return this.external.get(name);
  }

  /** Calls `fn` when samples arrive. */
  subscribe(fn: (kind: 'pods' | 'external', name: string) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Forgets a pod (deleted). */
  forgetPod(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
  }

  private emit(kind: 'pods' | 'external', name: string): void {
    for (const l of this.listeners) l(kind, name);
  }
}
