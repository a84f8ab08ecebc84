// Selection: the weighted sum of the normalised scores of every feasible node and its argmax (ties
// go to the lowest slot). Without soft spread a node's total is S_BASE + S_SSCORE. With it, the
// spread plugin's normalisation needs the min and max raw spread score first, so the pass keeps,
// per raw spread value, the best S_BASE + S_SSCORE and its slot (raw values are few: counts × a
// constant weight); the winner is then picked among those buckets — the same argmax without a
// second pass over the nodes.
import { ld, st } from './memory';
import {
  BUCKET_CAP, H_COUNT, H_S_BASE, H_S_BUCKET, H_S_KEYS, H_S_OK, H_S_SPREAD, H_S_SSCORE, H_W_SPREAD, K_SOFT_KEYS, O_SCORE,
} from './layout';
import { hdr } from './filters';
import { spreadRaw } from './spread';

/** podtopologyspread/scoring.go NormalizeScore for a raw score s ≥ 0: 100 × (max + min − s) / max. */
export function spreadNorm(s: i32, min: i32, max: i32): i32 {
  return max == 0 ? 100 : (100 * (max + min - s)) / max;
}

/** Argmax of S_BASE + S_SSCORE over feasible nodes (the wasm twin: four nodes per step); writes the score. */
export function bestPlain(t: i32, out: i32): i32 {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const base = hdr(t, H_S_BASE);
  const ss = hdr(t, H_S_SSCORE);
  const zero = i32x4.splat(0);
  const none = i32x4.splat(-1);
  // The best total, four lanes at a time (infeasible lanes count as -1), then its first slot.
  let vmax = none;
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const total = i32x4.add(v128.load(base + i * 4), v128.load(ss + i * 4));
    vmax = i32x4.max_s(vmax, v128.bitselect(total, none, i32x4.ne(v128.load(ok + i * 4), zero)));
  }
  let bestScore = max(max(i32x4.extract_lane(vmax, 0), i32x4.extract_lane(vmax, 1)), max(i32x4.extract_lane(vmax, 2), i32x4.extract_lane(vmax, 3)));
  for (; i < count; i++) {
    if (ld(ok + i * 4) == 0) continue;
    const total = ld(base + i * 4) + ld(ss + i * 4);
    if (total > bestScore) bestScore = total;
  }
  let best = -1;
  for (let k = 0; k < count; k++) {
    if (ld(ok + k * 4) != 0 && ld(base + k * 4) + ld(ss + k * 4) == bestScore) {
      best = k;
      break;
    }
  }
  st(out + O_SCORE * 4, bestScore);
  return best;
}

/** Argmax with soft topology spread: one pass into raw-score buckets, then a pick among them. */
export function bestSpread(t: i32, pod: i32, out: i32): i32 {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const base = hdr(t, H_S_BASE);
  const ss = hdr(t, H_S_SSCORE);
  const keys = hdr(t, H_S_KEYS);
  const raw = hdr(t, H_S_SPREAD);
  const bucket = hdr(t, H_S_BUCKET);
  const wSpread = hdr(t, H_W_SPREAD);
  let min = 0x7fffffff;
  let max = 0;
  let overflow: bool = false;
  // Nodes missing a soft key score 0 for the plugin (scoring.go): the best of them is a bucket of its own.
  let plainBest = -1;
  let plainScore = -1;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) == 0) continue;
    const x = ld(base + i * 4) + ld(ss + i * 4);
    if ((ld(keys + i * 4) & K_SOFT_KEYS) == 0) {
      st(raw + i * 4, -1);
      if (x > plainScore) {
        plainScore = x;
        plainBest = i;
      }
      continue;
    }
    const s = spreadRaw(t, pod, i);
    st(raw + i * 4, s);
    if (s < min) min = s;
    if (s > max) max = s;
    if (s >= BUCKET_CAP) {
      overflow = true;
      continue;
    }
    if (x + 1 > ld(bucket + s * 4)) {
      st(bucket + s * 4, x + 1);
      st(bucket + (BUCKET_CAP + s) * 4, i);
    }
  }
  let best = plainBest;
  let bestScore = plainScore;
  for (let s = min; s <= max && s < BUCKET_CAP; s++) {
    const x = ld(bucket + s * 4);
    if (x == 0) continue;
    st(bucket + s * 4, 0);
    const total = x - 1 + wSpread * spreadNorm(s, min, max);
    const slot = ld(bucket + (BUCKET_CAP + s) * 4);
    if (total > bestScore || (total == bestScore && slot < best)) {
      bestScore = total;
      best = slot;
    }
  }
  if (overflow) return bestTwoPass(t, out, min, max);
  st(out + O_SCORE * 4, bestScore);
  return best;
}

/** The plain second pass over the nodes, for raw spread scores beyond the buckets. */
export function bestTwoPass(t: i32, out: i32, min: i32, max: i32): i32 {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const base = hdr(t, H_S_BASE);
  const ss = hdr(t, H_S_SSCORE);
  const raw = hdr(t, H_S_SPREAD);
  const wSpread = hdr(t, H_W_SPREAD);
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) == 0) continue;
    const s = ld(raw + i * 4);
    const total = ld(base + i * 4) + ld(ss + i * 4) + (s < 0 ? 0 : wSpread * spreadNorm(s, min, max));
    if (total > bestScore) {
      bestScore = total;
      best = i;
    }
  }
  st(out + O_SCORE * 4, bestScore);
  return best;
}
