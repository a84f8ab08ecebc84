// The host side of the node table: which node sits in which slot, which pods are bound where, and
// the dictionaries that turn their strings into the ids the kernels read. Every change goes
// through a method here; the columns in kernel memory follow (columns.ts).
import { Columns, type Capacity, type NodeRow } from './columns.js';
import { Dictionary, selectorKey, selectorMatches } from './dictionary.js';
import { encodePod, writeRecord } from './encode.js';
import type { Kernel } from './kernel.js';
import type { Scoring } from './scoring.js';
import type { EngineLabelSelector, EngineNode, EnginePod, EngineTaint } from './types.js';

/** What a counter counts: pods matching a selector in a namespace, or pods carrying an anti-affinity term. */
export interface CounterInfo {
  kind: 'sel' | 'anti';
  namespace: string;
  selector: EngineLabelSelector;
  /** Topology key id (`topologyKeys`). */
  key: number;
  /** For 'anti': the term's own canonical key, compared with the pod's terms. */
  term: string;
}

/** Doubles `cur` (at least `min`) until it holds `need`. */
const grow = (need: number, cur: number, min: number): number => {
  let c = Math.max(cur, min);
  while (c < need) c *= 2;
  return c;
};
const taintId = (t: EngineTaint): string => `${t.key}\0${t.value ?? ''}\0${t.effect}`;

/** The node table: slots, bindings, dictionaries, and the columns in kernel memory. */
export class NodeTable {
  /** `key` (exists bit) and `key\0value` (pair bit). */
  readonly labels = new Dictionary();
  readonly taints = new Dictionary();
  readonly images = new Dictionary();
  /** `PROTOCOL/port`. */
  readonly ports = new Dictionary();
  readonly runtimes = new Dictionary();
  readonly topologyKeys = new Dictionary();
  /** Counters by canonical `kind\nterm` string; `counterInfo[id]` says what each counts. */
  readonly counters = new Dictionary();
  readonly counterInfo: CounterInfo[] = [];
  /** Every value seen per label key (Gt/Lt requirements become In over them). */
  readonly valuesOfLabel = new Map<string, Set<string>>();
  /** The taint of each taint id. */
  readonly taintsById: EngineTaint[] = [];
  readonly columns: Columns;
  /** Domain values per topology key id. */
  private readonly domains: Dictionary[] = [];
  /** Nodes holding each image id (ImageLocality spreads by it). */
  private readonly imageHolders: number[] = [];
  private readonly nodeBySlot: (EngineNode | undefined)[] = [];
  private readonly slotByName = new Map<string, number>();
  /** Pods bound per node name (also for nodes not in the table yet: they count once it comes). */
  private readonly podsByNode = new Map<string, Map<string, EnginePod>>();
  /** The node name each bound pod key is bound to. */
  private readonly nodeOfPod = new Map<string, string>();
  private names: string[] | undefined;
  /** Bumped on every node write or removal (labels, taints, images and counts feed pod records). */
  private nodeEpoch = 0;
  /** Pod record words by spec, valid while no dictionary changes (see encode.ts encodePod). */
  private memoWords = new Map<string, number[]>();
  private memoSizes = '';

  constructor(private readonly kernel: Kernel, scoring: Scoring, initialNodes: number) {
    this.columns = new Columns(kernel, scoring);
    this.rebuild(Math.ceil(Math.max(initialNodes, 4) / 4) * 4);
  }

  // ---- nodes ----------------------------------------------------------------------------------

