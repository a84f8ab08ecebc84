// Linear-memory access for the kernel: plain load/store at byte addresses laid out in layout.ts.
// The reference/ twin of this file reads the same addresses through typed views.

/** Loads the i32 at byte address p. */
// @ts-ignore: decorator
@inline export function ld(p: i32): i32 {
  return load<i32>(p);
}

/** Stores the i32 v at byte address p. */
// @ts-ignore: decorator
@inline export function st(p: i32, v: i32): void {
  store<i32>(p, v);
}

/** Loads the f64 at byte address p (8-aligned). */
// @ts-ignore: decorator
@inline export function ldf(p: i32): f64 {
  return load<f64>(p);
}

/** Stores the f64 v at byte address p (8-aligned). */
// @ts-ignore: decorator
@inline export function stf(p: i32, v: f64): void {
  store<f64>(p, v);
}

/** Number of set bits in a 32-bit word. */
// @ts-ignore: decorator
@inline export function popcnt32(x: i32): i32 {
  return popcnt<i32>(x);
}
