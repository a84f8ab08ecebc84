// The reference kernel's exports: the same names and signatures as the wasm module's exports
// (assembly/index.ts). The host calls these through core-wasm/kernel.ts.
export { bindPod, placeBatch } from './place.js';
export { maglevBuild, maglevPick, maglevPickBatch } from './maglev.js';
export { swrrPick, swrrPickBatch } from './roundrobin.js';
export { lcPick, lcPickBatch } from './leastconn.js';
export { p2cPick, p2cPickBatch } from './p2c.js';

/** First byte the host may use for the table (the wasm twin returns its __heap_base). Called once per layout. */
export function heapBase(): number {
  return 1024;
}
