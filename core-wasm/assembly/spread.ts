// PodTopologySpread bookkeeping per pod: matching pods per topology domain over the eligible nodes
// (those that pass the pod's node affinity and carry the constraint group's keys: the defaults
// nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore), kept up to date bind by bind between
// replicas, and the soft-constraint score. A key whose domains are all single nodes
// (kubernetes.io/hostname) needs no domain table: a node's own counter is its domain's count.
import { ld, ldf, st } from './memory';
import {
  H_CAP, H_COUNT, H_COUNTS, H_DOMAIN_CAP, H_DOMAINS, H_KEY_DOMAINS, H_LOG, H_S_DSUM, H_S_KEYS, H_S_MIN, H_S_OK, H_S_SEEN,
  K_AFFINITY, K_HARD_KEYS, K_SOFT_KEYS, P_INC, P_SPREAD, S_LIMIT, S_SIZE, S_TABLE, S_UNIQUE, SPREAD_WORDS,
} from './layout';
import { hdr, section } from './filters';

/** Byte address of constraint j of the pod: (counter, key, maxSkew, hard, selfMatch). */
export function constraintAt(pod: i32, j: i32): i32 {
  return section(pod, P_SPREAD) + 4 + j * SPREAD_WORDS * 4;
}

/** Word j of row r (MIN, S_SIZE, S_UNIQUE, S_LIMIT) of the per-constraint scratch. */
export function spreadWord(t: i32, row: i32, j: i32): i32 {
  return hdr(t, H_S_MIN) + (row + j) * 4;
}

/** Soft constraints whose key has one node per domain skip the domain table entirely. */
export function tableless(t: i32, c: i32, j: i32): bool {
  return ld(c + 12) == 0 && ld(spreadWord(t, S_UNIQUE, j)) != 0;
}

/** UNIQUE[j] = 1 when no two present nodes share a domain of constraint j's key. Once per pod shape. */
export function prepareUnique(t: i32, pod: i32): void {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const count = hdr(t, H_COUNT);
  const constraints = ld(section(pod, P_SPREAD));
  for (let j = 0; j < constraints; j++) {
    const c = constraintAt(pod, j);
    const seen = hdr(t, H_S_SEEN) + j * d * 4;
    const used = ld(hdr(t, H_KEY_DOMAINS) + ld(c + 4) * 4);
    for (let k = 0; k < used; k++) st(seen + k * 4, 0);
    const domains = hdr(t, H_DOMAINS) + ld(c + 4) * n * 4;
    let unique = 1;
    for (let i = 0; i < count && unique != 0; i++) {
      const dom = ld(domains + i * 4);
      if (dom < 0) continue;
      if (ld(seen + dom * 4) != 0) unique = 0;
      st(seen + dom * 4, 1);
    }
    st(spreadWord(t, S_UNIQUE, j), unique);
  }
}

/** Smallest non-negative value of row[0..used), or MaxInt32 when there is none. */
export function domainMin(row: i32, used: i32): i32 {
  let min = 0x7fffffff;
  for (let k = 0; k < used; k++) {
    const v = ld(row + k * 4);
    if (v >= 0 && v < min) min = v;
  }
  return min;
}

/** MIN[j] and, for DoNotSchedule, LIMIT[j] = min + maxSkew − selfMatch (filtering.go; MaxInt32 without eligible domains). */
export function storeMin(t: i32, c: i32, j: i32): void {
  const row = hdr(t, H_S_DSUM) + j * hdr(t, H_DOMAIN_CAP) * 4;
  const min = domainMin(row, ld(hdr(t, H_KEY_DOMAINS) + ld(c + 4) * 4));
  st(spreadWord(t, 0, j), min);
  st(spreadWord(t, S_LIMIT, j), min == 0x7fffffff ? 0x7fffffff : min + ld(c + 8) - ld(c + 16));
}

