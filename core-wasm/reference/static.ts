// Static filters and scores: what depends only on the pod's spec and the nodes' labels, taints,
// runtimes and images (not on bound pods). Computed in one pass into scratch columns and reused
// per pod shape (the static record words) in a small least-recently-used cache of column sets, so
// interleaved templates keep theirs.
import { ld, st } from './memory.js';
import {
  F_PRESENT, F_UNSCHEDULABLE, H_COUNT, H_FLAGS, H_RUNTIMES, H_S_AFF, H_S_IMG, H_S_KEYS, H_S_STATIC, H_S_TAINT,
  H_SHAPE, H_SHAPE_CAP, H_SHAPE_VALID, H_SS_AFF, H_CLOCK, H_S_MIN, H_S_SSCORE, H_SLOT_CUR, H_SLOTS, H_SS_TAINT,
  MAX_SPREAD, S_UNIQUE, SL_COLS, SL_SHAPE, SL_SS, SL_UNIQUE, SL_USED, SL_VALID, SLOT_COUNT, SLOT_WORDS, H_S_BASE, H_S_FIT, SL_RVALID, SLOT_COLS, H_W_IMAGE, K_AFFINITY, K_HARD_KEYS, K_SOFT_KEYS, P_ANTI, P_FLAGS, P_IMAGE_MAX, P_INC,
  P_PORTS, P_RUNTIME, P_TAINTS, PF_TOLERATES_UNSCHEDULABLE, R_AFFINITY, R_RUNTIME, R_TAINT, R_UNSCHEDULABLE,
} from './layout.js';
import { hasSpreadKeys, hdr, matchRequired, untoleratedTaint } from './filters.js';
import { imageLocality, preferredAffinity, preferredTaints } from './scores.js';
import { prepareUnique } from './spread.js';

/** Number of static words of a pod record: fixed words P_FLAGS..P_IMAGE_MAX and the spec sections. */
export function shapeWords(pod: number): number {
  return P_IMAGE_MAX + 1 + ld(pod + P_PORTS * 4) - ld(pod + P_TAINTS * 4);
}

/** The k-th static word of a pod record (request words and the offsets of per-pod sections read as 0). */
export function shapeWord(pod: number, k: number): number {
  if (k <= P_IMAGE_MAX) return (k >= P_RUNTIME && k !== P_ANTI && k !== P_INC) || k === P_FLAGS ? ld(pod + k * 4) : 0;
  return ld(pod + (ld(pod + P_TAINTS * 4) + k - P_IMAGE_MAX - 1) * 4);
}

/** True when the shape words at `shape` are the pod's static words. */
export function shapeMatches(shape: number, pod: number): boolean {
  const n = shapeWords(pod);
  if (ld(shape) !== n) return false;
  for (let k = 0; k < n; k++) if (ld(shape + 4 + k * 4) !== shapeWord(pod, k)) return false;
  return true;
}

/** Byte address of static-cache entry e. */
export function slotAt(t: number, e: number): number {
  return hdr(t, H_SLOTS) + e * SLOT_WORDS * 4;
}

/** The header word of column k of a cache entry (layout.ts SL_COLS order). */
export function slotHeader(k: number): number {
  if (k < 4) return k === 0 ? H_S_STATIC : k === 1 ? H_S_KEYS : k === 2 ? H_S_AFF : H_S_TAINT;
  return k === 4 ? H_S_IMG : k === 5 ? H_S_SSCORE : k === 6 ? H_S_FIT : H_S_BASE;
}

/** Makes cache entry e current: the header points at its columns (static and resource); normalisation maxima and UNIQUE flags travel with it. */
export function selectSlot(t: number, e: number): void {
  const cur = hdr(t, H_SLOT_CUR);
  if (cur === e) return;
  const unique = hdr(t, H_S_MIN) + S_UNIQUE * 4;
  const from = slotAt(t, cur);
  st(from + SL_SS * 4, hdr(t, H_SS_AFF));
  st(from + (SL_SS + 1) * 4, hdr(t, H_SS_TAINT));
  for (let j = 0; j < MAX_SPREAD; j++) st(from + (SL_UNIQUE + j) * 4, ld(unique + j * 4));
  const to = slotAt(t, e);
  for (let k = 0; k < SLOT_COLS; k++) st(t + slotHeader(k) * 4, ld(to + (SL_COLS + k) * 4));
  st(t + H_SHAPE * 4, ld(to + SL_SHAPE * 4));
  st(t + H_SS_AFF * 4, ld(to + SL_SS * 4));
  st(t + H_SS_TAINT * 4, ld(to + (SL_SS + 1) * 4));
  for (let j = 0; j < MAX_SPREAD; j++) st(unique + j * 4, ld(to + (SL_UNIQUE + j) * 4));
  st(t + H_SLOT_CUR * 4, e);
}

