// Weighted least connections (IPVS wlc): the endpoint with the fewest active connections per unit
// of weight, compared by cross-multiplication (a_i × w_j < a_j × w_i, exact in i64 / f64 for
// a < 2^31, w < 2^16); ties to the lowest index. A pick acquires a connection; the host releases it.
import { ld, st } from './memory';
import { L_COUNT, L_STATE, L_WEIGHTS } from './layout';

/** Is endpoint i less loaded than endpoint j (active/weight)? */
export function lessLoaded(lb: i32, i: i32, j: i32): bool {
  const weights = ld(lb + L_WEIGHTS * 4);
  const active = ld(lb + L_STATE * 4);
  return <i64>ld(active + i * 4) * <i64>ld(weights + j * 4) < <i64>ld(active + j * 4) * <i64>ld(weights + i * 4);
}

/** The least loaded endpoint, its active count incremented; -1 when none has weight. Called once per new connection. */
export function lcPick(lb: i32): i32 {
  const n = ld(lb + L_COUNT * 4);
  const weights = ld(lb + L_WEIGHTS * 4);
  let best = -1;
  for (let i = 0; i < n; i++) {
    if (ld(weights + i * 4) == 0) continue;
    if (best < 0 || lessLoaded(lb, i, best)) best = i;
  }
  if (best >= 0) {
    const p = ld(lb + L_STATE * 4) + best * 4;
    st(p, ld(p) + 1);
  }
  return best;
}

/** `count` picks (each acquiring) written to `out`. Called once per batch. */
export function lcPickBatch(lb: i32, count: i32, out: i32): void {
  for (let k = 0; k < count; k++) st(out + k * 4, lcPick(lb));
}
