// Batch placement, the pipeline in one place: static filters and scores (cached per pod shape) →
// spread counts → resource pass → filter → (soft spread) → normalise + pick (ties to the lowest
// slot) → bind; or, when nothing fits, diagnose the first failing filter per node.
import { ld, ldf, st, stf } from './memory';
import {
  H_CAP, H_COUNT, H_COUNTER_KEY, H_COUNTS, H_DOMAIN_CAP, H_DOMAINS, H_PORTS, H_REQ, H_S_AFF, H_S_BASE,
  H_S_FIT, H_S_IMG, H_S_OK, H_S_SPREAD, H_S_STATIC, H_S_TAINT, P_ANTI, H_SREQ, H_TOTALS, H_W_AFF, H_W_SPREAD, H_W_TAINT, O_NODE,
  O_REASONS, O_SCORE, OUT_WORDS, P_CPU, P_EPH, P_INC, P_LEN, P_MEM, P_PORTS, P_SCPU, P_SMEM, P_SPREAD,
} from './layout';
import { antiAffinityViolated, firstFailure, hdr, portConflict, section } from './filters';
import { normalize, resourcePass } from './scores';
import { prepareSpread, scoreSpread, softConstraints, spreadPass } from './spread';
import { prepareStatic, sameShape } from './static';

/** Largest raw preferred-affinity and untolerated-PreferNoSchedule counts of the last filter pass. */
let maxAff: i32 = 0;
let maxTaint: i32 = 0;

/** Adds (sign 1) or removes (sign -1) a pod on node slot `node`: requests, host ports, counters. */
export function bindPod(t: i32, pod: i32, node: i32, sign: i32): void {
  const n = hdr(t, H_CAP);
  const req = hdr(t, H_REQ);
  const sreq = hdr(t, H_SREQ);
  stf(req + node * 8, ldf(req + node * 8) + <f64>sign * ldf(pod + P_CPU * 4));
  stf(req + (n + node) * 8, ldf(req + (n + node) * 8) + <f64>sign * ldf(pod + P_MEM * 4));
  stf(req + (2 * n + node) * 8, ldf(req + (2 * n + node) * 8) + <f64>sign * ldf(pod + P_EPH * 4));
  stf(req + (3 * n + node) * 8, ldf(req + (3 * n + node) * 8) + <f64>sign);
  stf(sreq + node * 8, ldf(sreq + node * 8) + <f64>sign * ldf(pod + P_SCPU * 4));
  stf(sreq + (n + node) * 8, ldf(sreq + (n + node) * 8) + <f64>sign * ldf(pod + P_SMEM * 4));
  const ports = section(pod, P_PORTS);
  for (let k = 0; k < ld(ports); k++) {
    const p = hdr(t, H_PORTS) + (ld(ports + 4 + k * 8) * n + node) * 4;
    const mask = ld(ports + 8 + k * 8);
    st(p, sign > 0 ? ld(p) | mask : ld(p) & ~mask);
  }
  const inc = section(pod, P_INC);
  const d = hdr(t, H_DOMAIN_CAP);
  for (let k = 0; k < ld(inc); k++) {
    const c = ld(inc + 4 + k * 4);
    const p = hdr(t, H_COUNTS) + (c * n + node) * 4;
    st(p, ld(p) + sign);
    const dom = ld(hdr(t, H_DOMAINS) + (ld(hdr(t, H_COUNTER_KEY) + c * 4) * n + node) * 4);
    if (dom >= 0) {
      const q = hdr(t, H_TOTALS) + (c * d + dom) * 4;
      st(q, ld(q) + sign);
    }
  }
}

/** Combines the static and resource columns with the per-node dynamic filters into S_OK; returns how many fit. */
export function filterAndScore(t: i32, pod: i32): i32 {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const stat = hdr(t, H_S_STATIC);
  const fit = hdr(t, H_S_FIT);
  const aff = hdr(t, H_S_AFF);
  const taint = hdr(t, H_S_TAINT);
  const ports: bool = ld(section(pod, P_PORTS)) > 0;
  const spread: bool = ld(section(pod, P_SPREAD)) > 0;
  const anti: bool = ld(section(pod, P_ANTI)) > 0;
  combineStaticAndFit(t);
  // The dynamic filters, one pass each over the nodes still in (same results as firstFailure's order).
  for (let i = 0; i < count; i++) if (ports && ld(ok + i * 4) != 0 && portConflict(t, pod, i)) st(ok + i * 4, 0);
  if (spread) spreadPass(t, pod);
  for (let i = 0; i < count; i++) if (anti && ld(ok + i * 4) != 0 && antiAffinityViolated(t, pod, i)) st(ok + i * 4, 0);
  let feasible = 0;
  maxAff = 0;
  maxTaint = 0;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) == 0) continue;
    feasible++;
    const a = ld(aff + i * 4);
    if (a > maxAff) maxAff = a;
    const tt = ld(taint + i * 4);
    if (tt > maxTaint) maxTaint = tt;
  }
  return feasible;
}

