/**
 * The probe step of the pod lifecycle. A container without probes is ready and started while it runs
 * (Kubernetes' rule without readinessProbe/startupProbe); one with probes gets a ContainerProber
 * (edge-agent/probes/), which follows its attempts, kills it on a failing liveness/startup verdict and
 * decides readiness.
 */
import type { Container } from '../../protocol/types.js';
import { ContainerProber, type ProberDeps } from '../probes/prober.js';

/** Decides one container's readiness. */
export interface Prober {
  /** containerStatuses[].ready */
  ready(): boolean;
  /** containerStatuses[].started */
  started(): boolean;
  /** Called on every change of the container's state. */
  sync(): void;
  stop(): void;
}

function runningIsReady(deps: ProberDeps): Prober {
  const running = () => deps.container.state.running !== undefined;
  return { ready: running, started: running, sync: () => {}, stop: () => {} };
}

/** The prober of a container. */
export function proberFor(container: Container, deps: ProberDeps): Prober {
  const probed = container.livenessProbe || container.readinessProbe || container.startupProbe;
  return probed ? new ContainerProber(container, deps) : runningIsReady(deps);
}
