// Scores: the per-node formulas of kube-scheduler's default score plugins, each on the integer
// 0–100 scale (framework.MaxNodeScore). Division of non-negative integers is written
// Math.floor(a / b), which equals Go's int64 division for every a < 2^53.
import { ld, ldf, popcnt32, st } from './memory.js';
import {
  H_ALLOC, H_CAP, H_COUNT, H_IMAGES, H_REQ, H_S_BASE, H_S_FIT, H_SREQ, H_STRATEGY, H_TAINT_WORDS, H_TAINTS,
  BINDLOG_CAP, H_BINDLOG, H_BINDS, H_SLOT_CUR, H_SLOTS, SL_REQ, SL_RVALID, SL_SYNC, SLOT_WORDS,
  H_S_AFF, H_S_IMG, H_S_SSCORE, H_S_TAINT, H_SS_AFF, H_SS_TAINT, H_W_AFF, H_W_BAL, H_W_RES, H_W_TAINT,
  IMG_MIN_KIB, P_CPU, P_EPH, P_IMAGE_MAX, P_IMAGES, P_MEM, P_PREFERRED, P_SCPU, P_SMEM, P_TAINTS,
  H_RTC_POINTS, H_RTC_SHAPE, H_RW_CPU, H_RW_EPH, H_RW_MEM, ST_MOST_ALLOCATED, ST_REQUESTED_TO_CAPACITY,
} from './layout.js';
import { fitReason, hdr, matchTerm, section, termWords } from './filters.js';

/** noderesources/least_allocated.go leastRequestedScore: ((capacity - requested) * 100) / capacity. */
export function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) return 0;
  return Math.floor(((capacity - requested) * 100) / capacity);
}

/** noderesources/most_allocated.go mostRequestedScore: (min(requested, capacity) * 100) / capacity. */
export function mostRequested(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  if (requested > capacity) requested = capacity;
  return Math.floor((requested * 100) / capacity);
}

/**
 * noderesources/balanced_allocation.go balancedResourceScorer for cpu and memory:
 * fraction = min(requested / allocatable, 1); std = |fcpu - fmem| / 2; int64((1 - std) * 100).
 * A resource with allocatable 0 is skipped, and one fraction alone gives std = 0.
 */
export function balancedAllocation(cpuReq: number, cpuCap: number, memReq: number, memCap: number): number {
  if (cpuCap === 0 || memCap === 0) return 100;
  let fc = cpuReq / cpuCap;
  if (fc > 1) fc = 1;
  let fm = memReq / memCap;
  if (fm > 1) fm = 1;
  const std = Math.abs((fc - fm) / 2);
  return Math.floor((1 - std) * 100);
}

/** imagelocality/image_locality.go calculatePriority: 100 * (clamp(sum) - min) / (max - min). */
export function imageScore(sumKib: number, maxKib: number): number {
  if (sumKib < IMG_MIN_KIB) sumKib = IMG_MIN_KIB;
  else if (sumKib > maxKib) sumKib = maxKib;
  return Math.floor((100 * (sumKib - IMG_MIN_KIB)) / (maxKib - IMG_MIN_KIB));
}

/** helper/normalize_score.go DefaultNormalizeScore for one node: 100 * raw / max, reversed on request. */
export function normalize(raw: number, max: number, reverse: number): number {
  if (max === 0) return reverse !== 0 ? 100 : 0;
  const s = Math.floor((100 * raw) / max);
  return reverse !== 0 ? 100 - s : s;
}

/**
 * helper/shape_score.go BuildBrokenLinearFunction over the RequestedToCapacityRatio shape, at
 * utilization p (0–100): the first point's score up to its utilization, linear between points
 * (Go's int64 division truncates toward zero, hence Math.trunc), the last point's score after it.
 * Scores are stored × 10 (MaxNodeScore / MaxCustomPriorityScore).
 */
export function shapeScore(t: number, p: number): number {
  const points = hdr(t, H_RTC_POINTS);
  const shape = hdr(t, H_RTC_SHAPE);
  for (let k = 0; k < points; k++) {
    const u = ld(shape + k * 8);
    if (p > u) continue;
    const s = ld(shape + k * 8 + 4);
    if (k === 0) return s;
    const pu = ld(shape + (k - 1) * 8);
    const ps = ld(shape + (k - 1) * 8 + 4);
    return ps + Math.trunc(((s - ps) * (p - pu)) / (u - pu));
  }
  return ld(shape + (points - 1) * 8 + 4);
}

