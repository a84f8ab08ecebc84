// The Engine over a kernel: keeps the node table in kernel memory in step with node and pod
// updates, encodes batches, calls the kernel once per batch and turns its output into Placements.
import { tolerated } from './toleration.js';
import { encodePod, internPod, type PodRecord, validatePod, writeRecord } from './encode.js';
import { explain, reasonCodes } from './explain.js';
import type { Kernel } from './kernel.js';
import { NUM_REASONS, O_NODE, O_REASONS, O_SCORE, OUT_WORDS } from './reference/layout.js';
import { NodeTable } from './table.js';
import type { Engine, EngineNode, EngineOptions, EnginePod, Placement, ReasonCode, ScoreWeights } from './types.js';

/** kube-scheduler's default score plugin weights (apis/config/v1/default_plugins.go). */
export const DEFAULT_WEIGHTS: Readonly<ScoreWeights> = Object.freeze({
  resources: 1,
  balancedAllocation: 1,
  nodeAffinity: 2,
  taintToleration: 3,
  topologySpread: 2,
  imageLocality: 1,
});

/** Checks options once; throws naming the field. */
export function checkOptions(opts: EngineOptions): { strategy: number; weights: ScoreWeights; maxNodes: number } {
  if (opts.resourceStrategy !== undefined && opts.resourceStrategy !== 'LeastAllocated' && opts.resourceStrategy !== 'MostAllocated') {
    throw new Error(`EngineOptions: resourceStrategy: must be LeastAllocated or MostAllocated, got ${JSON.stringify(opts.resourceStrategy)}`);
  }
  const weights = { ...DEFAULT_WEIGHTS, ...(opts.weights ?? {}) };
  for (const [k, v] of Object.entries(weights)) {
    if (!Number.isInteger(v) || v < 0 || v > 100) throw new Error(`EngineOptions: weights.${k}: must be an integer in 0..100, got ${JSON.stringify(v)}`);
  }
  const maxNodes = opts.maxNodes ?? 64;
  if (!Number.isInteger(maxNodes) || maxNodes < 1) throw new Error(`EngineOptions: maxNodes: must be an integer ≥ 1, got ${JSON.stringify(maxNodes)}`);
  return { strategy: opts.resourceStrategy === 'MostAllocated' ? 1 : 0, weights, maxNodes };
}

/**
 * True when pod b's spec is pod a's by reference and its requests are equal: b encodes to a's
 * record (everything encodePod reads but the key). Only valid within one synchronous call.
 */