  /** Adds or replaces a node: a free slot (or its own), its columns, and the pods already bound to it. */
  placeNode(node: EngineNode): void {
    this.internNode(node);
    let slot = this.slotByName.get(node.name);
    const old = slot === undefined ? undefined : this.nodeBySlot[slot];
    if (slot === undefined) {
      slot = this.nodeBySlot.indexOf(undefined);
      if (slot < 0) slot = this.nodeBySlot.length;
      this.slotByName.set(node.name, slot);
      this.names = undefined;
    }
    this.nodeBySlot[slot] = node;
    for (const img of old?.images ?? []) this.imageHolders[this.images.get(img)]--;
    for (const img of node.images ?? []) this.imageHolders[this.images.get(img)]++;
    this.nodeEpoch++;
    if (this.needsRelayout()) return this.rebuild(0);
    this.columns.setSlotCount(this.nodeBySlot.length);
    this.columns.writeNode(slot, this.rowOf(node));
    if (!old) for (const pod of this.podsByNode.get(node.name)?.values() ?? []) this.applyPod(slot, pod, 1);
  }

  /** Removes a node and forgets the pods bound to it. */
  removeNode(name: string): void {
    for (const key of this.podsByNode.get(name)?.keys() ?? []) this.nodeOfPod.delete(key);
    this.podsByNode.delete(name);
    const slot = this.slotByName.get(name);
    if (slot === undefined) return;
    for (const img of this.nodeBySlot[slot]!.images ?? []) this.imageHolders[this.images.get(img)]--;
    this.nodeEpoch++;
    this.columns.clearSlot(slot);
    this.nodeBySlot[slot] = undefined;
    this.slotByName.delete(name);
    this.names = undefined;
  }

  /** The node in slot s (a slot the kernel just chose). */
  nodeAt(slot: number): EngineNode {
    return this.nodeBySlot[slot]!;
  }

  /** The nodes in the table, in slot order. */
  nodes(): EngineNode[] {
    return this.nodeBySlot.filter((n): n is EngineNode => !!n);
  }

  /** Names of the nodes in the table (a fresh array). */
  nodeNames(): string[] {
    this.names ??= this.nodes().map((n) => n.name);
    return [...this.names];
  }

  /** Number of nodes in the table. */
  get nodeCount(): number {
    return this.slotByName.size;
  }

  /** How many nodes hold image id `id`. */
  nodesWithImage(id: number): number {
    return this.imageHolders[id];
  }

  // ---- pods -------------------------------------------------------------------------------------

  /** Binds a pod to a node: recorded, and its requests, ports and counts applied when the node is in the table. */
  bind(nodeName: string, pod: EnginePod): void {
    this.recordBinding(nodeName, pod);
    const slot = this.slotByName.get(nodeName);
    if (slot !== undefined) this.applyPod(slot, pod, 1);
  }

  /** Records a binding the kernel already applied (a placement of placeBatch). */
  recordBinding(nodeName: string, pod: EnginePod): void {
    let pods = this.podsByNode.get(nodeName);
    if (!pods) this.podsByNode.set(nodeName, (pods = new Map()));
    pods.set(pod.key, pod);
    this.nodeOfPod.set(pod.key, nodeName);
  }

  /** Unbinds a pod wherever it is bound (only from `nodeName` when given); unknown keys are ignored. */
  unbind(podKey: string, nodeName = this.nodeOfPod.get(podKey)): void {
    if (nodeName === undefined) return;
    const pods = this.podsByNode.get(nodeName);
    const pod = pods?.get(podKey);
    if (!pod) return;
    const slot = this.slotByName.get(nodeName);
    if (slot !== undefined) this.applyPod(slot, pod, -1);
    pods!.delete(podKey);
    this.nodeOfPod.delete(podKey);
  }

  /** Encodes one pod into the pod buffer and binds (sign 1) or unbinds (-1) it in kernel memory. */
  private applyPod(slot: number, pod: EnginePod, sign: number): void {
    const rec = encodePod(this, pod);
    const at = this.columns.podBuffer;
    this.columns.ensureMemory(at + rec.words.length * 4);
    writeRecord(this, at, rec);
    this.kernel.bindPod(this.columns.header, at, slot, sign);
  }

  // ---- dictionaries and layout ------------------------------------------------------------------

