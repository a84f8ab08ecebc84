// The reference kernel's exports: the same names and signatures as the wasm module's exports
// (assembly/index.ts). The host calls these through core-wasm/kernel.ts.
export { bindPod, placeBatch } from './place.js';

/** First byte the host may use for the table (the wasm twin returns its __heap_base). Called once per layout. */
export function heapBase(): number {
  return 1024;
}
