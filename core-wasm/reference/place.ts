// Batch placement, the pipeline in one place: static filters and scores (cached per pod shape) →
// spread tables → resource pass → filter → normalise + pick (ties to the lowest slot) → bind; or,
// when nothing fits, diagnose the first failing filter per node. A replica of the pod before it
// (same record) reuses every column and updates only what the previous bind changed.
import { ld, ldf, st, stf } from './memory.js';
import {
  BINDLOG_CAP, H_BINDLOG, H_BINDS, H_CAP, H_COUNT, H_COUNTER_KEY, H_COUNTS, H_DOMAIN_CAP, H_DOMAINS, H_PORTS, H_REQ, H_S_AFF, H_S_FIT, H_S_KEYS, H_S_OK,
  H_S_STATIC, H_S_TAINT, H_SREQ, H_TOTALS, H_PASS_MAX_AFF, H_PASS_MAX_TAINT, H_PASS_SCORED, K_SOFT_KEYS, O_NODE, O_REASONS, OUT_WORDS, P_ANTI, P_CPU, P_EPH, P_INC,
  P_LEN, P_MEM, P_PORTS, P_SCPU, P_SMEM, P_SPREAD,
} from './layout.js';
import { antiPass, firstFailure, hdr, portConflict, section } from './filters.js';
import { staticScores, syncResources } from './scores.js';
import { bestOneSoft, bestPlain, bestSpread } from './select.js';
import { bumpSpread, constraintAt, firstSoft, hardPass, prepareSpread, softConstraints, softSizes, tableless } from './spread.js';
import { prepareStatic, sameShape } from './static.js';

/** Adds (sign 1) or removes (sign -1) a pod on node slot `node`: requests, host ports, counters. */
export function bindPod(t: number, pod: number, node: number, sign: number): void {
  const n = hdr(t, H_CAP);
  const req = hdr(t, H_REQ);
  const sreq = hdr(t, H_SREQ);
  stf(req + node * 8, ldf(req + node * 8) + sign * ldf(pod + P_CPU * 4));
  stf(req + (n + node) * 8, ldf(req + (n + node) * 8) + sign * ldf(pod + P_MEM * 4));
  stf(req + (2 * n + node) * 8, ldf(req + (2 * n + node) * 8) + sign * ldf(pod + P_EPH * 4));
  stf(req + (3 * n + node) * 8, ldf(req + (3 * n + node) * 8) + sign);
  stf(sreq + node * 8, ldf(sreq + node * 8) + sign * ldf(pod + P_SCPU * 4));
  stf(sreq + (n + node) * 8, ldf(sreq + (n + node) * 8) + sign * ldf(pod + P_SMEM * 4));
  // The bind log lets cached resource columns catch up (scores.ts syncResources).
  const binds = hdr(t, H_BINDS);
  st(hdr(t, H_BINDLOG) + (binds & (BINDLOG_CAP - 1)) * 4, node);
  st(t + H_BINDS * 4, binds + 1);
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

/**
 * S_OK for the pod: the static and resource columns, then the per-node dynamic filters in one
 * fused pass (host ports, DoNotSchedule spread, anti-affinity: a node is out if any fails, so the
 * order does not matter here; diagnose reports the first). Returns how many nodes fit.
 */
export function filterAndScore(t: number, pod: number): number {
  combineStaticAndFit(t);
  dynamicFilters(t, pod);
  return feasibleStats(t);
}

/** Clears S_OK where a host port is taken, a hard spread domain is full or an anti-affinity term is hit: one pass per term. */
export function dynamicFilters(t: number, pod: number): void {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  if (ld(section(pod, P_PORTS)) > 0) {
    for (let i = 0; i < count; i++) if (ld(ok + i * 4) !== 0 && portConflict(t, pod, i)) st(ok + i * 4, 0);
  }
  const constraints = ld(section(pod, P_SPREAD));
  for (let j = 0; j < constraints; j++) if (ld(constraintAt(pod, j) + 12) !== 0) hardPass(t, pod, j);
  const terms = ld(section(pod, P_ANTI));
  for (let k = 0; k < terms; k++) antiPass(t, pod, k);
}

/**
 * Feasible nodes; writes the pass's maxima of raw preferred affinity and PreferNoSchedule counts
 * and how many feasible nodes carry the soft keys to H_PASS_*.
 */
export function feasibleStats(t: number): number {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const aff = hdr(t, H_S_AFF);
  const taint = hdr(t, H_S_TAINT);
  const keys = hdr(t, H_S_KEYS);
  let feasible = 0;
  let maxAff = 0;
  let maxTaint = 0;
  let scored = 0;
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) === 0) continue;
    feasible++;
    const a = ld(aff + i * 4);
    if (a > maxAff) maxAff = a;
    const tt = ld(taint + i * 4);
    if (tt > maxTaint) maxTaint = tt;
    if ((ld(keys + i * 4) & K_SOFT_KEYS) !== 0) scored++;
  }
  st(t + H_PASS_MAX_AFF * 4, maxAff);
  st(t + H_PASS_MAX_TAINT * 4, maxTaint);
  st(t + H_PASS_SCORED * 4, scored);
  return feasible;
}

