// Endpoint load balancers over a kernel: one small kernel instance per balancer holds the
// endpoint arrays (and the Maglev table) in its memory; a pick is one kernel call, no copies.
import type { Kernel } from './kernel.js';
import {
  L_COUNT, L_NEXT, L_OFFSETS, L_RNG, L_SIZE, L_SKIPS, L_STATE, L_TABLE, L_TOTAL, L_WEIGHTS, LB_WORDS,
} from './reference/layout.js';
import type { Balancer, BalancerAlgorithm, BalancerEndpoint, BalancerOptions } from './types.js';

/** Default Maglev table size: the prime the Maglev paper uses for small deployments. */
export const DEFAULT_MAGLEV_SIZE = 65537;
const PAGE = 65536;
const algorithms: readonly BalancerAlgorithm[] = ['maglev', 'round-robin', 'least-connections', 'power-of-two'];

/** 32-bit FNV-1a over UTF-16 code units with a seed, finished with murmur3's fmix32 for avalanche. */
export function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function isPrime(n: number): boolean {
  if (n < 2 || !Number.isInteger(n)) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** Checks options once; throws naming the field. */
export function checkBalancerOptions(opts: BalancerOptions): Required<Omit<BalancerOptions, 'impl'>> {
  if (!algorithms.includes(opts.algorithm)) throw new Error(`BalancerOptions: algorithm: must be one of ${algorithms.join(', ')}, got ${JSON.stringify(opts.algorithm)}`);
  const tableSize = opts.tableSize ?? DEFAULT_MAGLEV_SIZE;
  if (!isPrime(tableSize) || tableSize > 16_777_259) throw new Error(`BalancerOptions: tableSize: must be a prime ≤ 16777259, got ${tableSize}`);
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed)) throw new Error(`BalancerOptions: seed: must be an integer, got ${seed}`);
  return { algorithm: opts.algorithm, tableSize, seed: seed | 0 || 1 };
}

/** A balancer over its own kernel instance. */
export class KernelBalancer implements Balancer {
  readonly impl: 'wasm' | 'reference';
  readonly algorithm: BalancerAlgorithm;
  endpoints: readonly BalancerEndpoint[] = [];
  private readonly size: number;
  private readonly lb: number;
  private scratch = 0;
  private scratchBytes = 0;
  private buf: ArrayBuffer = new ArrayBuffer(0);
  private i32v = new Int32Array(0);
  private readonly pickOne: (lb: number, hash: number) => number;

  constructor(private readonly kernel: Kernel, opts: BalancerOptions) {
    const o = checkBalancerOptions(opts);
    this.impl = kernel.impl;
    this.algorithm = o.algorithm;
    this.size = o.tableSize;
    this.lb = (kernel.heapBase() + 63) & ~63;
    const k = kernel;
    this.pickOne = { maglev: k.maglevPick, 'round-robin': k.swrrPick, 'least-connections': k.lcPick, 'power-of-two': k.p2cPick }[o.algorithm];
    this.ensure(this.lb + LB_WORDS * 4);
    this.i32[(this.lb >> 2) + L_RNG] = o.seed;
    this.setEndpoints([]);
  }

  private get i32(): Int32Array {
    if (this.buf.byteLength === 0) {
      this.buf = this.kernel.memory.buffer;
      this.i32v = new Int32Array(this.buf);
    }
    return this.i32v;
  }

  private ensure(end: number): void {
    const have = this.kernel.memory.buffer.byteLength;
    if (end > have) this.kernel.memory.grow(Math.ceil((end - have) / PAGE));
  }

