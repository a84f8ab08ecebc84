// PodTopologySpread bookkeeping per pod: matching pods per topology domain over the eligible nodes
// (those that pass the pod's node affinity and carry the constraint group's keys: the defaults
// nodeAffinityPolicy Honor, nodeTaintsPolicy Ignore), and the soft-constraint score.
import { ld, ldf, st, stf } from './memory.js';
import {
  H_CAP, H_COUNT, H_COUNTS, H_DOMAIN_CAP, H_DOMAINS, H_KEY_DOMAINS, H_LOG, H_S_DSUM, H_S_KEYS, H_S_MIN, H_S_OK, H_S_SEEN,
  H_S_SPREAD, H_S_SPREADF, K_AFFINITY, K_HARD_KEYS, K_SOFT_KEYS, MAX_SPREAD, P_SPREAD, SPREAD_WORDS,
} from './layout.js';
import { hdr, section } from './filters.js';

/** Fills DSUM[j][domain] (-1 where no eligible node) and MIN[j] for every constraint j of the pod. */
export function prepareSpread(t: number, pod: number): void {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const count = hdr(t, H_COUNT);
  const keys = hdr(t, H_S_KEYS);
  const dsum = hdr(t, H_S_DSUM);
  const s = section(pod, P_SPREAD);
  const constraints = ld(s);
  for (let j = 0; j < constraints; j++) {
    const c = s + 4 + j * SPREAD_WORDS * 4;
    const row = dsum + j * d * 4;
    const used = ld(hdr(t, H_KEY_DOMAINS) + ld(c + 4) * 4);
    for (let k = 0; k < used; k++) st(row + k * 4, -1);
    const domains = hdr(t, H_DOMAINS) + ld(c + 4) * n * 4;
    const counts = hdr(t, H_COUNTS) + ld(c) * n * 4;
    const hard = ld(c + 12);
    for (let i = 0; i < count; i++) {
      const k = ld(keys + i * 4);
      if ((k & K_AFFINITY) === 0 || (k & (hard !== 0 ? K_HARD_KEYS : K_SOFT_KEYS)) === 0) continue;
      const p = row + ld(domains + i * 4) * 4;
      const v = ld(p);
      st(p, (v < 0 ? 0 : v) + ld(counts + i * 4));
    }
    let min = 0x7fffffff;
    for (let k = 0; k < used; k++) {
      const v = ld(row + k * 4);
      if (v >= 0 && v < min) min = v;
    }
    st(hdr(t, H_S_MIN) + j * 4, min);
  }
}

/** Number of ScheduleAnyway constraints of the pod. */
export function softConstraints(pod: number): number {
  const s = section(pod, P_SPREAD);
  const constraints = ld(s);
  let soft = 0;
  for (let j = 0; j < constraints; j++) if (ld(s + 4 + j * SPREAD_WORDS * 4 + 12) === 0) soft++;
  return soft;
}

/**
 * Raw soft spread score of every feasible node into S_SPREAD (-1 for nodes missing a key, which
 * score 0), as podtopologyspread/scoring.go: round(Σ cnt × ln(domains + 2) + maxSkew − 1), where
 * domains counts the distinct domains among feasible nodes.
 */
export function scoreSpread(t: number, pod: number): void {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const keys = hdr(t, H_S_KEYS);
  const out = hdr(t, H_S_SPREAD);
  const s = section(pod, P_SPREAD);
  const constraints = ld(s);
  for (let i = 0; i < count; i++) st(out + i * 4, (ld(keys + i * 4) & K_SOFT_KEYS) === 0 ? -1 : 0);
  // Domain sizes among feasible nodes that carry every soft key: SIZE[j] follows MIN[MAX_SPREAD].
  const sizes = hdr(t, H_S_MIN) + MAX_SPREAD * 4;
  for (let j = 0; j < constraints; j++) {
    const c = s + 4 + j * SPREAD_WORDS * 4;
    st(sizes + j * 4, 0);
    if (ld(c + 12) !== 0) continue;
    const seen = hdr(t, H_S_SEEN) + j * d * 4;
    const used = ld(hdr(t, H_KEY_DOMAINS) + ld(c + 4) * 4);
    for (let k = 0; k < used; k++) st(seen + k * 4, 0);
    const domains = hdr(t, H_DOMAINS) + ld(c + 4) * n * 4;
    let size = 0;
    for (let i = 0; i < count; i++) {
      if (ld(ok + i * 4) === 0 || ld(out + i * 4) < 0) continue;
      const p = seen + ld(domains + i * 4) * 4;
      if (ld(p) === 0) {
        st(p, 1);
        size++;
      }
    }
    st(sizes + j * 4, size);
  }
  // Accumulate per node in constraint order, in f64, exactly as the Go code adds scoreForCount terms.
  const acc = hdr(t, H_S_SPREADF);
  for (let i = 0; i < count; i++) stf(acc + i * 8, 0);
  for (let j = 0; j < constraints; j++) {
    const c = s + 4 + j * SPREAD_WORDS * 4;
    if (ld(c + 12) !== 0) continue;
    const domains = hdr(t, H_DOMAINS) + ld(c + 4) * n * 4;
    const row = hdr(t, H_S_DSUM) + j * d * 4;
    const weight = ldf(hdr(t, H_LOG) + ld(sizes + j * 4) * 8);
    const skew = ld(c + 8) - 1;
    for (let i = 0; i < count; i++) {
      if (ld(ok + i * 4) === 0 || ld(out + i * 4) < 0) continue;
      let cnt = ld(row + ld(domains + i * 4) * 4);
      if (cnt < 0) cnt = 0;
      stf(acc + i * 8, ldf(acc + i * 8) + (cnt * weight + skew));
    }
  }
  for (let i = 0; i < count; i++) {
    if (ld(ok + i * 4) === 0 || ld(out + i * 4) < 0) continue;
    st(out + i * 4, Math.floor(ldf(acc + i * 8) + 0.5));
  }
}

/** DoNotSchedule constraints as a pass: clears S_OK where matchNum + selfMatch - minMatch > maxSkew or the key is missing. */
export function spreadPass(t: number, pod: number): void {
  const n = hdr(t, H_CAP);
  const d = hdr(t, H_DOMAIN_CAP);
  const count = hdr(t, H_COUNT);
  const ok = hdr(t, H_S_OK);
  const s = section(pod, P_SPREAD);
  const constraints = ld(s);
  for (let j = 0; j < constraints; j++) {
    const c = s + 4 + j * SPREAD_WORDS * 4;
    if (ld(c + 12) === 0) continue;
    const domains = hdr(t, H_DOMAINS) + ld(c + 4) * n * 4;
    const row = hdr(t, H_S_DSUM) + j * d * 4;
    // A node may take the pod while its domain's count stays within min + maxSkew - selfMatch.
    const min = ld(hdr(t, H_S_MIN) + j * 4);
    // No eligible domain: k8s' minMatchNum stays MaxInt32 and no count exceeds the limit.
    const limit = min === 0x7fffffff ? 0x7fffffff : min + ld(c + 8) - ld(c + 16);
    for (let i = 0; i < count; i++) {
      if (ld(ok + i * 4) === 0) continue;
      const dom = ld(domains + i * 4);
      if (dom < 0) {
        st(ok + i * 4, 0);
        continue;
      }
      let match = ld(row + dom * 4);
      if (match < 0) match = 0;
      if (match > limit) st(ok + i * 4, 0);
    }
  }
}
