// The host side of the node table: dictionaries, the memory layout (struct-of-arrays columns,
// assembly/layout.ts), and incremental writes of one node. The kernels read what this writes.
import { Dictionary, selectorKey, selectorMatches } from './dictionary.js';
import type { Kernel } from './kernel.js';
import {
  F_PRESENT, F_UNSCHEDULABLE, H_ALLOC, H_CAP, H_COUNT, H_COUNTER_KEY, H_COUNTS, H_DOMAIN_CAP, H_DOMAINS, H_FLAGS,
  H_IMAGE_WORDS, H_IMAGES, H_LABEL_WORDS, H_LABELS, H_LOG, H_PORT_WORDS, H_PORTS, H_REQ, H_RUNTIMES, H_S_AFF,
  H_S_BASE, H_S_DSUM, H_S_MIN, H_S_OK, H_S_SEEN, H_S_SPREAD, H_S_TAINT, H_SREQ, H_STRATEGY, H_TAINT_WORDS,
  H_TAINTS, H_TOTALS, H_W_AFF, H_W_BAL, H_W_IMAGE, H_W_RES, H_W_SPREAD, H_W_TAINT, HEADER_WORDS, MAX_SPREAD,
  H_S_FIT, H_S_IMG, H_S_KEYS, H_S_STATIC, H_SHAPE, H_SHAPE_CAP, H_SHAPE_VALID, H_KEY_DOMAINS, H_S_SSCORE, H_S_BUCKET, BUCKET_CAP, H_SLOTS, SLOT_COUNT, SLOT_WORDS, SL_COLS, H_BINDLOG, BINDLOG_CAP,
} from './reference/layout.js';
import type { EngineLabelSelector, EngineNode, EnginePod, EngineTaint, ScoreWeights } from './types.js';

/** What a counter counts: pods matching a selector in a namespace, or pods carrying an anti-affinity term. */
export interface CounterInfo {
  kind: 'sel' | 'anti';
  namespace: string;
  selector: EngineLabelSelector;
  /** Topology key (index into `topoKeys`). */
  key: number;
  /** For 'anti': the term's own canonical key, compared with the pod's terms. */
  term: string;
}

/** Column capacities of one layout; a dictionary outgrowing one triggers a relayout. */
interface Caps {
  n: number; lw: number; tw: number; iw: number; pw: number; k: number; d: number; c: number;
}

const PAGE = 65536;
/** The header words of the columns each cache entry holds (layout.ts SL_COLS order). */
const SLOT_HEADERS = [H_S_STATIC, H_S_KEYS, H_S_AFF, H_S_TAINT, H_S_IMG, H_S_SSCORE, H_S_FIT, H_S_BASE];
/** Room for one pod's static record words (the per-shape cache key); larger pods are simply not cached. */
const SHAPE_WORDS = 4096;
const align = (x: number, a: number): number => Math.ceil(x / a) * a;
const grow = (need: number, cur: number, min: number): number => {
  let c = Math.max(cur, min);
  while (c < need) c *= 2;
  return c;
};

/** The node table: slots, dictionaries and the columns in kernel memory. */
export class NodeTable {
  readonly labels = new Dictionary(); // `key` (exists bit) and `key\0value` (pair bit)
  readonly labelValues = new Map<string, Set<string>>();
  readonly taints = new Dictionary();
  readonly taintList: EngineTaint[] = [];
  readonly images = new Dictionary();
  readonly imageNodes: number[] = [];
  readonly ports = new Dictionary();
  readonly runtimes = new Dictionary();
  readonly topoKeys = new Dictionary();
  readonly domains: Dictionary[] = [];
  readonly counters = new Dictionary();
  readonly counterInfo: CounterInfo[] = [];
  readonly slots: (EngineNode | undefined)[] = [];
  readonly slotOf = new Map<string, number>();
  /** Pods bound per node name (also for nodes not in the table yet). */
  readonly bound = new Map<string, Map<string, EnginePod>>();
  /** The node name each bound pod key is bound to. */
  readonly podNode = new Map<string, string>();
  /** Byte address of the table header. */
  t = 0;
  /** First byte after the table: the pod buffer starts here. */
  end = 0;
  private caps: Caps = { n: 0, lw: 0, tw: 0, iw: 0, pw: 0, k: 0, d: 0, c: 0 };
  private syncedKeys = 0;
  /** Pod record words by spec, valid while no dictionary changes (see encode.ts encodePod). */
  private memoWords = new Map<string, number[]>();
  private memoSizes = '';
  private syncedCounters = 0;
  private buf: ArrayBuffer = new ArrayBuffer(0);
  private i32v = new Int32Array(0);
  private f64v = new Float64Array(0);