/** Fills DSUM[j][domain] (-1 where no eligible node), MIN[j] and LIMIT[j] for every constraint that needs a domain table. */
export function prepareSpread(t: i32, pod: i32): void {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const count = hdr(t, H_COUNT);
  const keys = hdr(t, H_S_KEYS);
  const constraints = ld(section(pod, P_SPREAD));
  for (let j = 0; j < constraints; j++) {
    const c = constraintAt(pod, j);
    if (tableless(t, c, j)) continue;
    const row = hdr(t, H_S_DSUM) + j * d * 4;
    const used = ld(hdr(t, H_KEY_DOMAINS) + ld(c + 4) * 4);
    for (let k = 0; k < used; k++) st(row + k * 4, -1);
    const domains = hdr(t, H_DOMAINS) + ld(c + 4) * n * 4;
    const counts = hdr(t, H_COUNTS) + ld(c) * n * 4;
    const group = ld(c + 12) != 0 ? K_HARD_KEYS : K_SOFT_KEYS;
    let i = 0;
    if (used <= 16) {
      domainSums(keys, domains, counts, row, used, group, count & ~3);
      i = count & ~3;
    }
    for (; i < count; i++) {
      const k = ld(keys + i * 4);
      if ((k & K_AFFINITY) == 0 || (k & group) == 0) continue;
      const p = row + ld(domains + i * 4) * 4;
      const v = ld(p);
      st(p, (v < 0 ? 0 : v) + ld(counts + i * 4));
    }
    storeMin(t, c, j);
  }
}

/**
 * prepareSpread's table for nodes [0, end) of a key with at most 16 domains (zones): per domain, the
 * matching pods of its eligible nodes summed four lanes at a time (-1 stays where none is eligible).
 */
// @ts-ignore: decorator
@inline function domainSums(keys: i32, domains: i32, counts: i32, row: i32, used: i32, group: i32, end: i32): void {
  const zero = i32x4.splat(0);
  const aff = i32x4.splat(K_AFFINITY);
  const grp = i32x4.splat(group);
  for (let d = 0; d < used; d++) {
    const vd = i32x4.splat(d);
    let sum = zero;
    let seen = zero;
    for (let i = 0; i < end; i += 4) {
      const k = v128.load(keys + i * 4);
      const eligible = v128.and(i32x4.ne(v128.and(k, aff), zero), i32x4.ne(v128.and(k, grp), zero));
      const m = v128.and(eligible, i32x4.eq(v128.load(domains + i * 4), vd));
      sum = i32x4.add(sum, v128.and(v128.load(counts + i * 4), m));
      seen = v128.or(seen, m);
    }
    if (v128.any_true(seen)) {
      st(row + d * 4, i32x4.extract_lane(sum, 0) + i32x4.extract_lane(sum, 1) + i32x4.extract_lane(sum, 2) + i32x4.extract_lane(sum, 3));
    }
  }
}

/**
 * After a replica with the same record was bound to `node`: the counters it incremented move the
 * domain tables by one (instead of recounting every node), and MIN/LIMIT follow.
 */
export function bumpSpread(t: i32, pod: i32, node: i32): void {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const k = ld(hdr(t, H_S_KEYS) + node * 4);
  const inc = section(pod, P_INC);
  const constraints = ld(section(pod, P_SPREAD));
  for (let j = 0; j < constraints; j++) {
    const c = constraintAt(pod, j);
    if (tableless(t, c, j)) continue;
    const hard = ld(c + 12) != 0;
    if ((k & K_AFFINITY) == 0 || (k & (hard ? K_HARD_KEYS : K_SOFT_KEYS)) == 0) continue;
    let hit: bool = false;
    for (let q = 0; q < ld(inc); q++) if (ld(inc + 4 + q * 4) == ld(c)) hit = true;
    if (!hit) continue;
    const p = hdr(t, H_S_DSUM) + (j * d + ld(hdr(t, H_DOMAINS) + (ld(c + 4) * n + node) * 4)) * 4;
    const v = ld(p);
    st(p, (v < 0 ? 0 : v) + 1);
    if (hard) storeMin(t, c, j);
  }
}

/** Index of the pod's first ScheduleAnyway constraint, or -1. */
export function firstSoft(pod: i32): i32 {
  const constraints = ld(section(pod, P_SPREAD));
  for (let j = 0; j < constraints; j++) if (ld(constraintAt(pod, j) + 12) == 0) return j;
  return -1;
}

/** Number of ScheduleAnyway constraints of the pod. */
export function softConstraints(pod: i32): i32 {
  const constraints = ld(section(pod, P_SPREAD));
  let soft = 0;
  for (let j = 0; j < constraints; j++) if (ld(constraintAt(pod, j) + 12) == 0) soft++;
  return soft;
}

/**
 * SIZE[j] of every soft constraint: distinct domains among feasible nodes that carry every soft
 * key (scoring.go's topologyNormalizingWeight input). `scored` is how many such nodes there are:
 * the size of a key with one node per domain.
 */