  /** Makes the columns match the dictionaries: a new layout when one outgrew its column, else the new keys and counters. */
  sync(): void {
    if (this.needsRelayout()) this.rebuild(0);
    else this.addKeysAndCounters(true);
  }

  /** The record memo, emptied whenever a node or dictionary changed since it was filled. */
  memo(): Map<string, number[]> {
    const sizes = `${this.nodeEpoch},${this.counters.size},${this.ports.size},${this.topologyKeys.size},${this.columns.capacity.taintWords}`;
    if (sizes !== this.memoSizes || this.memoWords.size > 10_000) {
      this.memoWords = new Map();
      this.memoSizes = sizes;
    }
    return this.memoWords;
  }

  /** The id of a topology key; a new key interns every node's domain for it (so capacity checks see them). */
  internTopologyKey(key: string): number {
    const known = this.topologyKeys.size;
    const k = this.topologyKeys.intern(key);
    if (k === known) for (const node of this.nodeBySlot) if (node) this.domainOf(node, k);
    return k;
  }

  /** The counter id for (kind, namespace, selector, topology key), interned. */
  internCounter(kind: 'sel' | 'anti', namespace: string, selector: EngineLabelSelector, topologyKey: string): number {
    const key = this.internTopologyKey(topologyKey);
    const term = this.antiTermKey(namespace, selector, topologyKey);
    const id = this.counters.intern(`${kind}\n${term}`);
    if (id === this.counterInfo.length) this.counterInfo.push({ kind, namespace, selector, key, term });
    return id;
  }

  /** Does pod count in counter c? `terms`: the pod's own anti-affinity term keys (see podTerms). */
  counterMatches(c: number, pod: EnginePod, terms = this.podTerms(pod)): boolean {
    const info = this.counterInfo[c];
    if (pod.namespace !== info.namespace) return false;
    if (info.kind === 'sel') return selectorMatches(info.selector, pod.labels);
    return terms !== undefined && terms.has(info.term);
  }

  /** The canonical keys of a pod's anti-affinity terms, or undefined without any. */
  podTerms(pod: EnginePod): Set<string> | undefined {
    if (!pod.antiAffinity?.length) return undefined;
    return new Set(pod.antiAffinity.map((a) => this.antiTermKey(pod.namespace, a.selector, a.topologyKey)));
  }

  /** Canonical key of an anti-affinity term. */
  antiTermKey(namespace: string, selector: EngineLabelSelector, topologyKey: string): string {
    return `${namespace}\n${topologyKey}\n${selectorKey(selector)}`;
  }

  /** The domain id of a node for topology key k (interning its value), or -1. */
  private domainOf(node: EngineNode, k: number): number {
    const v = node.labels[this.topologyKeys.values[k]];
    if (v === undefined) return -1;
    while (this.domains.length <= k) this.domains.push(new Dictionary());
    const d = this.domains[k].intern(v);
    this.columns.setKeyDomains(k, this.domains[k].size);
    return d;
  }

  /** Interns a node's strings (labels, taints, images, runtimes, its topology domains). */
  private internNode(node: EngineNode): void {
    for (const [k, v] of Object.entries(node.labels)) {
      this.labels.intern(k);
      this.labels.intern(`${k}\0${v}`);
      let set = this.valuesOfLabel.get(k);
      if (!set) this.valuesOfLabel.set(k, (set = new Set()));
      set.add(v);
    }
    for (const t of node.taints) {
      if (this.taints.intern(taintId(t)) === this.taintsById.length) this.taintsById.push({ key: t.key, value: t.value ?? '', effect: t.effect });
    }
    for (const img of node.images ?? []) if (this.images.intern(img) === this.imageHolders.length) this.imageHolders.push(0);
    for (const r of node.runtimes) this.runtimes.intern(r);
    if (this.runtimes.size > 32) throw new Error(`EngineNode/${node.name}: runtimes: at most 32 distinct runtimes in a cluster`);
    for (let k = 0; k < this.topologyKeys.size; k++) this.domainOf(node, k);
  }

