// Scores: the per-node score passes and the formulas of the other default score plugins, each on the
// integer 0–100 scale (framework.MaxNodeScore); NodeResourcesFit and BalancedAllocation are in resources.ts.
// Integer division is i32 division; f64 steps are the same IEEE operations as in reference/.
import { ld, ldf, popcnt32, st } from './memory';
import {
  H_ALLOC, H_CAP, H_COUNT, H_IMAGES, H_REQ, H_S_BASE, H_S_FIT, H_SREQ, H_STRATEGY, H_TAINT_WORDS, H_TAINTS,
  BINDLOG_CAP, H_BINDLOG, H_BINDS, H_SLOT_CUR, H_SLOTS, SL_REQ, SL_RVALID, SL_SYNC, SLOT_WORDS, H_S_AFF,
  H_S_IMG, H_S_SSCORE, H_S_TAINT, H_SS_AFF, H_SS_TAINT, H_W_AFF, H_W_TAINT, H_W_BAL, H_W_RES, R_CPU,
  R_EPHEMERAL, R_MEMORY, R_PODS, P_EPH, IMG_MIN_KIB, P_CPU, P_IMAGE_MAX, P_IMAGES, P_MEM, P_PREFERRED,
  P_SCPU, P_SMEM, P_TAINTS, H_RW_CPU, H_RW_EPH, H_RW_MEM, ST_MOST_ALLOCATED, ST_REQUESTED_TO_CAPACITY,
} from './layout';
import { fitReason, hdr, matchTerm, section, termWords } from './filters';
import { balancedScore, resourceScore } from './resources';

/** imagelocality/image_locality.go calculatePriority: 100 * (clamp(sum) - min) / (max - min). */
export function imageScore(sumKib: i32, maxKib: i32): i32 {
  if (sumKib < IMG_MIN_KIB) sumKib = IMG_MIN_KIB;
  else if (sumKib > maxKib) sumKib = maxKib;
  return (100 * (sumKib - IMG_MIN_KIB)) / (maxKib - IMG_MIN_KIB);
}

/** helper/normalize_score.go DefaultNormalizeScore for one node: 100 * raw / max, reversed on request. */
export function normalize(raw: i32, max: i32, reverse: i32): i32 {
  if (max == 0) return reverse != 0 ? 100 : 0;
  const s = (100 * raw) / max;
  return reverse != 0 ? 100 - s : s;
}

/** ImageLocality: sum of the scaled sizes of the pod's images present on the node. */
export function imageLocality(t: i32, pod: i32, i: i32): i32 {
  const p = section(pod, P_IMAGES);
  const count = ld(p);
  if (count == 0) return 0;
  const n = hdr(t, H_CAP);
  const images = hdr(t, H_IMAGES);
  let sum = 0;
  for (let k = 0; k < count; k++) {
    const q = p + 4 + k * 12;
    if ((ld(images + (ld(q) * n + i) * 4) & ld(q + 4)) != 0) sum += ld(q + 8);
  }
  return imageScore(sum, ld(pod + P_IMAGE_MAX * 4));
}

/**
 * The resource pass, every node: S_FIT = NodeResourcesFit reason (0 = fits) and S_BASE = weighted
 * NodeResourcesFit + BalancedAllocation scores, two nodes per step in f64x2 lanes. Every lane
 * does the IEEE operations of fitReason, resourceScore (Least/MostAllocated) and
 * balancedAllocation (the reference twin calls those per node), so the results are identical;
 * RequestedToCapacityRatio's broken-linear shape takes the scalar resourceScore per lane.
 * Called once per pod shape and batch (replicas catch up through syncResources).
 */