export function sameSpec(a: EnginePod, b: EnginePod): boolean {
  const r = a.requests;
  const q = b.requests;
  if (r.cpuMilli !== q.cpuMilli || r.memoryBytes !== q.memoryBytes || r.ephemeralBytes !== q.ephemeralBytes) return false;
  return a.namespace === b.namespace && a.labels === b.labels && a.runtime === b.runtime && a.nodeSelector === b.nodeSelector &&
    a.requiredNodeTerms === b.requiredNodeTerms && a.preferredNodeTerms === b.preferredNodeTerms && a.tolerations === b.tolerations &&
    a.hostPorts === b.hostPorts && a.antiAffinity === b.antiAffinity && a.topologySpread === b.topologySpread && a.images === b.images;
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
  private names: string[] | undefined;

  constructor(private readonly kernel: Kernel, opts: EngineOptions) {
    const o = checkOptions(opts);
    this.impl = kernel.impl;
    this.table = new NodeTable(kernel, o.strategy, o.weights, o.maxNodes);
    this.table.relayout();
  }

  upsertNode(node: EngineNode): void {
    validateNode(node);
    const tb = this.table;
    tb.internNode(node);
    let slot = tb.slotOf.get(node.name);
    const old = slot === undefined ? undefined : tb.slots[slot];
    if (slot === undefined) {
      slot = tb.slots.indexOf(undefined);
      if (slot < 0) slot = tb.slots.length;
      tb.slotOf.set(node.name, slot);
      this.names = undefined;
    }
    tb.slots[slot] = node;
    for (const img of old?.images ?? []) tb.imageNodes[tb.images.get(img)]--;
    for (const img of node.images ?? []) tb.imageNodes[tb.images.get(img)]++;
    if (tb.needsRelayout()) return this.rebuild();
    tb.setCount();
    tb.writeNode(slot, old);
    if (!old) for (const pod of tb.bound.get(node.name)?.values() ?? []) this.kernelBind(slot, pod, 1);
  }

  removeNode(name: string): void {
    const tb = this.table;
    const slot = tb.slotOf.get(name);
    for (const key of tb.bound.get(name)?.keys() ?? []) tb.podNode.delete(key);
    tb.bound.delete(name);
    if (slot === undefined) return;
    for (const img of tb.slots[slot]!.images ?? []) tb.imageNodes[tb.images.get(img)]--;
    tb.clearSlot(slot);
    tb.slots[slot] = undefined;
    tb.slotOf.delete(name);
    this.names = undefined;
  }

  bindPod(nodeName: string, pod: EnginePod): void {
    validatePod(pod);
    this.forget(pod.key);
    const tb = this.table;
    internPod(tb, pod);
    this.sync();
    let pods = tb.bound.get(nodeName);
    if (!pods) tb.bound.set(nodeName, (pods = new Map()));
    pods.set(pod.key, pod);
    tb.podNode.set(pod.key, nodeName);
    const slot = tb.slotOf.get(nodeName);
    if (slot !== undefined) this.kernelBind(slot, pod, 1);
  }

  unbindPod(nodeName: string, podKey: string): void {
    const tb = this.table;
    const pod = tb.bound.get(nodeName)?.get(podKey);
    if (!pod) return;
    const slot = tb.slotOf.get(nodeName);
    if (slot !== undefined) this.kernelBind(slot, pod, -1);
    tb.bound.get(nodeName)!.delete(podKey);
    tb.podNode.delete(podKey);
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
    for (const pod of pods) this.forget(pod.key);
    // Replicas spread from one template share its objects: within this call they intern and encode
    // alike, so each pod is matched (by its labels object, then sameSpec) to an earlier twin, or -1.
    const lastWith = new Map<object, number>();
    const twin = pods.map((pod, k) => {
      const j = lastWith.get(pod.labels);
      lastWith.set(pod.labels, k);
      return j !== undefined && sameSpec(pods[j], pod) ? j : -1;
    });
    pods.forEach((pod, k) => twin[k] >= 0 || internPod(tb, pod));
    this.sync();
    const records: PodRecord[] = [];
    pods.forEach((pod, k) => records.push(twin[k] >= 0 ? records[twin[k]] : encodePod(tb, pod)));
    const bytes = records.reduce((s, r) => s + r.words.length * 4, 0);
    const out = tb.end + bytes;
    tb.ensureMemory(out + pods.length * OUT_WORDS * 4);
    let p = tb.end;
    for (const r of records) p = writeRecord(tb, p, r);
    this.kernel.placeBatch(tb.t, tb.end, pods.length, out);
    const i32 = tb.i32;
    const byName = tb.slots;
    return pods.map((pod, k) => {
      const o = (out >> 2) + k * OUT_WORDS;
      const slot = i32[o + O_NODE];
      if (slot >= 0) {
        const name = byName[slot]!.name;
        let bound = tb.bound.get(name);
        if (!bound) tb.bound.set(name, (bound = new Map()));
        bound.set(pod.key, pod);
        tb.podNode.set(pod.key, name);
        return { pod: pod.key, node: name, score: i32[o + O_SCORE], reasons: {}, message: `Successfully assigned ${pod.key} to ${name}` };
      }
      const reasons: Partial<Record<ReasonCode, number>> = {};
      for (let r = 1; r < NUM_REASONS; r++) if (i32[o + O_REASONS + r] > 0) reasons[reasonCodes[r]] = i32[o + O_REASONS + r];
      return { pod: pod.key, node: null, score: 0, reasons, message: explain(tb.live, reasons, pod, this.taintNodes(pod, reasons)) };
    });
  }

  nodeNames(): string[] {
    this.names ??= this.table.slots.filter((n): n is EngineNode => !!n).map((n) => n.name);
    return [...this.names];
  }

  /** Nodes whose first failing filter is the taint filter (unschedulable and runtime pass, a hard taint fails). */
  private taintNodes(pod: EnginePod, reasons: Partial<Record<ReasonCode, number>>): EngineNode[] {
    if (!reasons.UntoleratedTaint) return [];
    const tolUnsched = tolerated(pod.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
    return this.table.slots.filter((n): n is EngineNode => {
      if (!n || (n.unschedulable && !tolUnsched) || !n.runtimes.includes(pod.runtime)) return false;
      return n.taints.some((t) => t.effect !== 'PreferNoSchedule' && !tolerated(pod.tolerations, t));
    });
  }

  /** Unbinds a pod key wherever it is bound (a pod is bound once). */
  private forget(key: string): void {
    const name = this.table.podNode.get(key);
    if (name !== undefined) this.unbindPod(name, key);
  }

  /** Applies new dictionary entries: a relayout when a column is full, else fill the new columns. */
  private sync(): void {
    if (this.table.needsRelayout()) this.rebuild();
    else this.table.syncKeysAndCounters(true);
  }

  /** Relayout and re-bind every bound pod. */
  private rebuild(): void {
    const tb = this.table;
    tb.relayout();
    for (const [name, pods] of tb.bound) {
      const slot = tb.slotOf.get(name);
      if (slot !== undefined) for (const pod of pods.values()) this.kernelBind(slot, pod, 1);
    }
  }

  /** Encodes one pod into the pod buffer and binds (sign 1) or unbinds (-1) it in kernel memory. */
  private kernelBind(slot: number, pod: EnginePod, sign: number): void {
    const tb = this.table;
    const rec = encodePod(tb, pod);
    tb.ensureMemory(tb.end + rec.words.length * 4);
    writeRecord(tb, tb.end, rec);
    this.kernel.bindPod(tb.t, tb.end, slot, sign);
  }
}
