/** Builds a pod's Kubernetes-shaped status from its containers: phase, conditions, container statuses. */
import type { Condition, ContainerStatus, PodSpec, PodStatus } from '../../protocol/types.js';

type Phase = NonNullable<PodStatus['phase']>;

/** What the status needs to know of one container. */
export interface ContainerView {
  status: ContainerStatus;
  /** Will never run again. */
  finished: boolean;
}

/** An init container's view: a sidecar (restartPolicy: Always) counts differently. */
export interface InitView extends ContainerView {
  sidecar: boolean;
}

/** The pod as the phase rules see it. */
export interface PodView {
  /** prepare succeeded (driver, ports, volumes, pulls): the containers exist. */
  prepared: boolean;
  restartPolicy: NonNullable<PodSpec['restartPolicy']>;
  init: InitView[];
  app: ContainerView[];
}

/** The regular (non-sidecar) init containers are all done with exit 0. */
export function initialized(v: PodView): boolean {
  return v.prepared && v.init.every((c) => (c.sidecar ? c.status.started === true : c.status.state.terminated?.exitCode === 0));
}

/** Counts of a container list in kubelet's getPhase terms. */
function tally(views: ContainerView[]) {
  let running = 0, waiting = 0, stopped = 0, succeeded = 0;
  for (const { status: s } of views) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState?.terminated) stopped++; // waiting to restart: counted as stopped
    else waiting++;
  }
  return { running, waiting, stopped, succeeded };
}

/**
 * The pod phase, kubelet's getPhase (pkg/kubelet/kubelet_pods.go, with 1.29 sidecars): Failed when a
 * regular init container failed and restartPolicy is Never; Pending while a regular init container is still
 * to complete (unless an app container already ran) or any container waits for its first start; Running
 * while one runs; when all have stopped: Running under Always (they restart), Succeeded when all exited 0,
 * Failed under Never, Running (restarting) under OnFailure. Sidecars running count as running; a stopped
 * sidecar does not decide the phase.
 */
export function podPhase(v: PodView): Phase {
  if (!v.prepared) return 'Pending';
  let pendingInit = 0, failedInit = 0;
  for (const c of v.init) {
    if (c.sidecar) continue;
    const s = c.status;
    if (s.state.terminated) failedInit += s.state.terminated.exitCode !== 0 ? 1 : 0;
    else if (s.state.waiting && s.lastState?.terminated) failedInit += s.lastState.terminated.exitCode !== 0 ? 1 : 0;
    else pendingInit++;
  }
  const app = tally(v.app);
  const sidecars = tally(v.init.filter((c) => c.sidecar));
  if (failedInit > 0 && v.restartPolicy === 'Never') return 'Failed';
  // An app container that ran means initialization is behind the pod, even if a sidecar restarts now.
  const appStarted = v.app.some((c) => c.status.state.running || c.status.state.terminated || c.status.lastState?.terminated);
  if ((pendingInit > 0 && !appStarted) || app.waiting + sidecars.waiting > 0) return 'Pending';
  if (app.running + sidecars.running > 0) return 'Running';
  if (app.stopped === 0) return 'Pending';
  if (v.restartPolicy === 'Always') return 'Running'; // all restarting
  if (app.stopped === app.succeeded) return 'Succeeded';
  return v.restartPolicy === 'Never' ? 'Failed' : 'Running'; // OnFailure: restarting the failed ones
}

/** Keeps each condition's lastTransitionTime: it changes only when the status does. */
export class ConditionClock {
  private readonly seen = new Map<string, Condition>();

  /** The conditions with transition times carried over from the previous call. */
  stamp(now: string, entries: [type: string, ok: boolean, reason?: string][]): Condition[] {
    return entries.map(([type, ok, reason]) => {
      const status = ok ? 'True' : 'False';
      const prev = this.seen.get(type);
      const c: Condition = { type, status, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now, ...(reason && !ok ? { reason } : {}) };
      this.seen.set(type, c);
      return c;
    });
  }
}

/** The pod conditions: PodScheduled, Initialized, ContainersReady, Ready (sidecars' readiness counts, as in 1.29). */
export function podConditions(clock: ConditionClock, v: PodView, phase: Phase): Condition[] {
  const counted = [...v.init.filter((c) => c.sidecar), ...v.app];
  const allReady = v.prepared && v.app.length > 0 && counted.every((c) => c.status.ready);
  // A finished pod is not ready (Kubernetes reason PodCompleted).
  const reason = phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady';
  return clock.stamp(new Date().toISOString(), [
    ['PodScheduled', true],
    ['Initialized', initialized(v), 'ContainersNotInitialized'],
    ['ContainersReady', allReady, reason],
    ['Ready', allReady, reason],
  ]);
}
