// The node table's columns in kernel memory (assembly/layout.ts): where each column lives for
// the current capacity, and the writes of one node slot, one topology key, one counter. This file
// knows the layout, not the strings: NodeTable (table.ts) interns them and hands over ids.
import type { Kernel } from './kernel.js';
import {
  BINDLOG_CAP, BUCKET_CAP, F_PRESENT, F_UNSCHEDULABLE, H_ALLOC, H_BINDLOG, H_CAP, H_COUNT, H_COUNTER_KEY, H_COUNTS,
  H_DOMAIN_CAP, H_DOMAINS, H_FLAGS, H_IMAGE_WORDS, H_IMAGES, H_KEY_DOMAINS, H_LABEL_WORDS, H_LABELS, H_LOG,
  H_PORT_WORDS, H_PORTS, H_REQ, H_RUNTIMES, H_S_AFF, H_S_BASE, H_S_BUCKET, H_S_DSUM, H_S_FIT, H_S_IMG, H_S_KEYS,
  H_S_MIN, H_S_OK, H_S_SEEN, H_S_SPREAD, H_S_SSCORE, H_S_STATIC, H_S_TAINT, H_SHAPE, H_SHAPE_CAP, H_SHAPE_VALID,
  H_SLOTS, H_SREQ, H_TAINT_WORDS, H_TAINTS, H_TOTALS, HEADER_WORDS, MAX_SPREAD, SL_COLS, SLOT_COUNT, SLOT_WORDS,
} from './reference/layout.js';
import { writeScoring, type Scoring } from './scoring.js';
import type { Resources } from './types.js';

/** How many of each thing the columns have room for; a dictionary outgrowing one needs a new layout. */
export interface Capacity {
  /** Node slots (a multiple of 4, for the SIMD passes). */
  nodes: number;
  /** i32 words per node of each bitset column. */
  labelWords: number;
  taintWords: number;
  imageWords: number;
  portWords: number;
  topologyKeys: number;
  /** Domain ids per topology key. */
  domainsPerKey: number;
  counters: number;
}

/** One node's row, as the ids the table interned. */
export interface NodeRow {
  unschedulable: boolean;
  /** Bitset of runtime ids. */
  runtimeBits: number;
  allocatable: Resources;
  labelIds: number[];
  taintIds: number[];
  imageIds: number[];
  /** Domain id per topology key, -1 where the node lacks the key. */
  domains: number[];
}

const PAGE = 65536;
/** The header words of the columns each per-shape cache entry holds (layout.ts SL_COLS order). */
const SLOT_HEADERS = [H_S_STATIC, H_S_KEYS, H_S_AFF, H_S_TAINT, H_S_IMG, H_S_SSCORE, H_S_FIT, H_S_BASE];
/** Room for one pod's static record words (the per-shape cache key); larger pods are simply not cached. */
const SHAPE_WORDS = 4096;
const align = (x: number, a: number): number => Math.ceil(x / a) * a;

/** The columns of one node table in a kernel's linear memory. */
export class Columns {
  /** Byte address of the table header (0 before the first layout). */
  header = 0;
  /** First byte after the table: pod records are written from here. */
  podBuffer = 0;
  private cap: Capacity = { nodes: 0, labelWords: 0, taintWords: 0, imageWords: 0, portWords: 0, topologyKeys: 0, domainsPerKey: 0, counters: 0 };
  /** Topology keys whose domain column is filled. */
  private keys = 0;
  /** The topology key of each counter whose key word is written. */
  private counterKeys: number[] = [];
  private buf: ArrayBuffer = new ArrayBuffer(0);
  private i32v = new Int32Array(0);
  private f64v = new Float64Array(0);

  constructor(private readonly kernel: Kernel, private readonly scoring: Scoring) {}

  /** The capacity of the current layout. */
  get capacity(): Readonly<Capacity> {
    return this.cap;
  }

  /** Topology keys with a filled domain column (`addTopologyKey`). */
  get topologyKeys(): number {
    return this.keys;
  }

  /** Counters with their key word written (`addCounter`). */
  get counters(): number {
    return this.counterKeys.length;
  }