export function resourcePass(t: i32, pod: i32): void {
  const n = hdr(t, H_CAP);
  const count = hdr(t, H_COUNT);
  const fit = hdr(t, H_S_FIT);
  const base = hdr(t, H_S_BASE);
  const alloc = hdr(t, H_ALLOC);
  const req = hdr(t, H_REQ);
  const sreq = hdr(t, H_SREQ);
  const strategy = hdr(t, H_STRATEGY);
  const wRes = f64x2.splat(<f64>hdr(t, H_W_RES));
  const wBal = f64x2.splat(<f64>hdr(t, H_W_BAL));
  const cpu = ldf(pod + P_CPU * 4);
  const mem = ldf(pod + P_MEM * 4);
  const eph = ldf(pod + P_EPH * 4);
  const vCpu = f64x2.splat(cpu);
  const vMem = f64x2.splat(mem);
  const vEph = f64x2.splat(eph);
  // A zero request always fits: its lanes' masks are forced off.
  const cpuOn = i64x2.splat(cpu > 0 ? -1 : 0);
  const memOn = i64x2.splat(mem > 0 ? -1 : 0);
  const ephOn = i64x2.splat(eph > 0 ? -1 : 0);
  const zero = f64x2.splat(0);
  const one = f64x2.splat(1);
  const two = f64x2.splat(2);
  const hundred = f64x2.splat(100);
  for (let i = 0; i < count; i += 2) {
    const aCpu = v128.load(alloc + i * 8);
    const aMem = v128.load(alloc + (n + i) * 8);
    const aEph = v128.load(alloc + (2 * n + i) * 8);
    const aPods = v128.load(alloc + (3 * n + i) * 8);
    const rCpu = v128.load(req + i * 8);
    const rMem = v128.load(req + (n + i) * 8);
    const rEph = v128.load(req + (2 * n + i) * 8);
    const rPods = v128.load(req + (3 * n + i) * 8);
    // fitReason: pods, then cpu, memory, ephemeral; the first failing wins.
    const mPods = f64x2.gt(f64x2.add(rPods, one), aPods);
    const mCpu = v128.and(cpuOn, f64x2.gt(vCpu, f64x2.sub(aCpu, rCpu)));
    const mMem = v128.and(memOn, f64x2.gt(vMem, f64x2.sub(aMem, rMem)));
    const mEph = v128.and(ephOn, f64x2.gt(vEph, f64x2.sub(aEph, rEph)));
    let reason = v128.bitselect(i64x2.splat(R_EPHEMERAL), i64x2.splat(0), mEph);
    reason = v128.bitselect(i64x2.splat(R_MEMORY), reason, mMem);
    reason = v128.bitselect(i64x2.splat(R_CPU), reason, mCpu);
    reason = v128.bitselect(i64x2.splat(R_PODS), reason, mPods);
    store<i32>(fit + i * 4, <i32>i64x2.extract_lane(reason, 0));
    store<i32>(fit + i * 4 + 4, <i32>i64x2.extract_lane(reason, 1));
    let res: v128;
    if (strategy == ST_REQUESTED_TO_CAPACITY) {
      res = f64x2.replace_lane(f64x2.splat(<f64>resourceScore(t, pod, i)), 1, <f64>resourceScore(t, pod, i + 1));
    } else {
      res = weightedResources(t, pod, strategy, aCpu, aMem, aEph, v128.load(sreq + i * 8), v128.load(sreq + (n + i) * 8), f64x2.add(rEph, vEph));
    }
    // BalancedAllocation on the actual requests.
    const fc = f64x2.min(f64x2.div(f64x2.add(rCpu, vCpu), aCpu), one);
    const fm = f64x2.min(f64x2.div(f64x2.add(rMem, vMem), aMem), one);
    const std = f64x2.abs(f64x2.div(f64x2.sub(fc, fm), two));
    let bal = f64x2.floor(f64x2.mul(f64x2.sub(one, std), hundred));
    bal = v128.bitselect(hundred, bal, v128.or(f64x2.eq(aCpu, zero), f64x2.eq(aMem, zero)));
    const total = i32x4.trunc_sat_f64x2_s_zero(f64x2.add(f64x2.mul(wRes, res), f64x2.mul(wBal, bal)));
    store<i64>(base + i * 4, i64x2.extract_lane(total, 0));
  }
}

/** One resource's Least- or MostAllocated score in two lanes, 0 where allocatable is 0 (leastRequested/mostRequested). */
@inline function laneScore(most: bool, requested: v128, capacity: v128): v128 {
  const zero = f64x2.splat(0);
  const hundred = f64x2.splat(100);
  if (most) {
    const s = f64x2.floor(f64x2.div(f64x2.mul(f64x2.min(requested, capacity), hundred), capacity));
    return v128.bitselect(zero, s, f64x2.eq(capacity, zero));
  }
  const s = f64x2.floor(f64x2.div(f64x2.mul(f64x2.sub(capacity, requested), hundred), capacity));
  return v128.bitselect(zero, s, v128.or(f64x2.eq(capacity, zero), f64x2.gt(requested, capacity)));
}

/**
 * resourceScore's Least/MostAllocated branch in two lanes: floor(Σ w × score / Σ w) over the
 * resources with a weight and allocatable ≠ 0 (0 when none). sCpu, sMem: the nodes' non-zero
 * requests (the pod's are added here); eph: the ephemeral requests with the pod's.
 */
@inline function weightedResources(t: i32, pod: i32, strategy: i32, aCpu: v128, aMem: v128, aEph: v128, sCpu: v128, sMem: v128, eph: v128): v128 {
  const zero = f64x2.splat(0);
  const most = strategy == ST_MOST_ALLOCATED;
  const wCpu = v128.bitselect(f64x2.splat(<f64>hdr(t, H_RW_CPU)), zero, f64x2.ne(aCpu, zero));
  const wMem = v128.bitselect(f64x2.splat(<f64>hdr(t, H_RW_MEM)), zero, f64x2.ne(aMem, zero));
  const wEph = v128.bitselect(f64x2.splat(<f64>hdr(t, H_RW_EPH)), zero, f64x2.ne(aEph, zero));
  let ns = f64x2.mul(wCpu, laneScore(most, f64x2.add(sCpu, f64x2.splat(ldf(pod + P_SCPU * 4))), aCpu));
  ns = f64x2.add(ns, f64x2.mul(wMem, laneScore(most, f64x2.add(sMem, f64x2.splat(ldf(pod + P_SMEM * 4))), aMem)));
  ns = f64x2.add(ns, f64x2.mul(wEph, laneScore(most, eph, aEph)));
  const ws = f64x2.add(f64x2.add(wCpu, wMem), wEph);
  return v128.bitselect(zero, f64x2.floor(f64x2.div(ns, ws)), f64x2.eq(ws, zero));
}

