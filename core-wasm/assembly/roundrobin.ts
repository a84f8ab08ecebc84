// Smooth weighted round robin (nginx ngx_http_upstream_get_peer): every pick adds each endpoint's
// weight to its current value, takes the largest (ties to the lowest index) and subtracts the
// total from it. Weights 5,1,1 give a a b a c a a: spread out, exact proportions per cycle.
import { ld, st } from './memory';
import { L_COUNT, L_STATE, L_TOTAL, L_WEIGHTS } from './layout';

/** The next endpoint, or -1 when no endpoint has weight. Called once per new connection. */
export function swrrPick(lb: i32): i32 {
  const n = ld(lb + L_COUNT * 4);
  const weights = ld(lb + L_WEIGHTS * 4);
  const current = ld(lb + L_STATE * 4);
  const total = ld(lb + L_TOTAL * 4);
  if (total == 0) return -1;
  let best = -1;
  let bestValue = 0;
  for (let i = 0; i < n; i++) {
    const w = ld(weights + i * 4);
    if (w == 0) continue;
    const v = ld(current + i * 4) + w;
    st(current + i * 4, v);
    if (best < 0 || v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  st(current + best * 4, bestValue - total);
  return best;
}

/** `count` picks written to `out`. Called once per batch. */
export function swrrPickBatch(lb: i32, count: i32, out: i32): void {
  for (let k = 0; k < count; k++) st(out + k * 4, swrrPick(lb));
}