/** requested_to_capacity_ratio.go resourceScoringFunction: the shape at requested × 100 / capacity, or at 100 when over capacity or capacity is 0. */
export function requestedToCapacity(t: number, requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return shapeScore(t, 100);
  return shapeScore(t, Math.floor((requested * 100) / capacity));
}

/** One resource's NodeResourcesFit score under strategy ST_*. */
export function strategyScore(t: number, strategy: number, requested: number, capacity: number): number {
  if (strategy === ST_MOST_ALLOCATED) return mostRequested(requested, capacity);
  if (strategy === ST_REQUESTED_TO_CAPACITY) return requestedToCapacity(t, requested, capacity);
  return leastRequested(requested, capacity);
}

/**
 * NodeResourcesFit score (resource_allocation.go with least_allocated.go, most_allocated.go or
 * requested_to_capacity_ratio.go): Σ weight × score / Σ weight over the resources that have a
 * weight and allocatable ≠ 0 — cpu and memory on the non-zero requests (a pod without requests
 * counts as 100m / 200 MiB), ephemeral storage on the actual ones. Integer division, except
 * RequestedToCapacityRatio: it counts only scores > 0 and rounds to nearest, math.Round(ns / ws),
 * which for non-negative integers is floor((2 ns + ws) / (2 ws)).
 */
export function resourceScore(t: number, pod: number, i: number): number {
  const n = hdr(t, H_CAP);
  const alloc = hdr(t, H_ALLOC);
  const sreq = hdr(t, H_SREQ);
  const strategy = hdr(t, H_STRATEGY);
  const rtc = strategy === ST_REQUESTED_TO_CAPACITY;
  let ns = 0;
  let ws = 0;
  const cpuCap = ldf(alloc + i * 8);
  const wCpu = hdr(t, H_RW_CPU);
  if (wCpu > 0 && cpuCap !== 0) {
    const s = strategyScore(t, strategy, ldf(sreq + i * 8) + ldf(pod + P_SCPU * 4), cpuCap);
    if (!rtc || s > 0) { ns += wCpu * s; ws += wCpu; }
  }
  const memCap = ldf(alloc + (n + i) * 8);
  const wMem = hdr(t, H_RW_MEM);
  if (wMem > 0 && memCap !== 0) {
    const s = strategyScore(t, strategy, ldf(sreq + (n + i) * 8) + ldf(pod + P_SMEM * 4), memCap);
    if (!rtc || s > 0) { ns += wMem * s; ws += wMem; }
  }
  const ephCap = ldf(alloc + (2 * n + i) * 8);
  const wEph = hdr(t, H_RW_EPH);
  if (wEph > 0 && ephCap !== 0) {
    const s = strategyScore(t, strategy, ldf(hdr(t, H_REQ) + (2 * n + i) * 8) + ldf(pod + P_EPH * 4), ephCap);
    if (!rtc || s > 0) { ns += wEph * s; ws += wEph; }
  }
  if (ws === 0) return 0;
  return rtc ? Math.floor((2 * ns + ws) / (2 * ws)) : Math.floor(ns / ws);
}

/** NodeResourcesBalancedAllocation on the actual requests (useRequested: true). */
export function balancedScore(t: number, pod: number, i: number): number {
  const n = hdr(t, H_CAP);
  const alloc = hdr(t, H_ALLOC);
  const req = hdr(t, H_REQ);
  return balancedAllocation(
    ldf(req + i * 8) + ldf(pod + P_CPU * 4),
    ldf(alloc + i * 8),
    ldf(req + (n + i) * 8) + ldf(pod + P_MEM * 4),
    ldf(alloc + (n + i) * 8),
  );
}

