// Selection: the weighted sum of the normalised scores of every feasible node and its argmax (ties
// go to the lowest slot). Without soft spread a node's total is S_BASE + S_SSCORE. With it, the
// spread plugin's normalisation needs the min and max raw spread score first, so the pass keeps,
// per raw spread value, the best S_BASE + S_SSCORE and its slot (raw values are few: counts × a
// constant weight); the winner is then picked among those buckets — the same argmax without a
// second pass over the nodes.
import { ld, st } from './memory.js';
import {
  BUCKET_CAP, H_COUNT, H_S_BASE, H_S_BUCKET, H_S_KEYS, H_S_OK, H_S_SPREAD, H_S_SSCORE, H_W_SPREAD, K_SOFT_KEYS, O_SCORE,
} from './layout.js';
import { hdr } from './filters.js';
import { spreadRaw } from './spread.js';

/** podtopologyspread/scoring.go NormalizeScore for a raw score s ≥ 0: 100 × (max + min − s) / max. */
export function spreadNorm(s: number, min: number, max: number): number {
  return max === 0 ? 100 : Math.floor((100 * (max + min - s)) / max);
}

/** Argmax of S_BASE + S_SSCORE over feasible nodes (the wasm twin: four nodes per step); writes the score. */
export function bestPlain(t: number, out: number): number {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const base = hdr(t, H_S_BASE);
  const ss = hdr(t, H_S_SSCORE);
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) === 0) continue;
    const total = ld(base + i * 4) + ld(ss + i * 4);
    if (total > bestScore) {
      bestScore = total;
      best = i;
    }
  }
  st(out + O_SCORE * 4, bestScore);
  return best;
}

/** Argmax with soft topology spread: one pass into raw-score buckets, then a pick among them. */
export function bestSpread(t: number, pod: number, out: number): number {
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
  let overflow = false;
  // Nodes missing a soft key score 0 for the plugin (scoring.go): the best of them is a bucket of its own.
  let plainBest = -1;
  let plainScore = -1;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) === 0) continue;
    const x = ld(base + i * 4) + ld(ss + i * 4);
    if ((ld(keys + i * 4) & K_SOFT_KEYS) === 0) {
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
    if (x === 0) continue;
    st(bucket + s * 4, 0);
    const total = x - 1 + wSpread * spreadNorm(s, min, max);
    const slot = ld(bucket + (BUCKET_CAP + s) * 4);
    if (total > bestScore || (total === bestScore && slot < best)) {
      bestScore = total;
      best = slot;
    }
  }
  if (overflow) return bestTwoPass(t, out, min, max);
  st(out + O_SCORE * 4, bestScore);
  return best;
}

/** The plain second pass over the nodes, for raw spread scores beyond the buckets. */
export function bestTwoPass(t: number, out: number, min: number, max: number): number {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const base = hdr(t, H_S_BASE);
  const ss = hdr(t, H_S_SSCORE);
  const raw = hdr(t, H_S_SPREAD);
  const wSpread = hdr(t, H_W_SPREAD);
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) === 0) continue;
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
