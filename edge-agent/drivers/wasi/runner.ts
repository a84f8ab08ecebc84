/**
 * The program every WASI attempt runs, in a node child process of its own: `node runner.mjs CONFIG.json`.
 * It compiles the module, gives it WASI preview1 (`node:wasi`: args, env, preopened directories, stdout and
 * stderr — which the wrapper points at the container's log file), runs `_start` and exits with the
 * module's `proc_exit` code. A trap (unreachable, out-of-bounds, stack overflow) prints `wasm trap: ...`
 * and exits 134, as wasmtime does (128 + SIGABRT); one with the module's memory at its limit also writes the
 * OOM word file (`<container>.oom`) and ends the way the kernel ends an OOM-killed process (SIGKILL, 137).
 *
 * `runWasi` is self-contained — no imports, its node: modules are passed in — because the driver writes its
 * source text (`runWasi.toString()`) to DATA/wasi/runner-<hash>.mjs, after two static imports: that works the
 * same from the compiled dist/, from a one-file agent bundle and from the TypeScript sources under test
 * (where a dynamic import inside the function would be rewritten by the test runner), with no file to ship
 * beside the agent.
 */

/** What the driver hands the runner (DATA/pods/<uid>/<container>.wasi.json). */
export interface RunnerConfig {
  /** The module file (memory-capped when the container has a memory limit). */
  module: string;
  /** argv[0] the module sees (the image's file name) and the rest (command + args). */
  argv0: string;
  args: string[];
  /** Guest path → host directory: the container's volume mounts. */
  preopens: Record<string, string>;
  /** Memories the module imports: the runner makes them, capped. */
  memoryImports: { module: string; name: string; min: number; max?: number }[];
  /** The memory limit in 64 KiB pages, when there is one. */
  maxPages?: number;
  /** Written when the module traps with its memory at the limit. */
  oomFile: string;
}

/** The WebAssembly JS API the runner uses, typed here: the project has no DOM lib (core-wasm/wasm-api.ts does the same). */
interface Memory {
  readonly buffer: ArrayBuffer;
}
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: Record<string, unknown> }>;
  Memory: new (desc: { initial: number; maximum?: number }) => Memory;
  RuntimeError: new (...args: unknown[]) => Error;
}

/** Runs the module the config names; never returns (exits with the module's code). `fs` and `WASI` come in as arguments: see the file comment. */
export async function runWasi(configFile: string, fs: typeof import('node:fs'), WASI: typeof import('node:wasi').WASI): Promise<never> {
  const WA = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  const cfg = JSON.parse(fs.readFileSync(configFile, 'utf8')) as RunnerConfig;
  const fail = (message: string, code: number): never => {
    process.stderr.write(`skiff-wasi: ${message}\n`);
    process.exit(code);
  };
  let module: object;
  try {
    module = await WA.compile(fs.readFileSync(cfg.module));
  } catch (err) {
    return fail(`${cfg.argv0} is not a valid WebAssembly module: ${(err as Error).message}`, 1);
  }
  const wasi = new WASI({ version: 'preview1', args: [cfg.argv0, ...cfg.args], env: process.env, preopens: cfg.preopens, returnOnExit: true } as ConstructorParameters<typeof WASI>[0]);
  const imports: Record<string, Record<string, unknown>> = { wasi_snapshot_preview1: wasi.wasiImport as Record<string, unknown> };
  const memories: Memory[] = [];
  for (const m of cfg.memoryImports) {
    const memory = new WA.Memory({ initial: m.min, ...(m.max !== undefined ? { maximum: m.max } : {}) });
    (imports[m.module] ??= {})[m.name] = memory;
    memories.push(memory);
  }
  let instance: { exports: Record<string, unknown> };
  try {
    instance = await WA.instantiate(module, imports);
  } catch (err) {
    return fail(`cannot instantiate ${cfg.argv0} as a WASI preview1 command: ${(err as Error).message}`, 1);
  }
  for (const v of Object.values(instance.exports)) if (v instanceof WA.Memory) memories.push(v);
  try {
    process.exit(wasi.start(instance as Parameters<typeof wasi.start>[0]) ?? 0);
  } catch (err) {
    if (!(err instanceof WA.RuntimeError)) return fail((err as Error).message, 1);
    const pages = Math.max(0, ...memories.map((m) => m.buffer.byteLength / 65536));
    // Within 1/8 of the limit, a trap is taken for the failed memory.grow an allocator turns into `unreachable`.
    if (cfg.maxPages !== undefined && pages >= cfg.maxPages * 0.875) {
      process.stderr.write(`skiff-wasi: out of memory: the module trapped (${err.message}) using ${pages * 64} KiB of its ${cfg.maxPages * 64} KiB limit (resources.limits.memory)\n`);
      fs.writeFileSync(cfg.oomFile, `${pages}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    return fail(`wasm trap: ${err.message}`, 134);
  }
}

/** The runner as a program: the function's own source and the call (see the file comment). */
export function runnerSource(): string {
  return [
    '// Written by skiff-agent (edge-agent/drivers/wasi/runner.ts): runs one WASI module.',
    "import fs from 'node:fs';",
    "import { WASI } from 'node:wasi';",
    `const runWasi = ${runWasi.toString()};`,
    'await runWasi(process.argv[2], fs, WASI);',
    '',
  ].join('\n');
}