  /** A node's row of ids. */
  private rowOf(node: EngineNode): NodeRow {
    let runtimeBits = 0;
    for (const r of node.runtimes) runtimeBits |= 1 << this.runtimes.get(r);
    const labelIds: number[] = [];
    for (const [k, v] of Object.entries(node.labels)) labelIds.push(this.labels.get(k), this.labels.get(`${k}\0${v}`));
    return {
      unschedulable: node.unschedulable,
      runtimeBits,
      allocatable: node.allocatable,
      labelIds,
      taintIds: node.taints.map((t) => this.taints.get(taintId(t))),
      imageIds: (node.images ?? []).map((img) => this.images.get(img)),
      domains: Array.from({ length: this.columns.topologyKeys }, (_, k) => this.domainOf(node, k)),
    };
  }

  /** The capacity the dictionaries need (each at least the current one, so layouts only grow). */
  private neededCapacity(minNodes: number): Capacity {
    const c = this.columns.capacity;
    const words = (bits: number, cur: number): number => grow(Math.ceil(bits / 32), cur, 1);
    return {
      nodes: Math.ceil(grow(this.nodeBySlot.length, Math.max(c.nodes, minNodes), 4) / 4) * 4,
      labelWords: words(this.labels.size, c.labelWords),
      taintWords: words(this.taints.size, c.taintWords),
      imageWords: words(this.images.size, c.imageWords),
      portWords: words(this.ports.size, c.portWords),
      topologyKeys: grow(this.topologyKeys.size, c.topologyKeys, 8),
      domainsPerKey: grow(Math.max(0, ...this.domains.map((d) => d.size)), c.domainsPerKey, 4),
      counters: grow(this.counters.size, c.counters, 64),
    };
  }

  /** True when some dictionary outgrew its column capacity. */
  private needsRelayout(): boolean {
    const c = this.columns.capacity;
    if (this.nodeBySlot.length > c.nodes || this.labels.size > c.labelWords * 32 || this.taints.size > c.taintWords * 32) return true;
    if (this.images.size > c.imageWords * 32 || this.ports.size > c.portWords * 32) return true;
    if (this.topologyKeys.size > c.topologyKeys || this.counters.size > c.counters) return true;
    return this.domains.some((d) => d.size > c.domainsPerKey);
  }

  /** A new layout (at least `minNodes` slots): keys, counters and nodes written again, every bound pod applied again. */
  private rebuild(minNodes: number): void {
    this.nodeEpoch++;
    this.columns.layout(this.neededCapacity(minNodes), this.nodeBySlot.length);
    this.addKeysAndCounters(false);
    this.nodeBySlot.forEach((node, s) => node && this.columns.writeNode(s, this.rowOf(node)));
    for (const [name, pods] of this.podsByNode) {
      const slot = this.slotByName.get(name);
      if (slot !== undefined) for (const pod of pods.values()) this.applyPod(slot, pod, 1);
    }
  }

  /** Fills the columns of topology keys and counters interned since; counts bound pods for new counters when asked. */
  private addKeysAndCounters(countBound: boolean): void {
    const cols = this.columns;
    for (let k = cols.topologyKeys; k < this.topologyKeys.size; k++) {
      cols.addTopologyKey(this.nodeBySlot.length, (s) => {
        const node = this.nodeBySlot[s];
        return node ? this.domainOf(node, k) : -1;
      });
    }
    for (let c = cols.counters; c < this.counters.size; c++) {
      cols.addCounter(this.counterInfo[c].key);
      if (!countBound) continue;
      for (const [name, pods] of this.podsByNode) {
        const s = this.slotByName.get(name);
        if (s === undefined) continue;
        for (const pod of pods.values()) if (this.counterMatches(c, pod)) cols.addCount(c, s, 1);
      }
    }
  }
}
