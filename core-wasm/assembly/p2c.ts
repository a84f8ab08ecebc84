// Power of two choices (Mitzenmacher 2001): sample two distinct weighted endpoints with a seeded
// xorshift32 and take the less loaded (active/weight, ties to the first sample). Endpoints with
// weight 0 are never sampled; a pick acquires a connection, the host releases it.
import { ld, st } from './memory';
import { L_COUNT, L_RNG, L_STATE, L_WEIGHTS } from './layout';
import { lessLoaded } from './leastconn';

/** Next xorshift32 value of the balancer's generator (Marsaglia 2003: 13, 17, 5). */
export function nextRandom(lb: i32): i32 {
  let x = ld(lb + L_RNG * 4);
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  st(lb + L_RNG * 4, x);
  return x;
}

/** The k-th endpoint with weight > 0 (k < number of such endpoints). */
export function weightedAt(lb: i32, k: i32): i32 {
  const n = ld(lb + L_COUNT * 4);
  const weights = ld(lb + L_WEIGHTS * 4);
  for (let i = 0; i < n; i++) {
    if (ld(weights + i * 4) == 0) continue;
    if (k == 0) return i;
    k--;
  }
  return -1;
}

/** Two samples, the less loaded wins and is acquired; -1 when none has weight. Called once per new connection. */
export function p2cPick(lb: i32): i32 {
  const n = ld(lb + L_COUNT * 4);
  const weights = ld(lb + L_WEIGHTS * 4);
  let live = 0;
  for (let i = 0; i < n; i++) if (ld(weights + i * 4) > 0) live++;
  if (live == 0) return -1;
  let pick = weightedAt(lb, 0);
  if (live > 1) {
    const a = <i32>(<u32>nextRandom(lb) % <u32>live);
    let b = <i32>(<u32>nextRandom(lb) % <u32>(live - 1));
    if (b >= a) b++;
    const ia = weightedAt(lb, a);
    const ib = weightedAt(lb, b);
    pick = lessLoaded(lb, ib, ia) ? ib : ia;
  }
  const p = ld(lb + L_STATE * 4) + pick * 4;
  st(p, ld(p) + 1);
  return pick;
}

/** `count` picks (each acquiring) written to `out`. Called once per batch. */
export function p2cPickBatch(lb: i32, count: i32, out: i32): void {
  for (let k = 0; k < count; k++) st(out + k * 4, p2cPick(lb));
}