  constructor(
    readonly kernel: Kernel,
    readonly strategy: number,
    readonly weights: ScoreWeights,
    initialNodes: number,
  ) {
    this.caps.n = align(Math.max(initialNodes, 4), 4);
  }

  /** An i32 view of kernel memory (renewed after growth). */
  get i32(): Int32Array {
    // Growing linear memory detaches the old buffer (byteLength 0): then take new views.
    if (this.buf.byteLength === 0) this.views();
    return this.i32v;
  }

  /** An f64 view of kernel memory. */
  get f64(): Float64Array {
    if (this.buf.byteLength === 0) this.views();
    return this.f64v;
  }

  private views(): void {
    this.buf = this.kernel.memory.buffer;
    this.i32v = new Int32Array(this.buf);
    this.f64v = new Float64Array(this.buf);
  }

  /** Header word h. */
  h(h: number): number {
    return this.i32[(this.t >> 2) + h];
  }

  /** Makes sure linear memory reaches byte `end`. */
  ensureMemory(end: number): void {
    const have = this.kernel.memory.buffer.byteLength;
    if (end > have) this.kernel.memory.grow(Math.ceil((end - have) / PAGE));
  }

  /** The record memo, emptied whenever a node or dictionary changed since it was filled. */
  memo(): Map<string, number[]> {
    const sizes = `${this.nodeEpoch},${this.counters.size},${this.ports.size},${this.topoKeys.size},${this.caps.tw}`;
    if (sizes !== this.memoSizes || this.memoWords.size > 10_000) {
      this.memoWords = new Map();
      this.memoSizes = sizes;
    }
    return this.memoWords;
  }

  /** Bumped on every node write or removal (labels, taints, images and counts feed pod records). */
  nodeEpoch = 0;

  /** True when some dictionary outgrew its column capacity. */
  needsRelayout(): boolean {
    const c = this.caps;
    if (this.t === 0) return true;
    if (this.slots.length > c.n || this.labels.size > c.lw * 32 || this.taints.size > c.tw * 32) return true;
    if (this.images.size > c.iw * 32 || this.ports.size > c.pw * 32) return true;
    if (this.topoKeys.size > c.k || this.counters.size > c.c) return true;
    return this.domains.some((d) => d.size > c.d);
  }

