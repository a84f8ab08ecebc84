/**
 * The process driver: a container is a host process (command + args, env, workingDir) that outlives the agent,
 * under the exit-recording wrapper (wrapped.ts, wrapper.ts) and, where the node enforces limits, inside its
 * cgroup. One `sh` per container (dash: 1.7 MB RSS, ~0.1 MB of it its own), no node process.
 * docs/lifecycle.md has the whole story; docs/limits.md the limits.
 */
import { findExecutable } from './executable.js';
import { processExec } from './process-exec.js';
import type { Driver } from './types.js';
import { wrappedDriver } from './wrapped.js';

/** The process driver. */
export const processDriver: Driver = wrappedDriver({
  name: 'process',
  command(spec) {
    if (!spec.argv.length) return { error: 'no command: a process container needs command (and args)' };
    const exe = findExecutable(spec.argv[0], spec.env, spec.workingDir);
    return 'error' in exe ? exe : { argv: [exe.path, ...spec.argv.slice(1)] };
  },
  exec: processExec,
});

export { findExecutable };
