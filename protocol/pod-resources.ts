/**
 * What a pod needs of one resource, as Kubernetes computes it (k8s.io/component-helpers resource PodRequests and
 * PodLimits, with 1.29 sidecars): the app containers and the sidecars (init containers with restartPolicy Always)
 * together, or — if more — the most any regular init container needs while it runs beside the sidecars started
 * before it (init containers run one at a time, before the app containers). One rule for the scheduler
 * (master/scheduler/convert.ts), quota usage and LimitRange's Pod items (master/admission/).
 */
import type { Container, Pod } from './types.js';

/** `of(container)` summed over a pod as above: max(app + sidecars, peak of each init container beside the sidecars before it). */
export function podTotal(p: Pick<Pod, 'spec'>, of: (c: Container) => number): number {
  let total = p.spec.containers.reduce((n, c) => n + of(c), 0);
  let sidecars = 0;
  let peak = 0;
  for (const c of p.spec.initContainers ?? []) {
    const own = of(c);
    if (c.restartPolicy === 'Always') {
      total += own;
      sidecars += own;
      peak = Math.max(peak, sidecars);
    } else peak = Math.max(peak, own + sidecars);
  }
  return Math.max(total, peak);
}
