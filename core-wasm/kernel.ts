// Loads a kernel: the compiled AssemblyScript module (impl 'wasm') or its plain-TS twin
// (impl 'reference'), behind one interface whose functions read and write one linear memory.
import { readFile } from 'node:fs/promises';
import * as reference from './reference/index.js';
import { useBuffer } from './reference/memory.js';
import { embeddedWasm } from './embedded.js';
import { wasm, type WasmMemory, type WasmModule } from './wasm-api.js';

/** The functions both kernels export (the wasm module's exports; call rates noted in assembly/index.ts). */
export interface KernelExports {
  heapBase(): number;
  placeBatch(table: number, pods: number, count: number, out: number): number;
  bindPod(table: number, pod: number, node: number, sign: number): void;
  maglevBuild(lb: number): number;
  maglevPick(lb: number, hash: number): number;
  maglevPickBatch(lb: number, hashes: number, count: number, out: number): void;
  swrrPick(lb: number): number;
  swrrPickBatch(lb: number, count: number, out: number): void;
  lcPick(lb: number): number;
  lcPickBatch(lb: number, count: number, out: number): void;
  p2cPick(lb: number): number;
  p2cPickBatch(lb: number, count: number, out: number): void;
}

/** A loaded kernel and its memory. */
export interface Kernel extends KernelExports {
  readonly impl: 'wasm' | 'reference';
  readonly memory: WasmMemory;
}

/** The names of the kernel functions, in one list (the export-parity test checks both twins against it). */
export const kernelFunctions = [
  'heapBase', 'placeBatch', 'bindPod', 'maglevBuild', 'maglevPick', 'maglevPickBatch', 'swrrPick',
  'swrrPickBatch', 'lcPick', 'lcPickBatch', 'p2cPick', 'p2cPickBatch',
] as const satisfies readonly (keyof KernelExports)[];

let compiled: Promise<WasmModule> | undefined;

/** The compiled engine module, compiled once per process. */
export function wasmModule(): Promise<WasmModule> {
  compiled ??= (embeddedWasm ? Promise.resolve(embeddedWasm) : readFile(new URL('./build/engine.wasm', import.meta.url))).then(
    (bytes) => wasm.compile(bytes),
    (err: Error) => {
      compiled = undefined;
      throw new Error(`core-wasm: cannot read build/engine.wasm (run npm run build:wasm): ${err.message}`);
    },
  );
  return compiled;
}

/** A fresh kernel instance with its own memory. */
export async function loadKernel(impl: 'wasm' | 'reference'): Promise<Kernel> {
  if (impl === 'reference') return referenceKernel();
  if (impl !== 'wasm') throw new Error(`core-wasm: impl: must be 'wasm' or 'reference', got ${JSON.stringify(impl)}`);
  const instance = await wasm.instantiate(await wasmModule(), {
    env: {
      abort(): never {
        throw new Error('core-wasm: wasm abort');
      },
    },
  });
  const exports = instance.exports as unknown as KernelExports & { memory: WasmMemory };
  const kernel: Record<string, unknown> = { impl: 'wasm', memory: exports.memory };
  for (const name of kernelFunctions) kernel[name] = exports[name];
  return kernel as unknown as Kernel;
}

/** The TS twin bound to a WasmMemory of its own (used only as a growable buffer). */
function referenceKernel(): Kernel {
  const memory = new wasm.Memory({ initial: 1 });
  const kernel: Record<string, unknown> = { impl: 'reference', memory };
  const fns = reference as unknown as Record<string, (...args: number[]) => number>;
  for (const name of kernelFunctions) {
    const fn = fns[name];
    if (typeof fn !== 'function') throw new Error(`core-wasm: reference kernel lacks ${name}`);
    kernel[name] = (...args: number[]) => {
      useBuffer(memory.buffer);
      return fn(...args);
    };
  }
  return kernel as unknown as Kernel;
}
