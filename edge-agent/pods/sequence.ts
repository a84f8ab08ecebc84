/**
 * The order a pod's containers run in (Kubernetes' init containers and 1.29 native sidecars):
 *   1. init containers one after another, in spec order. A regular one runs to completion: a failure is
 *      retried with CrashLoopBackOff (restartPolicy Always or OnFailure) or fails the pod (Never). A sidecar
 *      (an init container with restartPolicy: Always) only has to start — running, and past its startup probe
 *      if it has one — and then keeps running beside the rest, restarted on its own whenever it ends;
 *   2. the app containers, together;
 *   3. once every app container has finished for good (restartPolicy Never or OnFailure), the sidecars are
 *      stopped, last started first, so the pod can complete.
 * After an agent restart the order is not replayed: an app container with a record means initialization was
 * behind the pod, and every container is adopted where it is.
 */
import type { Adoption, ExitInfo } from '../drivers/types.js';
import type { ContainerRunner } from './container.js';
import type { Launch } from './plan.js';

/** What the sequence drives: the pod runner's containers and its change notifications. */
export interface Sequenced {
  readonly initContainers: ContainerRunner[];
  readonly containers: ContainerRunner[];
  readonly probers: ReadonlyMap<string, { started(): boolean }>;
  readonly waiters: Set<() => void>;
  readonly halted: boolean;
  report(): void;
}

/** Resolves true once `check` holds (re-checked on every change of the pod), false once the pod halts. */
function until(pod: Sequenced, check: () => boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const test = () => {
      if (pod.halted) resolve(false);
      else if (check()) resolve(true);
      else return;
      pod.waiters.delete(test);
    };
    pod.waiters.add(test);
    test();
  });
}

/** What a regular init container that completed in an earlier agent run, with no record left, reports. */
const completedLongAgo = (restartCount: number): Adoption => ({ kind: 'exited', restartCount, startedAt: new Date(0), exit: { exitCode: 0, reason: 'Completed', finishedAt: new Date(0) } });

/** Runs the pod's containers in order (see the file comment). `adopted` and `launches` are by launch index. */
export async function runSequence(pod: Sequenced, launches: Launch[], adopted: Adoption[], graceMs: number): Promise<void> {
  const initLaunches = launches.filter((l) => l.role !== 'app');
  const initAdopted = adopted.slice(0, initLaunches.length);
  const appAdopted = adopted.slice(initLaunches.length);
  const initialized = appAdopted.some((a) => a.kind !== 'none');
  for (const [i, l] of initLaunches.entries()) {
    if (pod.halted) return;
    const runner = pod.initContainers[i];
    if (l.role === 'sidecar') {
      runner.start(initAdopted[i]);
      const started = () => runner.state.running !== undefined && (pod.probers.get(l.name)?.started() ?? true);
      if (!initialized && !(await until(pod, started))) return;
      continue;
    }
    if (initialized) {
      runner.start(initAdopted[i].kind === 'none' ? completedLongAgo(runner.restartCount) : initAdopted[i]);
      continue;
    }
    runner.start(initAdopted[i]);
    const exit = await runner.done;
    if (!exit) return; // stopped meanwhile
    if (exit.exitCode !== 0) return stopSidecars(pod, graceMs); // restartPolicy Never: the pod has failed
  }
  if (pod.halted) return;
  pod.containers.forEach((c, i) => c.start(appAdopted[i]));
  pod.report();
  const exits: (ExitInfo | undefined)[] = await Promise.all(pod.containers.map((c) => c.done));
  if (exits.every((e) => e !== undefined)) await stopSidecars(pod, graceMs);
}

/** Stops the sidecars, last started first. */
async function stopSidecars(pod: Sequenced, graceMs: number): Promise<void> {
  for (const c of [...pod.initContainers].reverse()) await c.stop(graceMs);
  pod.report();
}
