/**
 * The RollingUpdate strategy (Kubernetes' deployment/rolling.go): scale the new ReplicaSet up within
 * replicas + maxSurge, then scale old ones down while at least replicas - maxUnavailable stay
 * available, removing old pods that are not available first. One step per sync; every change of a
 * pod or ReplicaSet brings the next.
 */
import type { ControllerContext } from '../types.js';
import { cleanupHistory, newReplicaCount, scaleReplicaSet, syncNewReplicaSet } from './actions.js';
import { isComplete, calculateStatus, syncStatus, type Requeue } from './progress.js';
import { activeReplicaSets, allReplicaSets, availableOf, byCreation, fenceposts, replicaCount, specReplicas, type RolloutState } from './state.js';

/** One step of a rolling update. */
export async function rolloutRolling(ctx: ControllerContext, s: RolloutState, requeue: Requeue): Promise<void> {
  await syncNewReplicaSet(ctx, s, true);
  if ((await reconcileNewReplicaSet(ctx, s)) || (await reconcileOldReplicaSets(ctx, s))) return syncStatus(ctx, s, requeue, true);
  if (isComplete(s.d, calculateStatus(s))) await cleanupHistory(ctx, s);
  return syncStatus(ctx, s, requeue, true);
}

/** Scales the new ReplicaSet toward replicas, never past replicas + maxSurge in total. */
async function reconcileNewReplicaSet(ctx: ControllerContext, s: RolloutState): Promise<boolean> {
  const { d, newRS } = s;
  if (!newRS) return false;
  const want = specReplicas(d);
  const cur = specReplicas(newRS);
  if (cur === want) return false;
  if (cur > want) return scaleReplicaSet(ctx, s, newRS, want);
  return scaleReplicaSet(ctx, s, newRS, newReplicaCount(d, allReplicaSets(s), newRS));
}

/**
 * Scales old ReplicaSets down. At most allPods - minAvailable - (new pods not yet available) may go:
 * unavailable new pods must not be counted on. Unhealthy old replicas go first, since removing them
 * costs no availability; then healthy ones while availability stays above minAvailable.
 */
async function reconcileOldReplicaSets(ctx: ControllerContext, s: RolloutState): Promise<boolean> {
  const { d, newRS } = s;
  if (replicaCount(s.oldRSs) === 0) return false;
  const minAvailable = specReplicas(d) - fenceposts(d).maxUnavailable;
  const newUnavailable = newRS ? specReplicas(newRS) - availableOf(s, newRS) : 0;
  const maxScaledDown = replicaCount(allReplicaSets(s)) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;
  const cleaned = await cleanupUnhealthyReplicas(ctx, s, maxScaledDown);
  const scaled = await scaleDownOldForRollingUpdate(ctx, s, minAvailable);
  return cleaned + scaled > 0;
}

/** Removes old replicas that are not available, oldest ReplicaSet first, up to `max`. */
async function cleanupUnhealthyReplicas(ctx: ControllerContext, s: RolloutState, max: number): Promise<number> {
  let total = 0;
  for (const rs of [...s.oldRSs].sort(byCreation)) {
    if (total >= max) break;
    const replicas = specReplicas(rs);
    const unhealthy = replicas - availableOf(s, rs);
    if (replicas === 0 || unhealthy <= 0) continue;
    const n = Math.min(max - total, unhealthy);
    await scaleReplicaSet(ctx, s, rs, replicas - n, 'down');
    total += n;
  }
  return total;
}

/** Scales old ReplicaSets down, oldest first, by what availability above minAvailable allows. */
async function scaleDownOldForRollingUpdate(ctx: ControllerContext, s: RolloutState, minAvailable: number): Promise<number> {
  const available = allReplicaSets(s).reduce((n, rs) => n + availableOf(s, rs), 0);
  if (available <= minAvailable) return 0;
  const budget = available - minAvailable;
  let total = 0;
  for (const rs of activeReplicaSets([...s.oldRSs].sort(byCreation))) {
    if (total >= budget) break;
    const n = Math.min(specReplicas(rs), budget - total);
    await scaleReplicaSet(ctx, s, rs, specReplicas(rs) - n, 'down');
    total += n;
  }
  return total;
}
