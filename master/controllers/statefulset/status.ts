/**
 * A StatefulSet's status (Kubernetes' computeReplicaStatus and completeRollingUpdate) and kubectl's rollout
 * status viewer for it, word for word.
 */
import { SkiffError, type Pod, type StatefulSet } from '../../../protocol/index.js';
import type { RolloutStatus } from '../deployment/progress.js';
import { isAvailable, isTerminating } from '../pods.js';
import { revisionLabel } from './identity.js';

/** The status of a set from its pods; `current` is the revision the set stood at (status.currentRevision, or the update revision at first). */
export function setStatus(set: StatefulSet, pods: Pod[], current: string, update: string, now: number): NonNullable<StatefulSet['status']> {
  const minReady = set.spec.minReadySeconds ?? 0;
  const created = pods.filter((p) => p.status?.phase !== undefined);
  const ready = created.filter((p) => p.status?.phase === 'Running' && !isTerminating(p) && isAvailable(p, 0, now));
  const status: NonNullable<StatefulSet['status']> = {
    observedGeneration: set.metadata.generation,
    replicas: created.length,
    readyReplicas: ready.length,
    availableReplicas: ready.filter((p) => isAvailable(p, minReady, now)).length,
    currentReplicas: created.filter((p) => p.metadata.labels?.[revisionLabel] === current).length,
    updatedReplicas: created.filter((p) => p.metadata.labels?.[revisionLabel] === update).length,
    currentRevision: current,
    updateRevision: update,
    collisionCount: set.status?.collisionCount ?? 0,
  };
  // A rolling update is complete when every pod is at the update revision and ready: that becomes current.
  const replicas = set.spec.replicas ?? 1;
  if (set.spec.updateStrategy?.type !== 'OnDelete' && status.updatedReplicas === replicas && status.readyReplicas === replicas && status.replicas === replicas) {
    status.currentRevision = update;
    status.currentReplicas = status.updatedReplicas;
  }
  return status;
}

/** kubectl's StatefulSetStatusViewer. */
export function statefulSetRolloutStatus(sts: StatefulSet): RolloutStatus {
  if (sts.spec.updateStrategy?.type !== 'RollingUpdate') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'rollout status is only available for RollingUpdate strategy type');
  const st = sts.status;
  if (!st?.observedGeneration || (sts.metadata.generation ?? 0) > st.observedGeneration) return { message: 'Waiting for statefulset spec update to be observed...', done: false };
  const replicas = sts.spec.replicas ?? 1;
  if ((st.readyReplicas ?? 0) < replicas) return { message: `Waiting for ${replicas - (st.readyReplicas ?? 0)} pods to be ready...`, done: false };
  const partition = sts.spec.updateStrategy.rollingUpdate?.partition ?? 0;
  const updated = st.updatedReplicas ?? 0;
  if (updated < replicas - partition) return { message: `Waiting for partitioned roll out to finish: ${updated} out of ${replicas - partition} new pods have been updated...`, done: false };
  return { message: `partitioned roll out complete: ${updated} new pods have been updated...`, done: true };
}
