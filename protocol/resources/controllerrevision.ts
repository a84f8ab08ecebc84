/**
 * ControllerRevision (apps/v1): one immutable snapshot of a workload's pod template, with a revision
 * number. DaemonSets keep their rollout history in them (and StatefulSets will), as in Kubernetes; the
 * master writes them (master/controllers/history.ts), `rollout history` and `undo` read them.
 */
import type { Checker } from '../check.js';
import type { KObject, PodTemplateSpec } from '../types.js';

/** A ControllerRevision: `data.spec.template` is the owner's pod template at that revision. */
export interface ControllerRevision extends KObject {
  kind: 'ControllerRevision';
  data: { spec: { template: PodTemplateSpec } };
  revision: number;
}

/** Checks a ControllerRevision: a data map and a revision number. */
export function checkControllerRevision(c: Checker, o: Record<string, any>): void {
  c.object(o.data, 'data', true);
  c.int(o.revision, 'revision', 0, Number.MAX_SAFE_INTEGER, true);
}