export function softSizes(t: i32, pod: i32, scored: i32): void {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const keys = hdr(t, H_S_KEYS);
  const constraints = ld(section(pod, P_SPREAD));
  for (let j = 0; j < constraints; j++) {
    const c = constraintAt(pod, j);
    if (ld(c + 12) != 0) continue;
    if (tableless(t, c, j)) {
      st(spreadWord(t, S_SIZE, j), scored);
      continue;
    }
    const seen = hdr(t, H_S_SEEN) + j * d * 4;
    const used = ld(hdr(t, H_KEY_DOMAINS) + ld(c + 4) * 4);
    for (let k = 0; k < used; k++) st(seen + k * 4, 0);
    const domains = hdr(t, H_DOMAINS) + ld(c + 4) * n * 4;
    let size = 0;
    for (let i = 0; i < count; i++) {
      if (ld(ok + i * 4) == 0 || (ld(keys + i * 4) & K_SOFT_KEYS) == 0) continue;
      const p = seen + ld(domains + i * 4) * 4;
      if (ld(p) == 0) {
        st(p, 1);
        size++;
      }
    }
    st(spreadWord(t, S_SIZE, j), size);
  }
}

/**
 * Raw soft spread score of a feasible node carrying every soft key, as podtopologyspread/scoring.go:
 * round(Σ cnt × ln(domains + 2) + maxSkew − 1), summed in f64 in constraint order as the Go code does.
 */
export function spreadRaw(t: i32, pod: i32, i: i32): i32 {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const constraints = ld(section(pod, P_SPREAD));
  let acc: f64 = 0;
  for (let j = 0; j < constraints; j++) {
    const c = constraintAt(pod, j);
    if (ld(c + 12) != 0) continue;
    let cnt: i32;
    if (ld(spreadWord(t, S_UNIQUE, j)) != 0) cnt = ld(hdr(t, H_COUNTS) + (ld(c) * n + i) * 4);
    else {
      cnt = ld(hdr(t, H_S_DSUM) + (j * d + ld(hdr(t, H_DOMAINS) + (ld(c + 4) * n + i) * 4)) * 4);
      if (cnt < 0) cnt = 0;
    }
    const weight = ldf(hdr(t, H_LOG) + ld(spreadWord(t, S_SIZE, j)) * 8);
    acc = acc + (<f64>cnt * weight + <f64>(ld(c + 8) - 1));
  }
  return <i32>Math.floor(acc + 0.5);
}

/**
 * DoNotSchedule constraint j as one pass over the nodes still in: a node without the key, or whose
 * domain already holds LIMIT matching pods, is out (filtering.go). Keys with at most 16 domains
 * (zones) are looked up four nodes at a time in a byte table (i8x16.swizzle).
 */
export function hardPass(t: i32, pod: i32, j: i32): void {
  const n = hdr(t, H_CAP);
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const c = constraintAt(pod, j);
  const domains = hdr(t, H_DOMAINS) + ld(c + 4) * n * 4;
  const row = hdr(t, H_S_DSUM) + j * hdr(t, H_DOMAIN_CAP) * 4;
  const limit = ld(spreadWord(t, S_LIMIT, j));
  const used = ld(hdr(t, H_KEY_DOMAINS) + ld(c + 4) * 4);
  if (used <= 16) {
    const table = spreadWord(t, S_TABLE, 0);
    v128.store(table, i32x4.splat(0));
    for (let d = 0; d < used; d++) store<u8>(table + d, max(ld(row + d * 4), 0) > limit ? 1 : 0);
    const bytes = v128.load(table);
    const low = i32x4.splat(0xff);
    const one = i32x4.splat(1);
    const zero = i32x4.splat(0);
    for (let i = 0; i < count; i += 4) {
      const dom = v128.load(domains + i * 4);
      // Lanes without the key (-1) index past the table: swizzle gives 0, the lt test gives 1.
      const bad = v128.or(v128.and(i8x16.swizzle(bytes, dom), low), v128.and(i32x4.lt_s(dom, zero), one));
      v128.store(ok + i * 4, v128.andnot(v128.load(ok + i * 4), bad));
    }
    return;
  }
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) == 0) continue;
    const dom = ld(domains + i * 4);
    if (dom < 0 || max(ld(row + dom * 4), 0) > limit) st(ok + i * 4, 0);
  }
}