  /** Allocates every column for the current dictionaries (with room to grow), zeroed; writes all nodes. */
  relayout(): void {
    const o = this.caps;
    const words = (bits: number, cur: number): number => grow(Math.ceil(bits / 32), cur, 1);
    const n = align(grow(this.slots.length, o.n, 4), 4);
    const c: Caps = {
      n,
      lw: words(this.labels.size, o.lw),
      tw: words(this.taints.size, o.tw),
      iw: words(this.images.size, o.iw),
      pw: words(this.ports.size, o.pw),
      k: grow(this.topoKeys.size, o.k, 8),
      d: grow(Math.max(0, ...this.domains.map((d) => d.size)), o.d, 4),
      c: grow(this.counters.size, o.c, 64),
    };
    this.caps = c;
    let p = align(this.kernel.heapBase(), 64);
    const take = (bytes: number): number => {
      const at = p;
      p = align(p + bytes, 16);
      return at;
    };
    const t = take(HEADER_WORDS * 4);
    const cols: [number, number][] = [
      [H_FLAGS, n * 4], [H_RUNTIMES, n * 4], [H_ALLOC, 4 * n * 8], [H_REQ, 4 * n * 8], [H_SREQ, 2 * n * 8],
      [H_LABELS, c.lw * n * 4], [H_TAINTS, c.tw * n * 4], [H_IMAGES, c.iw * n * 4], [H_PORTS, c.pw * n * 4],
      [H_DOMAINS, c.k * n * 4], [H_COUNTS, c.c * n * 4], [H_TOTALS, c.c * c.d * 4], [H_COUNTER_KEY, c.c * 4],
      [H_LOG, (Math.max(n, c.d) + 2) * 8], [H_S_OK, n * 4],
      [H_S_SPREAD, n * 4], [H_S_DSUM, MAX_SPREAD * c.d * 4], [H_S_SEEN, MAX_SPREAD * c.d * 4],
      [H_S_MIN, 5 * MAX_SPREAD * 4], [H_BINDLOG, BINDLOG_CAP * 4],
      [H_KEY_DOMAINS, c.k * 4],
      [H_S_BUCKET, 2 * BUCKET_CAP * 4],
    ];
    const at = cols.map(([h, bytes]) => [h, take(bytes)] as const);
    // The per-shape column cache: SLOT_COUNT entries of SLOT_COLS columns and shape words (static.ts sameShape).
    const slotTable = take(SLOT_COUNT * SLOT_WORDS * 4);
    const slotCols = Array.from({ length: SLOT_COUNT }, () => [...SLOT_HEADERS.map(() => take(n * 4)), take(SHAPE_WORDS * 4)]);
    this.end = align(p, 64);
    this.ensureMemory(this.end);
    this.t = t;
    new Uint8Array(this.kernel.memory.buffer, t, this.end - t).fill(0);
    const i32 = this.i32;
    const hw = (h: number, v: number): void => {
      i32[(t >> 2) + h] = v;
    };
    for (const [h, ptr] of at) hw(h, ptr);
    hw(H_SLOTS, slotTable);
    slotCols.forEach((ptrs, e) => ptrs.forEach((ptr, k) => (i32[(slotTable >> 2) + e * SLOT_WORDS + SL_COLS + k] = ptr)));
    SLOT_HEADERS.forEach((h, k) => hw(h, slotCols[0][k]));
    hw(H_SHAPE, slotCols[0][SLOT_HEADERS.length]);
    hw(H_CAP, n);
    hw(H_COUNT, this.slots.length);
    hw(H_STRATEGY, this.strategy);
    const w = this.weights;
    hw(H_W_RES, w.resources); hw(H_W_BAL, w.balancedAllocation); hw(H_W_AFF, w.nodeAffinity);
    hw(H_W_TAINT, w.taintToleration); hw(H_W_SPREAD, w.topologySpread); hw(H_W_IMAGE, w.imageLocality);
    hw(H_LABEL_WORDS, c.lw); hw(H_TAINT_WORDS, c.tw); hw(H_IMAGE_WORDS, c.iw); hw(H_PORT_WORDS, c.pw);
    hw(H_DOMAIN_CAP, c.d);
    hw(H_SHAPE_CAP, SHAPE_WORDS);
    i32.fill(-1, this.h(H_DOMAINS) >> 2, (this.h(H_DOMAINS) >> 2) + c.k * n);
    // ln(n + 2) computed here, once, so both kernels read the same f64 (podtopologyspread topologyNormalizingWeight).
    const log = this.h(H_LOG) >> 3;
    for (let k = 0; k < Math.max(n, c.d) + 2; k++) this.f64[log + k] = Math.log(k + 2);
    this.syncedKeys = 0;
    this.syncedCounters = 0;
    this.syncKeysAndCounters(false);
    for (let s = 0; s < this.slots.length; s++) if (this.slots[s]) this.writeNode(s, undefined);
  }

