/**
 * The Recreate strategy (Kubernetes' deployment/recreate.go): scale every old ReplicaSet to zero,
 * wait until none of their pods is left (terminating pods included: the old version must be fully
 * gone), and only then create and scale up the new ReplicaSet.
 */
import type { ControllerContext } from '../types.js';
import { cleanupHistory, scaleReplicaSet, syncNewReplicaSet } from './actions.js';
import { calculateStatus, isComplete, syncStatus, type Requeue } from './progress.js';
import { activeReplicaSets, countsOf, specReplicas, type RolloutState } from './state.js';
import { controllerOf } from '../pods.js';

/** One step of a Recreate rollout. */
export async function rolloutRecreate(ctx: ControllerContext, s: RolloutState, requeue: Requeue): Promise<void> {
  // Don't create the new ReplicaSet yet: it would scale up before the old pods are gone.
  await syncNewReplicaSet(ctx, s, false);
  let scaledDown = false;
  for (const rs of activeReplicaSets(s.oldRSs)) scaledDown = (await scaleReplicaSet(ctx, s, rs, 0, 'down')) || scaledDown;
  if (scaledDown || oldPodsRunning(s)) return syncStatus(ctx, s, requeue, true);
  if (!s.newRS) await syncNewReplicaSet(ctx, s, true);
  if (s.newRS && specReplicas(s.newRS) !== specReplicas(s.d)) await scaleReplicaSet(ctx, s, s.newRS, specReplicas(s.d), 'up');
  if (isComplete(s.d, calculateStatus(s))) await cleanupHistory(ctx, s);
  return syncStatus(ctx, s, requeue, true);
}

/** Any pod of an old ReplicaSet not yet finished, terminating ones included (oldPodsRunning). */
function oldPodsRunning(s: RolloutState): boolean {
  return s.oldRSs.some((rs) => countsOf(s, rs).unfinished > 0);
}
