/**
 * The wasi driver (`runtimeClassName: wasi`): a container is a WASI preview1 module, run by `node:wasi` in a
 * node child process of its own under the same exit-recording wrapper as a process container (wrapped.ts).
 *
 * Why a child process and not a worker thread in the agent: a pod outlives its agent (docs/lifecycle.md) —
 * a worker dies with the agent, a detached process is adopted by the next agent run like any process pod
 * (same records, same reap); the kernel puts it under the container's cgroup (memory, cpu, pids) and SIGKILLs
 * it at the memory limit without touching the agent; a module that traps or spins cannot stall the agent's
 * event loop. The price: one node process per WASI container (measured in docs/workloads.md). There is no
 * `exec`: a WASI module has no shell or processes to run a command in (the RPC says so).
 *
 * Memory: the module's own memory is capped at `resources.limits.memory` (its maximum rewritten,
 * sections.ts), and the process's cgroup gets that plus the runtime's overhead — what Kubernetes calls a
 * RuntimeClass's pod overhead — so the limit applies to what the module can use, not to node's own heap.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ContainerCgroup, ContainerLimits } from '../../cgroups/types.js';
import type { Driver, LaunchSpec } from '../types.js';
import { oomFile, wrappedDriver } from '../wrapped.js';
import { ModuleStore } from './modules.js';
import { runnerSource, type RunnerConfig } from './runner.js';
import { memoriesOf } from './sections.js';

/** What the runtime itself takes on top of the module's memory (node, V8, the WASI layer): 64 MiB, measured ≈ 40 MiB RSS on x86 and arm64. */
export const WASI_RUNTIME_OVERHEAD_BYTES = 64 << 20;
/** The runner's JS heap cap: it holds a config and the module bytes, nothing else; 64 MiB. */
const RUNNER_HEAP_MB = 64;

/** What the wasi driver is made with. */
export interface WasiDriverOptions {
  /** The agent's data dir: modules are cached in DATA/wasi/modules, the runner written to DATA/wasi. */
  dataDir: string;
  /** The node that runs the modules: default the agent's own (process.execPath); a command line for an agent under an emulator. */
  node?: string[];
}

/** Writes the runner program once (content-addressed: an upgraded agent writes its own next to the old). */
function writeRunner(dir: string): string {
  const source = runnerSource();
  const file = path.join(dir, `runner-${createHash('sha256').update(source).digest('hex').slice(0, 12)}.mjs`);
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, source, { mode: 0o644 });
    fs.renameSync(tmp, file);
  }
  return file;
}

/** The cgroup gets the module's limit plus the runtime's overhead; the module gets the limit itself. */
function withOverhead(cgroup: ContainerCgroup | undefined): ContainerCgroup | undefined {
  if (!cgroup) return undefined;
  const raise = (l: ContainerLimits): ContainerLimits => (l.memoryBytes === undefined ? l : { ...l, memoryBytes: l.memoryBytes + WASI_RUNTIME_OVERHEAD_BYTES });
  return { ...cgroup, prepare: (l) => cgroup.prepare(raise(l)) };
}

/** The wasi driver. */
export function wasiDriver(o: WasiDriverOptions): Driver {
  const store = new ModuleStore(path.join(o.dataDir, 'wasi', 'modules'));
  const node = o.node ?? [process.execPath];
  let runner: string | undefined;

  /** The runner's config for one launch, written beside the container's record. */
  function configure(spec: LaunchSpec): string | { error: string } {
    if (!spec.imageRef) return { error: `module ${JSON.stringify(spec.image)} is not on this node (not pulled)` };
    const maxPages = spec.limits?.memoryBytes !== undefined ? Math.max(1, Math.floor(spec.limits.memoryBytes / 65536)) : undefined;
    let module = spec.imageRef;
    let imports: RunnerConfig['memoryImports'];
    try {
      if (maxPages !== undefined) module = store.capped(module, maxPages);
      imports = memoriesOf(fs.readFileSync(module)).imported.map((m) => ({ ...m, ...(maxPages !== undefined ? { max: Math.min(m.max ?? maxPages, maxPages) } : {}) }));
    } catch (err) {
      return { error: `module ${spec.image}: ${(err as Error).message}` };
    }
    const cfg: RunnerConfig = {
      module,
      argv0: path.basename(spec.image ?? module).replace(/[#?].*$/, ''),
      args: spec.argv,
      preopens: Object.fromEntries((spec.mounts ?? []).map((m) => [m.mountPath, m.hostPath])),
      memoryImports: imports,
      ...(maxPages !== undefined ? { maxPages } : {}),
      oomFile: oomFile(spec.stateDir, spec.containerName),
    };
    const file = path.join(spec.stateDir, `${spec.containerName}.wasi.json`);
    fs.writeFileSync(file, JSON.stringify(cfg));
    return file;
  }

  const base = wrappedDriver({
    name: 'wasi',
    command(spec) {
      const config = configure(spec);
      if (typeof config !== 'string') return config;
      runner ??= writeRunner(path.join(o.dataDir, 'wasi'));
      return { argv: [...node, '--no-warnings', `--max-old-space-size=${RUNNER_HEAP_MB}`, runner, config] };
    },
  });
  return {
    ...base,
    pull: (image, ctx) => store.pull(image, ctx),
    start: (spec) => base.start({ ...spec, cgroup: withOverhead(spec.cgroup) }),
  };
}