/** S_OK = 1 where the static filters and NodeResourcesFit pass (the wasm twin does four nodes per step). */
export function combineStaticAndFit(t: i32): void {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const stat = hdr(t, H_S_STATIC);
  const fit = hdr(t, H_S_FIT);
  const zero = i32x4.splat(0);
  const one = i32x4.splat(1);
  for (let i = 0; i < count; i += 4) {
    const bad = v128.or(v128.load(stat + i * 4), v128.load(fit + i * 4));
    v128.store(ok + i * 4, v128.and(i32x4.eq(bad, zero), one));
  }
}

/** Counts, for a pod no node accepts, the first failing filter of every node into out[O_REASONS]. */
export function diagnose(t: i32, pod: i32, out: i32): void {
  const count = hdr(t, H_COUNT);
  for (let i = 0; i < count; i++) {
    const r = firstFailure(t, pod, i);
    if (r > 0) st(out + (O_REASONS + r) * 4, ld(out + (O_REASONS + r) * 4) + 1);
  }
}

/** Normalises the scratch scores, adds the weighted plugins and returns the best feasible slot. */
export function selectBest(t: i32, pod: i32, out: i32): i32 {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const base = hdr(t, H_S_BASE);
  const img = hdr(t, H_S_IMG);
  const aff = hdr(t, H_S_AFF);
  const taint = hdr(t, H_S_TAINT);
  const spread = hdr(t, H_S_SPREAD);
  const soft: bool = softConstraints(pod) > 0;
  if (soft) scoreSpread(t, pod);
  // podtopologyspread/scoring.go NormalizeScore: min/max over scored nodes, 100 * (max + min - s) / max.
  let minSpread = 0x7fffffff;
  let maxSpread = 0;
  if (soft) {
    for (let i = 0; i < count; i++) {
      if (ld(ok + i * 4) == 0) continue;
      const s = ld(spread + i * 4);
      if (s < 0) continue;
      if (s < minSpread) minSpread = s;
      if (s > maxSpread) maxSpread = s;
    }
  }
  const wAff = hdr(t, H_W_AFF);
  const wTaint = hdr(t, H_W_TAINT);
  const wSpread = hdr(t, H_W_SPREAD);
  let best = -1;
  let bestScore = -1;
  // Raw values repeat across nodes (0, or one preference weight): remember the last division.
  let affRaw = 0;
  let affNorm = normalize(0, maxAff, 0);
  let taintRaw = 0;
  let taintNorm = normalize(0, maxTaint, 1);
  let spreadRaw = -1;
  let spreadNorm = 0;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) == 0) continue;
    let total = ld(base + i * 4) + ld(img + i * 4);
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
    total += wAff * affNorm + wTaint * taintNorm;
    if (soft) {
      const s = ld(spread + i * 4);
      if (s != spreadRaw) {
        spreadRaw = s;
        spreadNorm = s < 0 ? 0 : maxSpread == 0 ? 100 : (100 * (maxSpread + minSpread - s)) / maxSpread;
      }
      total += wSpread * spreadNorm;
    }
    if (total > bestScore) {
      bestScore = total;
      best = i;
    }
  }
  st(out + O_SCORE * 4, bestScore);
  return best;
}

/** Places one pod: writes its slot (or -1), score and reasons to out; returns the slot. */
export function placeOne(t: i32, pod: i32, out: i32): i32 {
  for (let k = 0; k < OUT_WORDS; k++) st(out + k * 4, 0);
  if (!sameShape(t, pod)) prepareStatic(t, pod);
  if (ld(section(pod, P_SPREAD)) > 0) prepareSpread(t, pod);
  resourcePass(t, pod);
  if (filterAndScore(t, pod) == 0) {
    diagnose(t, pod, out);
    st(out + O_NODE * 4, -1);
    return -1;
  }
  const best = selectBest(t, pod, out);
  st(out + O_NODE * 4, best);
  return best;
}

/**
 * Places `count` pod records starting at `pods`, in order, binding each placed pod before the
 * next; writes OUT_WORDS per pod at `out`. Returns the number placed. Called once per schedule().
 */
export function placeBatch(t: i32, pods: i32, count: i32, out: i32): i32 {
  let placed = 0;
  let p = pods;
  let o = out;
  for (let k = 0; k < count; k++) {
    const node = placeOne(t, p, o);
    if (node >= 0) {
      bindPod(t, p, node, 1);
      placed++;
    }
    p += ld(p + P_LEN * 4) * 4;
    o += OUT_WORDS * 4;
  }
  return placed;
}