  /** An i32 view of kernel memory (renewed after growth detaches the old buffer). */
  get i32(): Int32Array {
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
  word(h: number): number {
    return this.i32[(this.header >> 2) + h];
  }

  private setWord(h: number, v: number): void {
    this.i32[(this.header >> 2) + h] = v;
  }

  /** Makes sure linear memory reaches byte `end`. */
  ensureMemory(end: number): void {
    const have = this.kernel.memory.buffer.byteLength;
    if (end > have) this.kernel.memory.grow(Math.ceil((end - have) / PAGE));
  }

  /**
   * Allocates every column for `cap`, zeroed, with `slots` slots in use; topology keys and
   * counters start empty (the table adds them again, then writes its nodes).
   */
  layout(cap: Capacity, slots: number): void {
    const n = cap.nodes;
    let p = align(this.kernel.heapBase(), 64);
    const take = (bytes: number): number => {
      const at = p;
      p = align(p + bytes, 16);
      return at;
    };
    const t = take(HEADER_WORDS * 4);
    const cols: [number, number][] = [
      [H_FLAGS, n * 4], [H_RUNTIMES, n * 4], [H_ALLOC, 4 * n * 8], [H_REQ, 4 * n * 8], [H_SREQ, 2 * n * 8],
      [H_LABELS, cap.labelWords * n * 4], [H_TAINTS, cap.taintWords * n * 4], [H_IMAGES, cap.imageWords * n * 4],
      [H_PORTS, cap.portWords * n * 4], [H_DOMAINS, cap.topologyKeys * n * 4], [H_COUNTS, cap.counters * n * 4],
      [H_TOTALS, cap.counters * cap.domainsPerKey * 4], [H_COUNTER_KEY, cap.counters * 4],
      [H_LOG, (Math.max(n, cap.domainsPerKey) + 2) * 8], [H_S_OK, n * 4], [H_S_SPREAD, n * 4],
      [H_S_DSUM, MAX_SPREAD * cap.domainsPerKey * 4], [H_S_SEEN, MAX_SPREAD * cap.domainsPerKey * 4],
      [H_S_MIN, 5 * MAX_SPREAD * 4], [H_BINDLOG, BINDLOG_CAP * 4], [H_KEY_DOMAINS, cap.topologyKeys * 4],
      [H_S_BUCKET, 2 * BUCKET_CAP * 4],
    ];
    const at = cols.map(([h, bytes]) => [h, take(bytes)] as const);
    // The per-shape column cache: SLOT_COUNT entries of SLOT_HEADERS columns and shape words (static.ts sameShape).
    const slotTable = take(SLOT_COUNT * SLOT_WORDS * 4);
    const slotCols = Array.from({ length: SLOT_COUNT }, () => [...SLOT_HEADERS.map(() => take(n * 4)), take(SHAPE_WORDS * 4)]);
    const scoring = take(this.scoring.bytes);
    this.podBuffer = align(p, 64);
    this.ensureMemory(this.podBuffer);
    this.header = t;
    this.cap = { ...cap };
    this.keys = 0;
    this.counterKeys = [];
    new Uint8Array(this.kernel.memory.buffer, t, this.podBuffer - t).fill(0);
    const i32 = this.i32;
    for (const [h, ptr] of at) this.setWord(h, ptr);
    this.setWord(H_SLOTS, slotTable);
    slotCols.forEach((ptrs, e) => ptrs.forEach((ptr, k) => (i32[(slotTable >> 2) + e * SLOT_WORDS + SL_COLS + k] = ptr)));
    SLOT_HEADERS.forEach((h, k) => this.setWord(h, slotCols[0][k]));
    this.setWord(H_SHAPE, slotCols[0][SLOT_HEADERS.length]);
    this.setWord(H_CAP, n);
    this.setWord(H_COUNT, slots);
    writeScoring(this.scoring, i32, t, scoring);
    this.setWord(H_LABEL_WORDS, cap.labelWords);
    this.setWord(H_TAINT_WORDS, cap.taintWords);
    this.setWord(H_IMAGE_WORDS, cap.imageWords);
    this.setWord(H_PORT_WORDS, cap.portWords);
    this.setWord(H_DOMAIN_CAP, cap.domainsPerKey);
    this.setWord(H_SHAPE_CAP, SHAPE_WORDS);
    i32.fill(-1, this.word(H_DOMAINS) >> 2, (this.word(H_DOMAINS) >> 2) + cap.topologyKeys * n);
    // ln(n + 2) computed here, once, so both kernels read the same f64 (podtopologyspread topologyNormalizingWeight).
    const log = this.word(H_LOG) >> 3;
    for (let k = 0; k < Math.max(n, cap.domainsPerKey) + 2; k++) this.f64[log + k] = Math.log(k + 2);
  }

  /** Fills the domain column of the next topology key: `domainOf(slot)` for every slot below `slots`. */
  addTopologyKey(slots: number, domainOf: (slot: number) => number): void {
    const col = (this.word(H_DOMAINS) >> 2) + this.keys * this.cap.nodes;
    for (let s = 0; s < slots; s++) this.i32[col + s] = domainOf(s);
    this.keys++;
  }

  /** Writes the next counter's topology key; returns its id. */
  addCounter(key: number): number {
    const c = this.counterKeys.length;
    this.i32[(this.word(H_COUNTER_KEY) >> 2) + c] = key;
    this.counterKeys.push(key);
    return c;
  }

  /** Publishes how many domain ids key k uses (while the layout has room for them). */
  setKeyDomains(k: number, domains: number): void {
    if (this.header !== 0 && k < this.cap.topologyKeys && domains <= this.cap.domainsPerKey) this.i32[(this.word(H_KEY_DOMAINS) >> 2) + k] = domains;
  }

  /** Writes slot s; counts move with the node from domains it left to the ones in `row`. */
  writeNode(s: number, row: NodeRow): void {
    this.invalidateShapes();
    const n = this.cap.nodes;
    const i32 = this.i32;
    const f64 = this.f64;
    for (let k = 0; k < this.keys; k++) this.moveCounts(s, k, row.domains[k] ?? -1);
    i32[(this.word(H_FLAGS) >> 2) + s] = F_PRESENT | (row.unschedulable ? F_UNSCHEDULABLE : 0);
    i32[(this.word(H_RUNTIMES) >> 2) + s] = row.runtimeBits;
    const a = row.allocatable;
    const alloc = this.word(H_ALLOC) >> 3;
    f64[alloc + s] = a.cpuMilli;
    f64[alloc + n + s] = a.memoryBytes;
    f64[alloc + 2 * n + s] = a.ephemeralBytes;
    f64[alloc + 3 * n + s] = a.pods;
    this.writeBits(H_LABELS, this.cap.labelWords, s, row.labelIds);
    this.writeBits(H_TAINTS, this.cap.taintWords, s, row.taintIds);
    this.writeBits(H_IMAGES, this.cap.imageWords, s, row.imageIds);
  }

  private writeBits(h: number, words: number, s: number, ids: number[]): void {
    const n = this.cap.nodes;
    const col = this.word(h) >> 2;
    for (let w = 0; w < words; w++) this.i32[col + w * n + s] = 0;
    for (const id of ids) this.i32[col + (id >> 5) * n + s] |= 1 << (id & 31);
  }

  /** Moves slot s's counts of every counter on key k from its current domain to `to`, which becomes its domain. */
  private moveCounts(s: number, k: number, to: number): void {
    const i32 = this.i32;
    const n = this.cap.nodes;
    const domCell = (this.word(H_DOMAINS) >> 2) + k * n + s;
    const from = i32[domCell];
    if (from === to) return;
    this.counterKeys.forEach((key, c) => {
      if (key !== k) return;
      const cnt = i32[(this.word(H_COUNTS) >> 2) + c * n + s];
      const tot = (this.word(H_TOTALS) >> 2) + c * this.cap.domainsPerKey;
      if (from >= 0) i32[tot + from] -= cnt;
      if (to >= 0) i32[tot + to] += cnt;
    });
    i32[domCell] = to;
  }

  /** Empties slot s: its counts leave their domain totals, every column of it goes back to zero. */
  clearSlot(s: number): void {
    this.invalidateShapes();
    const n = this.cap.nodes;
    const i32 = this.i32;
    const f64 = this.f64;
    for (let k = 0; k < this.keys; k++) this.moveCounts(s, k, -1);
    for (let c = 0; c < this.counterKeys.length; c++) i32[(this.word(H_COUNTS) >> 2) + c * n + s] = 0;
    i32[(this.word(H_FLAGS) >> 2) + s] = 0;
    i32[(this.word(H_RUNTIMES) >> 2) + s] = 0;
    for (let r = 0; r < 4; r++) {
      f64[(this.word(H_ALLOC) >> 3) + r * n + s] = 0;
      f64[(this.word(H_REQ) >> 3) + r * n + s] = 0;
    }
    for (let r = 0; r < 2; r++) f64[(this.word(H_SREQ) >> 3) + r * n + s] = 0;
    this.writeBits(H_LABELS, this.cap.labelWords, s, []);
    this.writeBits(H_TAINTS, this.cap.taintWords, s, []);
    this.writeBits(H_IMAGES, this.cap.imageWords, s, []);
    this.writeBits(H_PORTS, this.cap.portWords, s, []);
  }

  /** counts[c][slot] += delta, and its domain's total with it. */
  addCount(c: number, slot: number, delta: number): void {
    const i32 = this.i32;
    const n = this.cap.nodes;
    i32[(this.word(H_COUNTS) >> 2) + c * n + slot] += delta;
    const dom = i32[(this.word(H_DOMAINS) >> 2) + this.counterKeys[c] * n + slot];
    if (dom >= 0) i32[(this.word(H_TOTALS) >> 2) + c * this.cap.domainsPerKey + dom] += delta;
  }

  /** Publishes the number of slots in use (the highest slot + 1). */
  setSlotCount(slots: number): void {
    this.invalidateShapes();
    this.setWord(H_COUNT, slots);
  }

  /** Node data changed: the kernels' columns cached per pod shape are stale. */
  invalidateShapes(): void {
    this.setWord(H_SHAPE_VALID, 0);
  }
}
