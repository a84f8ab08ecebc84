/** What the phase rules (status.ts) see of a pod: its containers' statuses, readiness from their probers. */
import type { ContainerStatus, Pod } from '../../protocol/types.js';
import type { ContainerRunner } from './container.js';
import type { Prober } from './probe.js';
import type { ContainerView, PodView } from './status.js';

/** A pod runner's parts the view reads. */
export interface ViewSource {
  pod: Pod;
  /** Prepared and its runners made. */
  prepared: boolean;
  /** Why it cannot start yet (a missing ConfigMap, a failed pull), shown as every container's waiting reason. */
  blocked?: { reason: string; message: string };
  init: ContainerRunner[];
  app: ContainerRunner[];
  probers: ReadonlyMap<string, Prober>;
}

/** A container not made yet, waiting with `reason` (or the pod's blocked reason). */
function waiting(name: string, reason: string, blocked: ViewSource['blocked']): ContainerView {
  return { finished: false, status: { name, ready: false, started: false, restartCount: 0, state: { waiting: blocked ?? { reason } } } };
}

/** One runner's view. A regular init container is ready once it completed (kubelet reports it so); the others' readiness is their prober's. */
function runnerView(c: ContainerRunner, prober: Prober | undefined, regularInit: boolean): ContainerView {
  const ready = regularInit ? c.state.terminated?.exitCode === 0 : (prober?.ready() ?? false);
  const started = regularInit ? c.state.running !== undefined : (prober?.started() ?? false);
  const status: ContainerStatus = { name: c.name, ready, started, restartCount: c.restartCount, state: c.state, ...(c.lastState ? { lastState: c.lastState } : {}) };
  return { finished: c.finished, status };
}

/** The pod's view for the phase and condition rules. */
export function podView(s: ViewSource): PodView {
  const initSpecs = s.pod.spec.initContainers ?? [];
  const restartPolicy = s.pod.spec.restartPolicy!;
  if (!s.prepared)
    return {
      prepared: false,
      restartPolicy,
      init: initSpecs.map((c) => ({ ...waiting(c.name, 'PodInitializing', s.blocked), sidecar: c.restartPolicy === 'Always' })),
      app: s.pod.spec.containers.map((c) => waiting(c.name, initSpecs.length ? 'PodInitializing' : 'ContainerCreating', s.blocked)),
    };
  return {
    prepared: true,
    restartPolicy,
    init: s.init.map((c, i) => {
      const sidecar = initSpecs[i]?.restartPolicy === 'Always';
      return { ...runnerView(c, s.probers.get(c.name), !sidecar), sidecar };
    }),
    app: s.app.map((c) => runnerView(c, s.probers.get(c.name), false)),
  };
}
