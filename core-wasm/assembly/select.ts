// Selection: the weighted sum of the normalised scores of every feasible node and its argmax (ties
// go to the lowest slot). Without soft spread a node's total is S_BASE + S_SSCORE. With it, the
// spread plugin's normalisation needs the min and max raw spread score first, so the pass keeps,
// per raw spread value, the best S_BASE + S_SSCORE and its slot (raw values are few: counts × a
// constant weight); the winner is then picked among those buckets — the same argmax without a
// second pass over the nodes.
import { ld as ld, ldf, st } from './memory';
import {
  BUCKET_CAP, H_CAP, H_COUNT, H_COUNTS, H_LOG, H_S_BASE, H_S_BUCKET, H_S_KEYS, H_S_OK, H_S_SPREAD, H_S_SSCORE, H_W_SPREAD,
  H_S_MIN, K_SOFT_KEYS, O_SCORE, S_SIZE, S_TABLE,
} from './layout';
import { hdr } from './filters';
import { constraintAt, spreadRaw, spreadWord } from './spread';

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
  // The first slot holding the best total: four lanes compared per step, bitmask → lowest lane.
  const want = i32x4.splat(bestScore);
  let best = -1;
  let k = 0;
  for (; k + 4 <= count; k += 4) {
    const total = i32x4.add(v128.load(base + k * 4), v128.load(ss + k * 4));
    const hit = v128.and(i32x4.eq(total, want), i32x4.ne(v128.load(ok + k * 4), zero));
    if (v128.any_true(hit)) {
      best = k + ctz(i32x4.bitmask(hit));
      break;
    }
  }
  for (; best < 0 && k < count; k++) if (ld(ok + k * 4) != 0 && ld(base + k * 4) + ld(ss + k * 4) == bestScore) best = k;
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

/** Raw soft spread score for a node whose domain holds `cnt` matching pods, one soft constraint (spreadRaw's operations). */
export function oneRaw(cnt: i32, weight: f64, skew: i32): i32 {
  let acc: f64 = 0;
  acc = acc + (<f64>cnt * weight + <f64>skew);
  return <i32>Math.floor(acc + 0.5);
}

/**
 * Argmax with one soft constraint on a key with one node per domain (kubernetes.io/hostname):
 * a node's raw score is a monotone function of its own counter, so the min and max raw scores
 * come from the counter's range over the scored nodes and the spread plugin's normalised score is a
 * table over that range (in the bucket slots). Two passes; the wasm twin does four nodes per step.
 */