/** S_OK = 1 where the static filters and NodeResourcesFit pass (the wasm twin does four nodes per step). */
export function combineStaticAndFit(t: number): void {
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const stat = hdr(t, H_S_STATIC);
  const fit = hdr(t, H_S_FIT);
  for (let i = 0; i < count; i++) st(ok + i * 4, (ld(stat + i * 4) | ld(fit + i * 4)) === 0 ? 1 : 0);
}

/** Counts, for a pod no node accepts, the first failing filter of every node into out[O_REASONS]. */
export function diagnose(t: number, pod: number, out: number): void {
  const count = hdr(t, H_COUNT);
  for (let i = 0; i < count; i++) {
    const r = firstFailure(t, pod, i);
    if (r > 0) st(out + (O_REASONS + r) * 4, ld(out + (O_REASONS + r) * 4) + 1);
  }
}

/**
 * Normalises the scratch scores, adds the weighted plugins and returns the best feasible slot.
 * maxAff, maxTaint, scored: what the filter pass found (feasibleStats).
 */
export function selectBest(t: number, pod: number, out: number, maxAff: number, maxTaint: number, scored: number): number {
  staticScores(t, maxAff, maxTaint);
  const soft = softConstraints(pod);
  if (soft === 0) return bestPlain(t, out);
  softSizes(t, pod, scored);
  const j = firstSoft(pod);
  if (soft === 1 && tableless(t, constraintAt(pod, j), j)) return bestOneSoft(t, pod, out, j);
  return bestSpread(t, pod, out);
}

/** Places one pod whose scratch columns are ready: writes its slot (or -1), score and reasons to out. */
export function decide(t: number, pod: number, out: number): number {
  for (let k = 0; k < OUT_WORDS; k++) st(out + k * 4, 0);
  if (filterAndScore(t, pod) === 0) {
    diagnose(t, pod, out);
    st(out + O_NODE * 4, -1);
    return -1;
  }
  const best = selectBest(t, pod, out, hdr(t, H_PASS_MAX_AFF), hdr(t, H_PASS_MAX_TAINT), hdr(t, H_PASS_SCORED));
  st(out + O_NODE * 4, best);
  return best;
}

/** Places one pod from scratch: static columns (unless cached for its shape), spread tables, resource columns (caught up when cached). */
export function placeOne(t: number, pod: number, out: number): number {
  if (!sameShape(t, pod)) prepareStatic(t, pod);
  if (ld(section(pod, P_SPREAD)) > 0) prepareSpread(t, pod);
  syncResources(t, pod);
  return decide(t, pod, out);
}

/**
 * Places a replica: the same record as the pod before it, which was bound to `node`. Only that
 * node's columns and its domains' counts changed, so only they are updated (identical results
 * to placeOne, without its passes over every node).
 */
export function placeReplica(t: number, pod: number, out: number, node: number): number {
  syncResources(t, pod);
  bumpSpread(t, pod, node);
  return decide(t, pod, out);
}

/** True when the records at a and b have the same words (replicas of a template, requests included). */
export function sameRecord(a: number, b: number): boolean {
  const len = ld(a + P_LEN * 4);
  if (ld(b + P_LEN * 4) !== len) return false;
  for (let k = 1; k < len; k++) if (ld(a + k * 4) !== ld(b + k * 4)) return false;
  return true;
}

/**
 * Places `count` pod records starting at `pods`, in order, binding each placed pod before the
 * next; writes OUT_WORDS per pod at `out`. Returns the number placed. Called once per schedule().
 * A replica of the previous record takes the incremental path; one that the previous identical
 * pod could not be placed gets the same answer (nothing changed in between).
 */
export function placeBatch(t: number, pods: number, count: number, out: number): number {
  let placed = 0;
  let p = pods;
  let o = out;
  let prev = -1;
  let prevNode = -1;
  for (let k = 0; k < count; k++) {
    let node: number;
    if (prev >= 0 && sameRecord(prev, p)) {
      if (prevNode >= 0) node = placeReplica(t, p, o, prevNode);
      else {
        for (let w = 0; w < OUT_WORDS; w++) st(o + w * 4, ld(o - OUT_WORDS * 4 + w * 4));
        node = -1;
      }
    } else node = placeOne(t, p, o);
    if (node >= 0) {
      bindPod(t, p, node, 1);
      placed++;
    }
    prev = p;
    prevNode = node;
    p += ld(p + P_LEN * 4) * 4;
    o += OUT_WORDS * 4;
  }
  return placed;
}