  /** Fills domain columns of new topology keys and counter keys; counts bound pods for new counters when asked. */
  syncKeysAndCounters(countBound: boolean): void {
    const n = this.caps.n;
    const i32 = this.i32;
    for (let k = this.syncedKeys; k < this.topoKeys.size; k++) {
      const col = (this.h(H_DOMAINS) >> 2) + k * n;
      for (let s = 0; s < this.slots.length; s++) {
        const node = this.slots[s];
        i32[col + s] = node ? this.domainOf(node, k) : -1;
      }
    }
    this.syncedKeys = this.topoKeys.size;
    for (let c = this.syncedCounters; c < this.counters.size; c++) {
      i32[(this.h(H_COUNTER_KEY) >> 2) + c] = this.counterInfo[c].key;
      if (!countBound) continue;
      for (const [name, pods] of this.bound) {
        const s = this.slotOf.get(name);
        if (s === undefined) continue;
        for (const pod of pods.values()) if (this.counterMatches(c, pod)) this.addCount(c, s, 1);
      }
    }
    this.syncedCounters = this.counters.size;
  }

  /** The id of a topology key; a new key interns every node's domain for it (so capacity checks see them). */
  internTopoKey(key: string): number {
    const known = this.topoKeys.size;
    const k = this.topoKeys.intern(key);
    if (k === known) for (const node of this.slots) if (node) this.domainOf(node, k);
    return k;
  }

