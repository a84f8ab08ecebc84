// The reference kernel's stand-in for wasm linear memory: the same byte addresses, read and
// written through typed views of a WebAssembly.Memory buffer (no wasm code runs here). The
// assembly/ twin of this file compiles these helpers to plain `load`/`store` instructions.

/** Views of the memory the kernel works on; set by `useBuffer` before each kernel call. */
export const mem = { buffer: new ArrayBuffer(8), i32: new Int32Array(2), f64: new Float64Array(1) };

/** Points the kernel at a (possibly grown) buffer. Called by the host before every kernel call. */
export function useBuffer(buffer: ArrayBuffer): void {
  if (buffer === mem.buffer) return;
  mem.buffer = buffer;
  mem.i32 = new Int32Array(buffer);
  mem.f64 = new Float64Array(buffer);
}

/** Loads the i32 at byte address p. */
export function ld(p: number): number {
  return mem.i32[p >> 2];
}

/** Stores the i32 v at byte address p. */
export function st(p: number, v: number): void {
  mem.i32[p >> 2] = v;
}

/** Loads the f64 at byte address p (8-aligned). */
export function ldf(p: number): number {
  return mem.f64[p >> 3];
}

/** Stores the f64 v at byte address p (8-aligned). */
export function stf(p: number, v: number): void {
  mem.f64[p >> 3] = v;
}

/** Number of set bits in a 32-bit word (wasm i32.popcnt). */
export function popcnt32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