  setEndpoints(endpoints: BalancerEndpoint[]): void {
    const seen = new Set<string>();
    endpoints.forEach((e, i) => {
      if (!e || typeof e.id !== 'string' || !e.id) throw new Error(`BalancerEndpoint[${i}]: id: must be a non-empty string`);
      if (seen.has(e.id)) throw new Error(`BalancerEndpoint[${i}]: id: ${e.id} appears twice`);
      seen.add(e.id);
      const w = e.weight ?? 1;
      if (!Number.isInteger(w) || w < 0 || w > 65535) throw new Error(`BalancerEndpoint/${e.id}: weight: must be an integer in 0..65535, got ${w}`);
    });
    const maglev = this.algorithm === 'maglev';
    if (maglev && endpoints.length >= this.size) throw new Error(`BalancerEndpoint: ${endpoints.length} endpoints need a Maglev tableSize above that, got ${this.size}`);
    const list = maglev ? [...endpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) : [...endpoints];
    const old = new Map(this.endpoints.map((e, i) => [e.id, this.state(i)] as const));
    const n = list.length;
    const lb = this.lb;
    let p = lb + LB_WORDS * 4;
    const take = (words: number): number => {
      const at = p;
      p += words * 4;
      return at;
    };
    const cols = { w: take(n), s: take(n), o: take(n), k: take(n), x: take(n), t: take(maglev ? this.size : 0) };
    this.scratch = (p + 15) & ~15;
    this.scratchBytes = 0;
    this.ensure(this.scratch);
    const i32 = this.i32;
    const h = lb >> 2;
    i32[h + L_COUNT] = n;
    i32[h + L_SIZE] = this.size;
    i32[h + L_WEIGHTS] = cols.w;
    i32[h + L_STATE] = cols.s;
    i32[h + L_OFFSETS] = cols.o;
    i32[h + L_SKIPS] = cols.k;
    i32[h + L_NEXT] = cols.x;
    i32[h + L_TABLE] = cols.t;
    let total = 0;
    list.forEach((e, i) => {
      const w = e.weight ?? 1;
      total += w;
      i32[(cols.w >> 2) + i] = w;
      i32[(cols.s >> 2) + i] = this.algorithm === 'round-robin' ? 0 : old.get(e.id) ?? 0;
      // Maglev permutation: offset = h1 mod M, skip = h2 mod (M - 1) + 1 (paper §3.4).
      i32[(cols.o >> 2) + i] = hash32(e.id, 0x2545f491) % this.size;
      i32[(cols.k >> 2) + i] = (hash32(e.id, 0x9e3779b9) % (this.size - 1)) + 1;
    });
    i32[h + L_TOTAL] = total;
    // Frozen copies, so callers cannot change what picks index; an unchanged endpoint keeps its copy.
    const kept = new Map(this.endpoints.map((e) => [e.id, e] as const));
    this.endpoints = Object.freeze(list.map((e) => {
      const k = kept.get(e.id);
      if (k && k.weight === e.weight) return k;
      return Object.freeze(e.weight === undefined ? { id: e.id } : { id: e.id, weight: e.weight });
    }));
    if (maglev) this.kernel.maglevBuild(lb);
  }

  pick(key?: string | number): number {
    if (this.algorithm !== 'maglev') return this.pickOne(this.lb, 0);
    return this.pickOne(this.lb, typeof key === 'number' ? key : hash32(key ?? ''));
  }

  pickBatch(keysOrCount: readonly string[] | Uint32Array | number): Int32Array {
    const k = this.kernel;
    const count = typeof keysOrCount === 'number' ? keysOrCount : keysOrCount.length;
    const bytes = count * 8;
    if (bytes > this.scratchBytes) {
      this.ensure(this.scratch + bytes);
      this.scratchBytes = bytes;
    }
    const hashes = this.scratch;
    const out = this.scratch + count * 4;
    if (this.algorithm === 'maglev') {
      if (typeof keysOrCount === 'number') throw new Error('Balancer.pickBatch: maglev needs keys, got a count');
      const i32 = this.i32;
      for (let j = 0; j < count; j++) {
        const key = keysOrCount[j];
        i32[(hashes >> 2) + j] = typeof key === 'number' ? key : hash32(key);
      }
      k.maglevPickBatch(this.lb, hashes, count, out);
    } else {
      const batch = { 'round-robin': k.swrrPickBatch, 'least-connections': k.lcPickBatch, 'power-of-two': k.p2cPickBatch }[this.algorithm];
      batch(this.lb, count, out);
    }
    return this.i32.slice(out >> 2, (out >> 2) + count);
  }

  release(index: number): void {
    if (this.algorithm !== 'least-connections' && this.algorithm !== 'power-of-two') return;
    if (!Number.isInteger(index) || index < 0 || index >= this.endpoints.length) return;
    const p = (this.i32[(this.lb >> 2) + L_STATE] >> 2) + index;
    if (this.i32[p] > 0) this.i32[p]--;
  }

  active(index: number): number {
    if (this.algorithm !== 'least-connections' && this.algorithm !== 'power-of-two') return 0;
    return this.state(index);
  }

  hashKey(key: string): number {
    return hash32(key);
  }

  private state(i: number): number {
    return this.i32[(this.i32[(this.lb >> 2) + L_STATE] >> 2) + i];
  }
}
