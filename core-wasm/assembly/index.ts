// The wasm kernel's exports. No managed objects cross the boundary: every argument is an i32
// (a byte address in this module's memory, a count or a slot), laid out by layout.ts and written
// by the host (core-wasm/table.ts, encode.ts). Call rates are noted per export.

/** Called once per layout (engine start and each relayout): first byte the host may use. */
export function heapBase(): i32 {
  return (<i32>__heap_base + 15) & ~15;
}

/** placeBatch: called once per Engine.schedule() call (one batch). bindPod: once per bind/unbind from the master. */
export { bindPod, placeBatch } from './place';

/** Maglev: maglevBuild once per endpoint change; maglevPick once per new connection; maglevPickBatch once per batch. */
export { maglevBuild, maglevPick, maglevPickBatch } from './maglev';
/** Smooth weighted round robin: swrrPick once per new connection; swrrPickBatch once per batch. */
export { swrrPick, swrrPickBatch } from './roundrobin';
/** Weighted least connections: lcPick once per new connection (acquires); lcPickBatch once per batch. */
export { lcPick, lcPickBatch } from './leastconn';
/** Power of two choices: p2cPick once per new connection (acquires); p2cPickBatch once per batch. */
export { p2cPick, p2cPickBatch } from './p2c';
