/** Builds a pod's Kubernetes-shaped status from its containers: phase, conditions, containerStatuses. */
import type { Condition, ContainerStatus, PodStatus } from '../../protocol/types.js';

type Phase = NonNullable<PodStatus['phase']>;

/** What the status needs to know of one container. */
export interface ContainerView {
  status: ContainerStatus;
  /** Will never run again. */
  finished: boolean;
}

/**
 * The pod phase (Kubernetes pod-lifecycle): Pending until every container has been created (one still waiting
 * for its first run — ContainerCreating, ErrImagePull, ImagePullBackOff — keeps it Pending); Succeeded when all
 * have finished with exit 0; Failed when all have finished and one failed; Running otherwise.
 */
export function podPhase(views: ContainerView[], prepared: boolean): Phase {
  const neverRan = (v: ContainerView) => v.status.state.waiting !== undefined && v.status.restartCount === 0 && !v.status.lastState;
  if (!prepared || views.some((v) => v.status.state.waiting?.reason === 'ContainerCreating' || neverRan(v))) return 'Pending';
  if (views.length > 0 && views.every((v) => v.finished)) return views.every((v) => v.status.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  return 'Running';
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

/** The pod conditions: PodScheduled, Initialized, ContainersReady, Ready. */
export function podConditions(clock: ConditionClock, views: ContainerView[], prepared: boolean, phase: Phase): Condition[] {
  const allReady = prepared && views.length > 0 && views.every((v) => v.status.ready);
  // A finished pod is not ready (Kubernetes reason PodCompleted).
  const reason = phase === 'Succeeded' || phase === 'Failed' ? 'PodCompleted' : 'ContainersNotReady';
  return clock.stamp(new Date().toISOString(), [
    ['PodScheduled', true],
    ['Initialized', prepared, 'ContainersNotInitialized'],
    ['ContainersReady', allReady, reason],
    ['Ready', allReady, reason],
  ]);
}
