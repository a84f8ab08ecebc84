/**
 * How many helper threads V8 gets in the master's process (Node's `--v8-pool-size`; docs/operations.md "CPU").
 *
 * Node starts 4 whatever the machine. They run the garbage collector's concurrent marking and its parallel
 * scavenges beside the event loop; the master's work is on that one thread, and on a machine with two CPUs four
 * helpers took them from it: in a 10,000-pod rollout the main thread spent 14–15 % of the time runnable and waiting
 * for a CPU, and a `get` waited with it (p99 21.6 and 29.2 ms). With one helper it waited 7–10 % and the get's p99 was
 * 15.7–16.6 ms at the same pods per second (docs/scale.md, session 34). The rule leaves one CPU to the main thread:
 * CPUs − 1 helpers, at least one, and nothing to say from Node's 4 on (5 CPUs and more).
 *
 * The flag must be on node's command line (or in NODE_OPTIONS) when the process starts: the pool is made before any
 * JavaScript runs. `skiff up` and the scale bench start the master with it; `skiff master` started without it says so
 * once (master/main.ts). Shared by the master and the CLI, which never import each other.
 */

/** Node's own pool size. */
export const nodeDefaultV8Pool = 4;

/** The pool for a machine of `cpus` CPUs, or undefined when Node's default is the rule's answer. */
export function v8PoolSize(cpus: number): number | undefined {
  const n = Math.max(1, Math.floor(cpus) - 1);
  return n >= nodeDefaultV8Pool ? undefined : n;
}

/** True when node was given a pool size on its command line or in NODE_OPTIONS. */
export function hasV8PoolFlag(execArgv: readonly string[], nodeOptions = ''): boolean {
  const given = (a: string) => /^--v8[-_]pool[-_]size(=|$)/.test(a);
  return execArgv.some(given) || nodeOptions.split(/\s+/).some(given);
}

/** The flag to start the master's node with on a machine of `cpus` CPUs, or undefined (given already, or Node's default). */
export function v8PoolFlag(cpus: number, execArgv: readonly string[] = [], nodeOptions = ''): string | undefined {
  if (hasV8PoolFlag(execArgv, nodeOptions)) return undefined;
  const n = v8PoolSize(cpus);
  return n === undefined ? undefined : `--v8-pool-size=${n}`;
}
