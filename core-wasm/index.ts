/**
 * core-wasm: the scheduling engine and the endpoint load balancers, as WebAssembly (impl 'wasm')
 * with a plain-TS twin (impl 'reference') that gives identical results.
 */
import { HostEngine } from './engine.js';
import { loadKernel } from './kernel.js';
import type { Engine, EngineOptions } from './types.js';

export type * from './types.js';
export { DEFAULT_WEIGHTS } from './engine.js';

/** Creates a scheduling engine; async because the wasm module is compiled and instantiated (once per process, then per engine). */
export async function createEngine(opts: EngineOptions): Promise<Engine> {
  return new HostEngine(await loadKernel(opts.impl), opts);
}
