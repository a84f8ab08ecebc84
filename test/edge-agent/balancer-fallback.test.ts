/**
 * When the wasm load balancer cannot load on a board, the proxy runs the TS twin — and says so: the engine
 * carries the reason, the node condition WasmBalancer turns False with it, a warning is logged, and every
 * balancer the proxy makes is the twin's. (core-wasm is replaced here by one whose wasm load fails.)
 */
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../core-wasm/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../core-wasm/index.js')>();
  return {
    ...real,
    createBalancer: (opts: Parameters<typeof real.createBalancer>[0]) =>
      opts.impl === 'wasm' ? Promise.reject(new Error('CompileError: WebAssembly.Module(): out of memory')) : real.createBalancer(opts),
  };
});

const { loadBalancerEngine, makeBalancer } = await import('../../edge-agent/proxy/balancer.js');
const { balancerCondition } = await import('../../edge-agent/facts.js');
const { ServiceProxy } = await import('../../edge-agent/proxy/proxy.js');

describe('balancer engine fallback', () => {
  it('falls back to the reference, with the reason, a warning and a False WasmBalancer condition', async () => {
    const warnings: string[] = [];
    const log = { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) };
    const engine = await loadBalancerEngine('wasm', log);
    expect(engine).toEqual({ impl: 'reference', reason: 'the wasm load balancer failed to load: CompileError: WebAssembly.Module(): out of memory' });
    expect(warnings).toEqual(['the wasm load balancer failed to load: CompileError: WebAssembly.Module(): out of memory; the proxy runs the TypeScript reference balancers (same picks, slower)']);
    expect((await makeBalancer('maglev', engine)).impl).toBe('reference');
    expect(balancerCondition(engine, 't')).toMatchObject({ type: 'WasmBalancer', status: 'False', reason: 'ReferenceBalancers', message: expect.stringContaining('out of memory') });
    const proxy = new ServiceProxy({}, log);
    expect(await proxy.engine).toMatchObject({ impl: 'reference' });
    await proxy.close();
  });

  it('says so too when the configuration asks for the reference', async () => {
    expect(await loadBalancerEngine('reference', { debug() {}, info() {}, warn() {}, error() {} })).toEqual({ impl: 'reference', reason: 'proxy.balancerImpl is reference' });
  });
});