/**
 * True when some cache entry holds the static columns of a pod with the same static words: it
 * becomes current. Otherwise the least recently used (or an empty) entry becomes current, emptied,
 * for prepareStatic and syncResources to fill. A node change (H_SHAPE_VALID cleared by the host) empties them all.
 */
export function sameShape(t: number, pod: number): boolean {
  if (hdr(t, H_SHAPE_VALID) === 0) {
    for (let e = 0; e < SLOT_COUNT; e++) st(slotAt(t, e) + SL_VALID * 4, 0);
    st(t + H_SHAPE_VALID * 4, 1);
  }
  const clock = hdr(t, H_CLOCK) + 1;
  st(t + H_CLOCK * 4, clock);
  let victim = 0;
  let oldest = 0x7fffffff;
  for (let e = 0; e < SLOT_COUNT; e++) {
    const entry = slotAt(t, e);
    if (ld(entry + SL_VALID * 4) === 0) {
      if (oldest >= 0) {
        victim = e;
        oldest = -1;
      }
      continue;
    }
    if (shapeMatches(ld(entry + SL_SHAPE * 4), pod)) {
      selectSlot(t, e);
      st(entry + SL_USED * 4, clock);
      return true;
    }
    if (ld(entry + SL_USED * 4) < oldest) {
      oldest = ld(entry + SL_USED * 4);
      victim = e;
    }
  }
  selectSlot(t, victim);
  st(slotAt(t, victim) + SL_VALID * 4, 0);
  st(slotAt(t, victim) + SL_RVALID * 4, 0);
  st(slotAt(t, victim) + SL_USED * 4, clock);
  return false;
}

/** Records the pod's static words as the ones the current entry's columns hold (if they fit its shape words). */
export function rememberShape(t: number, pod: number): void {
  const n = shapeWords(pod);
  const entry = slotAt(t, hdr(t, H_SLOT_CUR));
  if (n + 1 > hdr(t, H_SHAPE_CAP)) {
    st(entry + SL_VALID * 4, 0);
    return;
  }
  const shape = hdr(t, H_SHAPE);
  st(shape, n);
  for (let k = 0; k < n; k++) st(shape + 4 + k * 4, shapeWord(pod, k));
  st(entry + SL_VALID * 4, 1);
}

/** The first failing static filter of a present node (NodeUnschedulable, runtime, TaintToleration, NodeAffinity), or 0. */
export function staticReason(t: number, pod: number, i: number, affinity: boolean): number {
  const flags = ld(hdr(t, H_FLAGS) + i * 4);
  if ((flags & F_UNSCHEDULABLE) !== 0 && (ld(pod + P_FLAGS * 4) & PF_TOLERATES_UNSCHEDULABLE) === 0) return R_UNSCHEDULABLE;
  if ((ld(hdr(t, H_RUNTIMES) + i * 4) & ld(pod + P_RUNTIME * 4)) === 0) return R_RUNTIME;
  if (untoleratedTaint(t, pod, i)) return R_TAINT;
  if (!affinity) return R_AFFINITY;
  return 0;
}

/** Fills S_STATIC, S_KEYS, S_AFF, S_TAINT, S_IMG and the spread keys' UNIQUE flags; marks S_SSCORE stale. Called when the pod's shape changes. */
export function prepareStatic(t: number, pod: number): void {
  const count = hdr(t, H_COUNT);
  const wImage = hdr(t, H_W_IMAGE);
  for (let i = 0; i < count; i++) {
    if ((ld(hdr(t, H_FLAGS) + i * 4) & F_PRESENT) === 0) {
      st(hdr(t, H_S_STATIC) + i * 4, -1);
      st(hdr(t, H_S_KEYS) + i * 4, 0);
      continue;
    }
    const affinity = matchRequired(t, pod, i);
    let keys = affinity ? K_AFFINITY : 0;
    if (hasSpreadKeys(t, pod, i, 1)) keys |= K_HARD_KEYS;
    if (hasSpreadKeys(t, pod, i, 0)) keys |= K_SOFT_KEYS;
    st(hdr(t, H_S_KEYS) + i * 4, keys);
    st(hdr(t, H_S_STATIC) + i * 4, staticReason(t, pod, i, affinity));
    st(hdr(t, H_S_AFF) + i * 4, preferredAffinity(t, pod, i));
    st(hdr(t, H_S_TAINT) + i * 4, preferredTaints(t, pod, i));
    st(hdr(t, H_S_IMG) + i * 4, wImage * imageLocality(t, pod, i));
  }
  prepareUnique(t, pod);
  st(t + H_SS_AFF * 4, -1);
  rememberShape(t, pod);
}
