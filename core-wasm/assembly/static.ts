// Static filters and scores: what depends only on the pod's spec and the nodes' labels, taints,
// runtimes and images (not on bound pods). Computed in one pass into scratch columns and reused
// while consecutive pods have the same static record words (replicas of one template).
import { ld, st } from './memory';
import {
  F_PRESENT, F_UNSCHEDULABLE, H_COUNT, H_FLAGS, H_RUNTIMES, H_S_AFF, H_S_IMG, H_S_KEYS, H_S_STATIC, H_S_TAINT,
  H_SHAPE, H_SHAPE_CAP, H_SHAPE_VALID, H_SS_AFF, H_W_IMAGE, K_AFFINITY, K_HARD_KEYS, K_SOFT_KEYS, P_ANTI, P_FLAGS, P_IMAGE_MAX, P_INC,
  P_PORTS, P_RUNTIME, P_TAINTS, PF_TOLERATES_UNSCHEDULABLE, R_AFFINITY, R_RUNTIME, R_TAINT, R_UNSCHEDULABLE,
} from './layout';
import { hasSpreadKeys, hdr, matchRequired, untoleratedTaint } from './filters';
import { imageLocality, preferredAffinity, preferredTaints } from './scores';
import { prepareUnique } from './spread';

/** Number of static words of a pod record: fixed words P_FLAGS..P_IMAGE_MAX and the spec sections. */
export function shapeWords(pod: i32): i32 {
  return P_IMAGE_MAX + 1 + ld(pod + P_PORTS * 4) - ld(pod + P_TAINTS * 4);
}

/** The k-th static word of a pod record (request words and the offsets of per-pod sections read as 0). */
export function shapeWord(pod: i32, k: i32): i32 {
  if (k <= P_IMAGE_MAX) return (k >= P_RUNTIME && k != P_ANTI && k != P_INC) || k == P_FLAGS ? ld(pod + k * 4) : 0;
  return ld(pod + (ld(pod + P_TAINTS * 4) + k - P_IMAGE_MAX - 1) * 4);
}

/** True when the static columns were computed for a pod with the same static words. */
export function sameShape(t: i32, pod: i32): bool {
  if (hdr(t, H_SHAPE_VALID) == 0) return false;
  const shape = hdr(t, H_SHAPE);
  const n = shapeWords(pod);
  if (ld(shape) != n) return false;
  for (let k = 0; k < n; k++) if (ld(shape + 4 + k * 4) != shapeWord(pod, k)) return false;
  return true;
}

/** Records the pod's static words as the ones the static columns hold (if they fit the scratch). */
export function rememberShape(t: i32, pod: i32): void {
  const n = shapeWords(pod);
  if (n + 1 > hdr(t, H_SHAPE_CAP)) {
    st(t + H_SHAPE_VALID * 4, 0);
    return;
  }
  const shape = hdr(t, H_SHAPE);
  st(shape, n);
  for (let k = 0; k < n; k++) st(shape + 4 + k * 4, shapeWord(pod, k));
  st(t + H_SHAPE_VALID * 4, 1);
}

/** The first failing static filter of a present node (NodeUnschedulable, runtime, TaintToleration, NodeAffinity), or 0. */
export function staticReason(t: i32, pod: i32, i: i32, affinity: bool): i32 {
  const flags = ld(hdr(t, H_FLAGS) + i * 4);
  if ((flags & F_UNSCHEDULABLE) != 0 && (ld(pod + P_FLAGS * 4) & PF_TOLERATES_UNSCHEDULABLE) == 0) return R_UNSCHEDULABLE;
  if ((ld(hdr(t, H_RUNTIMES) + i * 4) & ld(pod + P_RUNTIME * 4)) == 0) return R_RUNTIME;
  if (untoleratedTaint(t, pod, i)) return R_TAINT;
  if (!affinity) return R_AFFINITY;
  return 0;
}

/** Fills S_STATIC, S_KEYS, S_AFF, S_TAINT, S_IMG and the spread keys' UNIQUE flags; marks S_SSCORE stale. Called when the pod's shape changes. */
export function prepareStatic(t: i32, pod: i32): void {
  const count = hdr(t, H_COUNT);
  const wImage = hdr(t, H_W_IMAGE);
  for (let i = 0; i < count; i++) {
    if ((ld(hdr(t, H_FLAGS) + i * 4) & F_PRESENT) == 0) {
      st(hdr(t, H_S_STATIC) + i * 4, -1);
      st(hdr(t, H_S_KEYS) + i * 4, 0);
      continue;
    }
    const affinity = matchRequired(t, pod, i);
    let keys: i32 = affinity ? K_AFFINITY : 0;
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