/** ImageLocality: sum of the scaled sizes of the pod's images present on the node. */
export function imageLocality(t: number, pod: number, i: number): number {
  const p = section(pod, P_IMAGES);
  const count = ld(p);
  if (count === 0) return 0;
  const n = hdr(t, H_CAP);
  const images = hdr(t, H_IMAGES);
  let sum = 0;
  for (let k = 0; k < count; k++) {
    const q = p + 4 + k * 12;
    if ((ld(images + (ld(q) * n + i) * 4) & ld(q + 4)) !== 0) sum += ld(q + 8);
  }
  return imageScore(sum, ld(pod + P_IMAGE_MAX * 4));
}

/**
 * The resource pass, every node: S_FIT = NodeResourcesFit reason (0 = fits) and S_BASE = weighted
 * NodeResourcesFit + BalancedAllocation scores. The wasm twin does two nodes per step (f64x2).
 */
export function resourcePass(t: number, pod: number): void {
  const count = hdr(t, H_COUNT);
  const fit = hdr(t, H_S_FIT);
  const base = hdr(t, H_S_BASE);
  const wRes = hdr(t, H_W_RES);
  const wBal = hdr(t, H_W_BAL);
  for (let i = 0; i < count; i++) {
    st(fit + i * 4, fitReason(t, pod, i));
    st(base + i * 4, wRes * resourceScore(t, pod, i) + wBal * balancedScore(t, pod, i));
  }
}

/**
 * Brings the current cache entry's S_FIT and S_BASE up to date for the pod: with the same request
 * words and at most BINDLOG_CAP binds since its last sync, only the logged nodes are recomputed
 * (refreshNode: a replica after its predecessor's bind, or a template met again after others);
 * otherwise the full resource pass.
 */
export function syncResources(t: number, pod: number): void {
  const entry = hdr(t, H_SLOTS) + hdr(t, H_SLOT_CUR) * SLOT_WORDS * 4;
  const binds = hdr(t, H_BINDS);
  const sync = ld(entry + SL_SYNC * 4);
  const behind = (binds - sync) | 0;
  let same: boolean = ld(entry + SL_RVALID * 4) !== 0 && behind >= 0 && behind <= BINDLOG_CAP;
  for (let k = 0; k < 10 && same; k++) if (ld(entry + (SL_REQ + k) * 4) !== ld(pod + (P_CPU + k) * 4)) same = false;
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
export function refreshNode(t: number, pod: number, i: number): void {
  st(hdr(t, H_S_FIT) + i * 4, fitReason(t, pod, i));
  st(hdr(t, H_S_BASE) + i * 4, hdr(t, H_W_RES) * resourceScore(t, pod, i) + hdr(t, H_W_BAL) * balancedScore(t, pod, i));
}

/**
 * S_SSCORE = image locality + weighted normalised NodeAffinity and TaintToleration scores
 * (DefaultNormalizeScore over the feasible nodes' maxima). Recomputed only when the maxima or the
 * pod shape change: replicas of a template share it.
 */
export function staticScores(t: number, maxAff: number, maxTaint: number): void {
  if (hdr(t, H_SS_AFF) === maxAff && hdr(t, H_SS_TAINT) === maxTaint) return;
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
    if (a !== affRaw) {
      affRaw = a;
      affNorm = normalize(a, maxAff, 0);
    }
    const tt = ld(taint + i * 4);
    if (tt !== taintRaw) {
      taintRaw = tt;
      taintNorm = normalize(tt, maxTaint, 1);
    }
    st(out + i * 4, ld(img + i * 4) + wAff * affNorm + wTaint * taintNorm);
  }
  st(t + H_SS_AFF * 4, maxAff);
  st(t + H_SS_TAINT * 4, maxTaint);
}

/** NodeAffinity score (node_affinity.go): sum of the weights of the preferred terms the node matches. */
export function preferredAffinity(t: number, pod: number, i: number): number {
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
export function preferredTaints(t: number, pod: number, i: number): number {
  const n = hdr(t, H_CAP);
  const words = hdr(t, H_TAINT_WORDS);
  const taints = hdr(t, H_TAINTS);
  const mask = section(pod, P_TAINTS) + words * 4;
  let count = 0;
  for (let w = 0; w < words; w++) count += popcnt32(ld(taints + (w * n + i) * 4) & ld(mask + w * 4));
  return count;
}