  /** The domain id of a node for topology key k (interning its value), or -1. */
  domainOf(node: EngineNode, k: number): number {
    const v = node.labels[this.topoKeys.values[k]];
    if (v === undefined) return -1;
    while (this.domains.length <= k) this.domains.push(new Dictionary());
    const d = this.domains[k].intern(v);
    // Publish the key's domain count (ids < D are guaranteed by needsRelayout before kernels run).
    if (this.t !== 0 && k < this.caps.k && d < this.caps.d) this.i32[(this.h(H_KEY_DOMAINS) >> 2) + k] = this.domains[k].size;
    return d;
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

  /** counts[c][slot] += delta and the domain total with it. */
  addCount(c: number, slot: number, delta: number): void {
    const i32 = this.i32;
    const n = this.caps.n;
    i32[(this.h(H_COUNTS) >> 2) + c * n + slot] += delta;
    const dom = i32[(this.h(H_DOMAINS) >> 2) + this.counterInfo[c].key * n + slot];
    if (dom >= 0) i32[(this.h(H_TOTALS) >> 2) + c * this.caps.d + dom] += delta;
  }

  /** Interns a node's strings (labels, taints, images, runtimes, its topology domains). */
  internNode(node: EngineNode): void {
    for (const [k, v] of Object.entries(node.labels)) {
      this.labels.intern(k);
      this.labels.intern(`${k}\0${v}`);
      let set = this.labelValues.get(k);
      if (!set) this.labelValues.set(k, (set = new Set()));
      set.add(v);
    }
    for (const t of node.taints) {
      const id = this.taints.intern(`${t.key}\0${t.value ?? ''}\0${t.effect}`);
      if (id === this.taintList.length) this.taintList.push({ key: t.key, value: t.value ?? '', effect: t.effect });
    }
    for (const img of node.images ?? []) if (this.images.intern(img) === this.imageNodes.length) this.imageNodes.push(0);
    for (const r of node.runtimes) this.runtimes.intern(r);
    if (this.runtimes.size > 32) throw new Error(`EngineNode/${node.name}: runtimes: at most 32 distinct runtimes in a cluster`);
    for (let k = 0; k < this.topoKeys.size; k++) this.domainOf(node, k);
  }

  /**
   * Writes slot s from `slots[s]`. `old` is the node's previous version when it was already in
   * the table: its domain changes move the per-domain counter totals.
   */
  writeNode(s: number, old: EngineNode | undefined): void {
    this.invalidateShape();
    this.nodeEpoch++;
    const node = this.slots[s]!;
    const n = this.caps.n;
    const i32 = this.i32;
    const f64 = this.f64;
    if (old) {
      for (let k = 0; k < this.topoKeys.size; k++) {
        if (this.domainOf(old, k) === this.domainOf(node, k)) continue;
        this.moveCounts(s, k, this.domainOf(node, k));
      }
    }
    i32[(this.h(H_FLAGS) >> 2) + s] = F_PRESENT | (node.unschedulable ? F_UNSCHEDULABLE : 0);
    let rt = 0;
    for (const r of node.runtimes) rt |= 1 << this.runtimes.get(r);
    i32[(this.h(H_RUNTIMES) >> 2) + s] = rt;
    const a = node.allocatable;
    const alloc = this.h(H_ALLOC) >> 3;
    f64[alloc + s] = a.cpuMilli;
    f64[alloc + n + s] = a.memoryBytes;
    f64[alloc + 2 * n + s] = a.ephemeralBytes;
    f64[alloc + 3 * n + s] = a.pods;
    const bits = (h: number, words: number, ids: number[]): void => {
      const col = this.h(h) >> 2;
      for (let w = 0; w < words; w++) i32[col + w * n + s] = 0;
      for (const id of ids) i32[col + (id >> 5) * n + s] |= 1 << (id & 31);
    };
    const labelIds: number[] = [];
    for (const [k, v] of Object.entries(node.labels)) labelIds.push(this.labels.get(k), this.labels.get(`${k}\0${v}`));
    bits(H_LABELS, this.caps.lw, labelIds);
    bits(H_TAINTS, this.caps.tw, node.taints.map((t) => this.taints.get(`${t.key}\0${t.value ?? ''}\0${t.effect}`)));
    bits(H_IMAGES, this.caps.iw, (node.images ?? []).map((img) => this.images.get(img)));
    const dom = this.h(H_DOMAINS) >> 2;
    for (let k = 0; k < this.topoKeys.size; k++) i32[dom + k * n + s] = this.domainOf(node, k);
  }

  /** Moves slot s's counts of every counter on key k from its current domain to `to`. */
  private moveCounts(s: number, k: number, to: number): void {
    const i32 = this.i32;
    const n = this.caps.n;
    const domCell = (this.h(H_DOMAINS) >> 2) + k * n + s;
    for (let c = 0; c < this.counters.size; c++) {
      if (this.counterInfo[c].key !== k) continue;
      const cnt = i32[(this.h(H_COUNTS) >> 2) + c * n + s];
      const from = i32[domCell];
      const tot = (this.h(H_TOTALS) >> 2) + c * this.caps.d;
      if (from >= 0) i32[tot + from] -= cnt;
      if (to >= 0) i32[tot + to] += cnt;
    }
    i32[domCell] = to;
  }

  /** Empties slot s: counts leave their domain totals, every column goes back to zero. */
  clearSlot(s: number): void {
    this.invalidateShape();
    this.nodeEpoch++;
    const n = this.caps.n;
    const i32 = this.i32;
    const f64 = this.f64;
    for (let k = 0; k < this.topoKeys.size; k++) this.moveCounts(s, k, -1);
    for (let c = 0; c < this.counters.size; c++) i32[(this.h(H_COUNTS) >> 2) + c * n + s] = 0;
    i32[(this.h(H_FLAGS) >> 2) + s] = 0;
    i32[(this.h(H_RUNTIMES) >> 2) + s] = 0;
    for (let r = 0; r < 4; r++) {
      f64[(this.h(H_ALLOC) >> 3) + r * n + s] = 0;
      f64[(this.h(H_REQ) >> 3) + r * n + s] = 0;
    }
    for (let r = 0; r < 2; r++) f64[(this.h(H_SREQ) >> 3) + r * n + s] = 0;
    const zero = (h: number, words: number): void => {
      for (let w = 0; w < words; w++) i32[(this.h(h) >> 2) + w * n + s] = 0;
    };
    zero(H_LABELS, this.caps.lw);
    zero(H_TAINTS, this.caps.tw);
    zero(H_IMAGES, this.caps.iw);
    zero(H_PORTS, this.caps.pw);
  }

  /** Publishes the slot count to the kernels. */
  setCount(): void {
    this.invalidateShape();
    this.i32[(this.t >> 2) + H_COUNT] = this.slots.length;
  }

  /** Node data changed: the kernels' static columns (cached per pod shape) are stale. */
  invalidateShape(): void {
    this.i32[(this.t >> 2) + H_SHAPE_VALID] = 0;
  }

  /** Number of nodes in the table. */
  get live(): number {
    return this.slotOf.size;
  }
}
