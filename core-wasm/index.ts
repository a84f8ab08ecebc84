/**
 * core-wasm: the scheduling engine and the endpoint load balancers, as WebAssembly (impl 'wasm')
 * with a plain-TS twin (impl 'reference') that gives identical results.
 */
import { checkBalancerOptions, KernelBalancer } from './balancers.js';
import { HostEngine } from './engine.js';
import { loadKernel } from './kernel.js';
import type { Balancer, BalancerOptions, Engine, EngineOptions } from './types.js';

export type * from './types.js';
export { DEFAULT_RESOURCE_WEIGHTS, DEFAULT_WEIGHTS } from './scoring.js';
export { DEFAULT_MAGLEV_SIZE, hash32 } from './balancers.js';
export { tolerated, tolerates } from './toleration.js';

/** Creates a scheduling engine; async because the wasm module is compiled and instantiated (once per process, then per engine). */
export async function createEngine(opts: EngineOptions): Promise<Engine> {
  return new HostEngine(await loadKernel(opts.impl), opts);
}

/**
 * Creates an endpoint load balancer (Maglev, smooth weighted round robin, weighted least
 * connections, power of two choices), each with its own small kernel instance.
 */
export async function createBalancer(opts: BalancerOptions): Promise<Balancer> {
  checkBalancerOptions(opts);
  return new KernelBalancer(await loadKernel(opts.impl), opts);
}
