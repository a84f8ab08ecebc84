// The Engine over a kernel: keeps the node table in kernel memory in step with node and pod
// updates, encodes batches, calls the kernel once per batch and turns its output into Placements.
import { tolerated } from './toleration.js';
import { encodePod, internPod, type PodRecord, validatePod, writeRecord } from './encode.js';
import { explain, reasonCodes } from './explain.js';
import type { Kernel } from './kernel.js';
import { NUM_REASONS, O_NODE, O_REASONS, O_SCORE, OUT_WORDS } from './reference/layout.js';
import { checkScoring, type Scoring } from './scoring.js';
import { NodeTable } from './table.js';
import type { Engine, EngineNode, EngineOptions, EnginePod, Placement, ReasonCode } from './types.js';

/** Checks options once; throws naming the field. */
export function checkOptions(opts: EngineOptions): { scoring: Scoring; maxNodes: number } {
  const scoring = checkScoring(opts);
  const maxNodes = opts.maxNodes ?? 64;
  if (!Number.isInteger(maxNodes) || maxNodes < 1) throw new Error(`EngineOptions: maxNodes: must be an integer ≥ 1, got ${JSON.stringify(maxNodes)}`);
  return { scoring, maxNodes };
}

/** Deep equality of JSON-like values (plain objects, arrays, primitives); the same object is equal at once. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

/**
 * True when pod b encodes to pod a's record (everything encodePod reads but the key): the same
 * requests and equal spec fields — the very objects for replicas spread from one template, equal
 * copies for the master's pods (each decoded on its own). Only valid within one synchronous call.
 */
export function sameSpec(a: EnginePod, b: EnginePod): boolean {
  const r = a.requests;
  const q = b.requests;
  if (r.cpuMilli !== q.cpuMilli || r.memoryBytes !== q.memoryBytes || r.ephemeralBytes !== q.ephemeralBytes) return false;
  return a.namespace === b.namespace && a.runtime === b.runtime && sameValue(a.labels, b.labels) && sameValue(a.nodeSelector, b.nodeSelector) &&
    sameValue(a.requiredNodeTerms, b.requiredNodeTerms) && sameValue(a.preferredNodeTerms, b.preferredNodeTerms) && sameValue(a.tolerations, b.tolerations) &&
    sameValue(a.hostPorts, b.hostPorts) && sameValue(a.antiAffinity, b.antiAffinity) && sameValue(a.topologySpread, b.topologySpread) && sameValue(a.images, b.images);
}

/** Checks a node before anything changes. */
function validateNode(node: EngineNode): void {
  if (!node || typeof node.name !== 'string' || !node.name) throw new Error('EngineNode: name: must be a non-empty string');
  for (const f of ['cpuMilli', 'memoryBytes', 'pods', 'ephemeralBytes'] as const) {
    const v = node.allocatable?.[f];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`EngineNode/${node.name}: allocatable.${f}: must be an integer ≥ 0, got ${JSON.stringify(v)}`);
  }
  if (!Array.isArray(node.taints) || !Array.isArray(node.runtimes) || typeof node.labels !== 'object') {
    throw new Error(`EngineNode/${node.name}: labels, taints and runtimes: must be given`);
  }
}

/** The engine over one kernel instance. */
export class HostEngine implements Engine {
  readonly impl: 'wasm' | 'reference';
  private readonly table: NodeTable;

  constructor(private readonly kernel: Kernel, opts: EngineOptions) {
    const o = checkOptions(opts);
    this.impl = kernel.impl;
    this.table = new NodeTable(kernel, o.scoring, o.maxNodes);
  }

  upsertNode(node: EngineNode): void {
    validateNode(node);
    this.table.placeNode(node);
  }

  removeNode(name: string): void {
    this.table.removeNode(name);
  }

  bindPod(nodeName: string, pod: EnginePod): void {
    validatePod(pod);
    const tb = this.table;
    tb.unbind(pod.key);
    internPod(tb, pod);
    tb.sync();
    tb.bind(nodeName, pod);
  }

  unbindPod(nodeName: string, podKey: string): void {
    this.table.unbind(podKey, nodeName);
  }

  schedule(pods: EnginePod[]): Placement[] {
    const seen = new Set<string>();
    for (const pod of pods) {
      validatePod(pod);
      if (seen.has(pod.key)) throw new Error(`EnginePod/${pod.key}: key: appears twice in one batch`);
      seen.add(pod.key);
    }
    if (pods.length === 0) return [];
    const tb = this.table;
    for (const pod of pods) tb.unbind(pod.key);
    // Replicas of one template intern and encode alike within this call, so each pod is matched to
    // the last earlier pod with the same labels (the same object when spread from one template, else
    // equal text, as for the master's pods), then sameSpec; -1 when it has no twin.
    const lastWith = new Map<unknown, number>();
    const twin = pods.map((pod, k) => {
      let j = lastWith.get(pod.labels);
      lastWith.set(pod.labels, k);
      if (j === undefined) {
        const text = `${pod.namespace}\n${JSON.stringify(pod.labels)}`;
        j = lastWith.get(text);
        lastWith.set(text, k);
      }
      return j !== undefined && sameSpec(pods[j], pod) ? j : -1;
    });
    pods.forEach((pod, k) => twin[k] >= 0 || internPod(tb, pod));
    tb.sync();
    const records: PodRecord[] = [];
    pods.forEach((pod, k) => records.push(twin[k] >= 0 ? records[twin[k]] : encodePod(tb, pod)));
    const cols = tb.columns;
    const bytes = records.reduce((s, r) => s + r.words.length * 4, 0);
    const out = cols.podBuffer + bytes;
    cols.ensureMemory(out + pods.length * OUT_WORDS * 4);
    let p = cols.podBuffer;
    for (const r of records) p = writeRecord(tb, p, r);
    this.kernel.placeBatch(cols.header, cols.podBuffer, pods.length, out);
    const i32 = cols.i32;
    return pods.map((pod, k) => {
      const o = (out >> 2) + k * OUT_WORDS;
      const slot = i32[o + O_NODE];
      if (slot >= 0) {
        const name = tb.nodeAt(slot).name;
        tb.recordBinding(name, pod);
        return { pod: pod.key, node: name, score: i32[o + O_SCORE], reasons: {}, message: `Successfully assigned ${pod.key} to ${name}` };
      }
      const reasons: Partial<Record<ReasonCode, number>> = {};
      for (let r = 1; r < NUM_REASONS; r++) if (i32[o + O_REASONS + r] > 0) reasons[reasonCodes[r]] = i32[o + O_REASONS + r];
      return { pod: pod.key, node: null, score: 0, reasons, message: explain(tb.nodeCount, reasons, pod, this.taintNodes(pod, reasons)) };
    });
  }

  nodeNames(): string[] {
    return this.table.nodeNames();
  }

  /** Nodes whose first failing filter is the taint filter (unschedulable and runtime pass, a hard taint fails). */
  private taintNodes(pod: EnginePod, reasons: Partial<Record<ReasonCode, number>>): EngineNode[] {
    if (!reasons.UntoleratedTaint) return [];
    const tolUnsched = tolerated(pod.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
    return this.table.nodes().filter((n) => {
      if ((n.unschedulable && !tolUnsched) || !n.runtimes.includes(pod.runtime)) return false;
      return n.taints.some((t) => t.effect !== 'PreferNoSchedule' && !tolerated(pod.tolerations, t));
    });
  }
}
