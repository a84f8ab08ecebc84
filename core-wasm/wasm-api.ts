// The few WebAssembly JS-API members core-wasm uses, typed locally: the project's tsconfig has
// no DOM lib, and a global declaration here could clash with other folders' declarations.

/** A linear memory (WebAssembly.Memory). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** A compiled module (WebAssembly.Module). */
export type WasmModule = object;

interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  instantiate(module: WasmModule, imports: object): Promise<{ exports: Record<string, unknown> }>;
  Memory: new (desc: { initial: number; maximum?: number }) => WasmMemory;
}

/** The host's WebAssembly object (Node 18+). */
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
