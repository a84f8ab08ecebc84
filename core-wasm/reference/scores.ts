// Scores: the per-node score passes and the formulas of the other default score plugins, each on the
// integer 0–100 scale (framework.MaxNodeScore); NodeResourcesFit and BalancedAllocation are in resources.ts.
// Division of non-negative integers is Math.floor(a / b), Go's int64 division for every a < 2^53.
import { ld, popcnt32, st } from './memory.js';
import {
  H_CAP, H_COUNT, H_IMAGES, H_S_BASE, H_S_FIT, H_TAINT_WORDS, H_TAINTS, BINDLOG_CAP, H_BINDLOG, H_BINDS,
  H_SLOT_CUR, H_SLOTS, SL_REQ, SL_RVALID, SL_SYNC, SLOT_WORDS, H_S_AFF, H_S_IMG, H_S_SSCORE, H_S_TAINT,
  H_SS_AFF, H_SS_TAINT, H_W_AFF, H_W_BAL, H_W_RES, H_W_TAINT, IMG_MIN_KIB, P_CPU, P_IMAGE_MAX, P_IMAGES,
  P_PREFERRED, P_TAINTS,
} from './layout.js';
import { fitReason, hdr, matchTerm, section, termWords } from './filters.js';
import { balancedScore, resourceScore } from './resources.js';

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
