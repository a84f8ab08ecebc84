/**
 * The probe step of the pod lifecycle. Until liveness/readiness/startup probes land, a container is ready
 * while it runs: Kubernetes' rule for a container without a readinessProbe. A real prober plugs in here
 * (`proberFor` returns one per container) and calls `onChange` when its verdict flips.
 */
import type { Container } from '../../protocol/types.js';
import type { ContainerRunner } from './container.js';

/** Decides one container's readiness. */
export interface Prober {
  ready(c: ContainerRunner): boolean;
  stop(): void;
}

const runningIsReady: Prober = { ready: (c) => c.state.running !== undefined, stop: () => {} };

/** The prober of a container (probes fields are read here once they are supported). */
export function proberFor(_container: Container, _onChange: () => void): Prober {
  return runningIsReady;
}