/**
 * Brings the current cache entry's S_FIT and S_BASE up to date for the pod: with the same request
 * words and at most BINDLOG_CAP binds since its last sync, only the logged nodes are recomputed
 * (refreshNode: a replica after its predecessor's bind, or a template met again after others);
 * otherwise the full resource pass.
 */
export function syncResources(t: i32, pod: i32): void {
  const entry = hdr(t, H_SLOTS) + hdr(t, H_SLOT_CUR) * SLOT_WORDS * 4;
  const binds = hdr(t, H_BINDS);
  const sync = ld(entry + SL_SYNC * 4);
  const behind = (binds - sync) | 0;
  let same: bool = ld(entry + SL_RVALID * 4) != 0 && behind >= 0 && behind <= BINDLOG_CAP;
  for (let k = 0; k < 10 && same; k++) if (ld(entry + (SL_REQ + k) * 4) != ld(pod + (P_CPU + k) * 4)) same = false;
  if (same) {
    const log = hdr(t, H_BINDLOG);
    for (let b = 0; b < behind; b++) refreshNode(t, pod, ld(log + ((sync + b) & (BINDLOG_CAP - 1)) * 4));
  } else {
    resourcePass(t, pod);
    for (let k = 0; k < 10; k++) st(entry + (SL_REQ + k) * 4, ld(pod + (P_CPU + k) * 4));
    st(entry + SL_RVALID * 4, 1);
  }
  st(entry + SL_SYNC * 4, binds);
}

/** After a bind on node i: its S_FIT and S_BASE for the same pod (the wasm twin's lanes do the same operations). */
export function refreshNode(t: i32, pod: i32, i: i32): void {
  st(hdr(t, H_S_FIT) + i * 4, fitReason(t, pod, i));
  st(hdr(t, H_S_BASE) + i * 4, hdr(t, H_W_RES) * resourceScore(t, pod, i) + hdr(t, H_W_BAL) * balancedScore(t, pod, i));
}

/**
 * S_SSCORE = image locality + weighted normalised NodeAffinity and TaintToleration scores
 * (DefaultNormalizeScore over the feasible nodes' maxima). Recomputed only when the maxima or the
 * pod shape change: replicas of a template share it.
 */
export function staticScores(t: i32, maxAff: i32, maxTaint: i32): void {
  if (hdr(t, H_SS_AFF) == maxAff && hdr(t, H_SS_TAINT) == maxTaint) return;
  const count = hdr(t, H_COUNT);
  const aff = hdr(t, H_S_AFF);
  const taint = hdr(t, H_S_TAINT);
  const img = hdr(t, H_S_IMG);
  const out = hdr(t, H_S_SSCORE);
  const wAff = hdr(t, H_W_AFF);
  const wTaint = hdr(t, H_W_TAINT);
  // Raw values repeat across nodes (0, or one preference weight): remember the last division.
  let affRaw = 0;
  let affNorm = normalize(0, maxAff, 0);
  let taintRaw = 0;
  let taintNorm = normalize(0, maxTaint, 1);
  for (let i = 0; i < count; i++) {
    const a = ld(aff + i * 4);
    if (a != affRaw) {
      affRaw = a;
      affNorm = normalize(a, maxAff, 0);
    }
    const tt = ld(taint + i * 4);
    if (tt != taintRaw) {
      taintRaw = tt;
      taintNorm = normalize(tt, maxTaint, 1);
    }
    st(out + i * 4, ld(img + i * 4) + wAff * affNorm + wTaint * taintNorm);
  }
  st(t + H_SS_AFF * 4, maxAff);
  st(t + H_SS_TAINT * 4, maxTaint);
}

/** NodeAffinity score (node_affinity.go): sum of the weights of the preferred terms the node matches. */
export function preferredAffinity(t: i32, pod: i32, i: i32): i32 {
  const p = section(pod, P_PREFERRED);
  const count = ld(p);
  let q = p + 4;
  let sum = 0;
  for (let k = 0; k < count; k++) {
    if (matchTerm(t, q + 4, i)) sum += ld(q);
    q += 4 + termWords(q + 4) * 4;
  }
  return sum;
}

/** TaintToleration score (taint_toleration.go): count of PreferNoSchedule taints the pod does not tolerate. */
export function preferredTaints(t: i32, pod: i32, i: i32): i32 {
  const n = hdr(t, H_CAP);
  const words = hdr(t, H_TAINT_WORDS);
  const taints = hdr(t, H_TAINTS);
  const mask = section(pod, P_TAINTS) + words * 4;
  let count = 0;
  for (let w = 0; w < words; w++) count += popcnt32(ld(taints + (w * n + i) * 4) & ld(mask + w * 4));
  return count;
}
