// Both kernels export the same API, from files with the same names; the layout is one text.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kernelFunctions, wasmModule } from '../../core-wasm/kernel.js';
import * as reference from '../../core-wasm/reference/index.js';

const dir = (d: string) => new URL(`../../core-wasm/${d}/`, import.meta.url);

describe('core-wasm twins', () => {
  it('wasm and reference export the same functions', async () => {
    // The WebAssembly global is not in lib ES2022's types; Node has it.
    const { WebAssembly: wa } = globalThis as unknown as { WebAssembly: { Module: { exports(m: unknown): { kind: string; name: string }[] } } };
    const wasm = wa.Module.exports(await wasmModule())
      .filter((e) => e.kind === 'function')
      .map((e) => e.name)
      .sort();
    expect(wasm).toEqual(Object.keys(reference).sort());
    expect(wasm).toEqual([...kernelFunctions].sort());
  });

  it('assembly/ and reference/ have the same files and exported function names', () => {
    const files = (d: string) => readdirSync(dir(d)).filter((f) => f.endsWith('.ts')).sort();
    expect(files('assembly')).toEqual(files('reference'));
    const names = (d: string, f: string) =>
      [...readFileSync(new URL(f, dir(d)), 'utf8').matchAll(/export (?:function|const) (\w+)/g)].map((m) => m[1]).sort();
    for (const f of files('assembly')) {
      // reference/memory.ts also holds the views that stand in for linear memory (mem, useBuffer).
      if (f === 'memory.ts') expect(names('reference', f)).toEqual(expect.arrayContaining(names('assembly', f)));
      else expect(names('assembly', f), f).toEqual(names('reference', f));
    }
  });

  it('the layout file is the same text in both', () => {
    expect(readFileSync(new URL('layout.ts', dir('assembly')), 'utf8')).toBe(readFileSync(new URL('layout.ts', dir('reference')), 'utf8'));
  });
});
