// Selection: the weighted sum of the normalised scores of every feasible node and its argmax (ties
// go to the lowest slot). Without soft spread a node's total is S_BASE + S_SSCORE. With it, the
// spread plugin's normalisation needs the min and max raw spread score first, so the pass keeps,
// per raw spread value, the best S_BASE + S_SSCORE and its slot (raw values are few: counts × a
// constant weight); the winner is then picked among those buckets — the same argmax without a
// second pass over the nodes.
import { ld as ld, ldf, st } from './memory.js';
import {
  BUCKET_CAP, H_CAP, H_COUNT, H_COUNTS, H_LOG, H_S_BASE, H_S_BUCKET, H_S_KEYS, H_S_OK, H_S_SPREAD, H_S_SSCORE, H_W_SPREAD,
  K_SOFT_KEYS, O_SCORE, S_SIZE,
} from './layout.js';
import { hdr } from './filters.js';
import { constraintAt, spreadRaw, spreadWord } from './spread.js';

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

/** Raw soft spread score for a node whose domain holds `cnt` matching pods, one soft constraint (spreadRaw's operations). */
export function oneRaw(cnt: number, weight: number, skew: number): number {
  let acc = 0;
  acc = acc + (cnt * weight + skew);
  return Math.floor(acc + 0.5);
}

/**
 * Argmax with one soft constraint on a key with one node per domain (kubernetes.io/hostname):
 * a node's raw score is a monotone function of its own counter, so the min and max raw scores
 * come from the counter's range over the scored nodes and the spread plugin's normalised score is a
 * table over that range (in the bucket slots). Two passes; the wasm twin does four nodes per step.
 */
export function bestOneSoft(t: number, pod: number, out: number, j: number): number {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const keys = hdr(t, H_S_KEYS);
  const c = constraintAt(pod, j);
  const counts = hdr(t, H_COUNTS) + ld(c) * hdr(t, H_CAP) * 4;
  let lo = 0x7fffffff;
  let hi = -1;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) === 0 || (ld(keys + i * 4) & K_SOFT_KEYS) === 0) continue;
    const cnt = ld(counts + i * 4);
    if (cnt < lo) lo = cnt;
    if (cnt > hi) hi = cnt;
  }
  if (hi < 0 || hi - lo >= BUCKET_CAP) return bestSpread(t, pod, out);
  const table = hdr(t, H_S_BUCKET) + BUCKET_CAP * 4;
  const weight = ldf(hdr(t, H_LOG) + ld(spreadWord(t, S_SIZE, j)) * 8);
  const skew = ld(c + 8) - 1;
  const min = oneRaw(lo, weight, skew);
  const max = oneRaw(hi, weight, skew);
  const wSpread = hdr(t, H_W_SPREAD);
  for (let k = 0; k <= hi - lo; k++) st(table + k * 4, wSpread * spreadNorm(oneRaw(lo + k, weight, skew), min, max));
  return bestCounted(t, out, counts, lo, hi);
}

/** The argmax pass of bestOneSoft: S_BASE + S_SSCORE + the table entry of the node's counter (0 without the soft keys); counters lie in [lo, hi] (the wasm twin uses byte tables when hi − lo < 16). */
export function bestCounted(t: number, out: number, counts: number, lo: number, hi: number): number {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const base = hdr(t, H_S_BASE);
  const ss = hdr(t, H_S_SSCORE);
  const keys = hdr(t, H_S_KEYS);
  const table = hdr(t, H_S_BUCKET) + BUCKET_CAP * 4;
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) === 0) continue;
    let total = ld(base + i * 4) + ld(ss + i * 4);
    if ((ld(keys + i * 4) & K_SOFT_KEYS) !== 0) total += ld(table + (ld(counts + i * 4) - lo) * 4);
    if (total > bestScore) {
      bestScore = total;
      best = i;
    }
  }
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