export function bestOneSoft(t: i32, pod: i32, out: i32, j: i32): i32 {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const keys = hdr(t, H_S_KEYS);
  const c = constraintAt(pod, j);
  const counts = hdr(t, H_COUNTS) + ld(c) * hdr(t, H_CAP) * 4;
  const zero = i32x4.splat(0);
  const softBit = i32x4.splat(K_SOFT_KEYS);
  let vlo = i32x4.splat(0x7fffffff);
  let vhi = i32x4.splat(-1);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const m = v128.and(i32x4.ne(v128.load(ok + i * 4), zero), i32x4.ne(v128.and(v128.load(keys + i * 4), softBit), zero));
    const cnt = v128.load(counts + i * 4);
    vlo = i32x4.min_s(vlo, v128.bitselect(cnt, i32x4.splat(0x7fffffff), m));
    vhi = i32x4.max_s(vhi, v128.bitselect(cnt, i32x4.splat(-1), m));
  }
  let lo = min(min(i32x4.extract_lane(vlo, 0), i32x4.extract_lane(vlo, 1)), min(i32x4.extract_lane(vlo, 2), i32x4.extract_lane(vlo, 3)));
  let hi = max(max(i32x4.extract_lane(vhi, 0), i32x4.extract_lane(vhi, 1)), max(i32x4.extract_lane(vhi, 2), i32x4.extract_lane(vhi, 3)));
  for (; i < count; i++) {
    if (ld(ok + i * 4) == 0 || (ld(keys + i * 4) & K_SOFT_KEYS) == 0) continue;
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
export function bestCounted(t: i32, out: i32, counts: i32, lo: i32, hi: i32): i32 {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const table = hdr(t, H_S_BUCKET) + BUCKET_CAP * 4;
  let bestScore = -1;
  let best = -1;
  if (hi - lo < 16) {
    // The table's low and high bytes as two swizzle tables (entries ≤ 100 × weight < 65536).
    const bytes = hdr(t, H_S_MIN) + S_TABLE * 4;
    v128.store(bytes, i32x4.splat(0));
    v128.store(bytes + 16, i32x4.splat(0));
    for (let k = 0; k <= hi - lo; k++) {
      store<u8>(bytes + k, ld(table + k * 4) & 0xff);
      store<u8>(bytes + 16 + k, ld(table + k * 4) >> 8);
    }
    const lowTable = v128.load(bytes);
    const highTable = v128.load(bytes + 16);
    const zero = i32x4.splat(0);
    const none = i32x4.splat(-1);
    const vlo = i32x4.splat(lo);
    const full = count & ~3;
    const base = hdr(t, H_S_BASE);
    const ss = hdr(t, H_S_SSCORE);
    const keys = hdr(t, H_S_KEYS);
    let vmax = none;
    for (let i = 0; i < full; i += 4) {
      const total = countedLanes(i, base, ss, keys, counts, vlo, lowTable, highTable);
      vmax = i32x4.max_s(vmax, v128.bitselect(total, none, i32x4.ne(v128.load(ok + i * 4), zero)));
    }
    bestScore = max(max(i32x4.extract_lane(vmax, 0), i32x4.extract_lane(vmax, 1)), max(i32x4.extract_lane(vmax, 2), i32x4.extract_lane(vmax, 3)));
    for (let i = full; i < count; i++) if (ld(ok + i * 4) != 0) bestScore = max(bestScore, countedTotal(t, i, counts, lo, table));
    // The first slot holding the best total: bitmask → lowest lane.
    const want = i32x4.splat(bestScore);
    for (let i = 0; i < full; i += 4) {
      const hit = v128.and(i32x4.eq(countedLanes(i, base, ss, keys, counts, vlo, lowTable, highTable), want), i32x4.ne(v128.load(ok + i * 4), zero));
      if (v128.any_true(hit)) {
        best = i + ctz(i32x4.bitmask(hit));
        break;
      }
    }
    for (let i = full; best < 0 && i < count; i++) if (ld(ok + i * 4) != 0 && countedTotal(t, i, counts, lo, table) == bestScore) best = i;
  } else {
    for (let i = 0; i < count; i++) {
      if (ld(ok + i * 4) == 0) continue;
      const total = countedTotal(t, i, counts, lo, table);
      if (total > bestScore) {
        bestScore = total;
        best = i;
      }
    }
  }
  st(out + O_SCORE * 4, bestScore);
  return best;
}

/** Totals of nodes i..i+3 in bestCounted: the table entry looked up by swizzle in its low and high byte tables. */
// @ts-ignore: decorator
@inline function countedLanes(i: i32, base: i32, ss: i32, keys: i32, counts: i32, vlo: v128, lowTable: v128, highTable: v128): v128 {
  const low = i32x4.splat(0xff);
  const idx = i32x4.sub(v128.load(counts + i * 4), vlo);
  const g = v128.or(v128.and(i8x16.swizzle(lowTable, idx), low), i32x4.shl(v128.and(i8x16.swizzle(highTable, idx), low), 8));
  const soft = i32x4.ne(v128.and(v128.load(keys + i * 4), i32x4.splat(K_SOFT_KEYS)), i32x4.splat(0));
  return i32x4.add(i32x4.add(v128.load(base + i * 4), v128.load(ss + i * 4)), v128.and(g, soft));
}

/** Total score of node i in bestCounted. */
// @ts-ignore: decorator
@inline function countedTotal(t: i32, i: i32, counts: i32, lo: i32, table: i32): i32 {
  let total = ld(hdr(t, H_S_BASE) + i * 4) + ld(hdr(t, H_S_SSCORE) + i * 4);
  if ((ld(hdr(t, H_S_KEYS) + i * 4) & K_SOFT_KEYS) != 0) total += ld(table + (ld(counts + i * 4) - lo) * 4);
  return total;
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
