/**
 * Revision history and rollback. A rollback puts an earlier ReplicaSet's pod template back into the
 * Deployment (kubectl's DeploymentRollbacker); the controller then finds that ReplicaSet as the new
 * one and moves its revision to the top (syncNewReplicaSet), so `undo` twice toggles between the
 * last two templates as in Kubernetes.
 */
import { SkiffError, type Deployment, type PodTemplateSpec, type ReplicaSet } from '../../../protocol/index.js';
import { controllerOf } from '../pods.js';
import { sameTemplate, templateHashLabel } from './hash.js';
import { changeCauseAnnotation, revisionOf } from './state.js';

/** One revision of a Deployment. */
export interface Revision {
  revision: number;
  replicaSet: string;
  changeCause?: string;
  template: PodTemplateSpec;
}

/** The ReplicaSets a Deployment controls. */
export function ownedReplicaSets(d: Deployment, all: ReplicaSet[]): ReplicaSet[] {
  return all.filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
}

/** The revisions still in history, oldest first (`rollout history`). */
export function history(d: Deployment, all: ReplicaSet[]): Revision[] {
  return ownedReplicaSets(d, all)
    .filter((rs) => revisionOf(rs) > 0)
    .sort((a, b) => revisionOf(a) - revisionOf(b))
    .map((rs) => ({
      revision: revisionOf(rs),
      replicaSet: rs.metadata.name,
      ...(rs.metadata.annotations?.[changeCauseAnnotation] !== undefined ? { changeCause: rs.metadata.annotations[changeCauseAnnotation] } : {}),
      template: withoutHashLabel(rs.spec.template),
    }));
}

/** A ReplicaSet's template as the Deployment would carry it: without the pod-template-hash label. */
function withoutHashLabel(t: PodTemplateSpec): PodTemplateSpec {
  const c = structuredClone(t);
  if (c.metadata?.labels) delete c.metadata.labels[templateHashLabel];
  return c;
}

/** What an undo does: the template to restore, or why nothing changes. */
export type RollbackPlan = { skipped: false; revision: number; template: PodTemplateSpec; changeCause?: string } | { skipped: true; revision: number; message: string };

/**
 * Picks the revision to go back to: `toRevision`, or the one before the latest when 0
 * (deploymentRevision in kubectl). Errors follow kubectl's wording.
 */
export function planRollback(d: Deployment, all: ReplicaSet[], toRevision = 0): RollbackPlan {
  const name = d.metadata.name;
  if (d.spec.paused) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `you cannot rollback a paused deployment; resume it first with "skiff rollout resume deployment/${name}" and try again`);
  const revs = history(d, all);
  let target: Revision | undefined;
  if (toRevision > 0) {
    target = revs.find((r) => r.revision === toRevision);
    if (!target) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `unable to find specified revision ${toRevision} in history of deployment "${name}"`);
  } else {
    target = revs.at(-2);
    if (!target) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `no rollout history found for deployment "${name}"`);
  }
  if (sameTemplate(target.template, d.spec.template))
    return { skipped: true, revision: target.revision, message: `skipped rollback (current template already matches revision ${target.revision})` };
  return { skipped: false, revision: target.revision, template: target.template, ...(target.changeCause !== undefined ? { changeCause: target.changeCause } : {}) };
}
