/**
 * Scaling without rolling (Kubernetes' deployment/sync.go `sync` and `scale`): a paused Deployment, or
 * a change of spec.replicas in the middle of a rollout, resizes the ReplicaSets it has instead of
 * moving the rollout on. With several active ReplicaSets the difference is spread proportionally to
 * their sizes (from each one's max-replicas annotation), so a rollout keeps its ratio of old to new.
 */
import type { ReplicaSet } from '../../../protocol/index.js';
import type { ControllerContext } from '../types.js';
import { cleanupHistory, scaleReplicaSet, syncNewReplicaSet } from './actions.js';
import { syncStatus, type Requeue } from './progress.js';
import { activeReplicaSets, availableOf, byCreation, desiredReplicasAnnotation, fenceposts, maxReplicasAnnotation, replicaCount, specReplicas, type RolloutState } from './state.js';

/** True when an active ReplicaSet was last sized for another spec.replicas (isScalingEvent). */
export function isScalingEvent(s: RolloutState): boolean {
  const want = specReplicas(s.d);
  return activeReplicaSets([...s.oldRSs, s.newRS]).some((rs) => {
    const a = rs.metadata.annotations?.[desiredReplicasAnnotation];
    return a !== undefined && Number(a) !== want;
  });
}

/** Resizes without rolling; a paused Deployment also prunes its history (sync in sync.go). */
export async function syncScaleOnly(ctx: ControllerContext, s: RolloutState, requeue: Requeue): Promise<void> {
  await syncNewReplicaSet(ctx, s, false);
  await scale(ctx, s);
  if (s.d.spec.paused) await cleanupHistory(ctx, s);
  await syncStatus(ctx, s, requeue, false);
}

/** Go's math.Round: halves away from zero (JavaScript's Math.round rounds -2.5 to -2). */
function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x));
}

async function scale(ctx: ControllerContext, s: RolloutState): Promise<void> {
  const { d, newRS } = s;
  const want = specReplicas(d);
  const single = activeOrLatest(s);
  if (single) {
    if (specReplicas(single) !== want) await scaleReplicaSet(ctx, s, single, want);
    return;
  }
  // A saturated new ReplicaSet: the old ones simply go (IsSaturated).
  if (newRS && specReplicas(newRS) === want && Number(newRS.metadata.annotations?.[desiredReplicasAnnotation]) === want && availableOf(s, newRS) === want) {
    for (const rs of activeReplicaSets(s.oldRSs)) await scaleReplicaSet(ctx, s, rs, 0);
    return;
  }
  if ((d.spec.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return;
  const all = activeReplicaSets([...s.oldRSs, newRS]);
  const maxSurge = fenceposts(d).maxSurge;
  const allowed = want > 0 ? want + maxSurge : 0;
  const toAdd = allowed - replicaCount(all);
  if (toAdd === 0) return;
  // Larger first; among equals, newer first when growing and older first when shrinking.
  all.sort((a, b) => specReplicas(b) - specReplicas(a) || (toAdd > 0 ? byCreation(b, a) : byCreation(a, b)));
  const sizes = new Map<string, number>();
  let added = 0;
  for (const rs of all) {
    const p = proportion(rs, want, want + maxSurge, d.status?.replicas ?? 0, toAdd, added);
    sizes.set(rs.metadata.name, specReplicas(rs) + p);
    added += p;
  }
  // Leftovers of rounding go to the largest ReplicaSet.
  sizes.set(all[0].metadata.name, Math.max(0, sizes.get(all[0].metadata.name)! + toAdd - added));
  for (const rs of all) await scaleReplicaSet(ctx, s, rs, sizes.get(rs.metadata.name)!, toAdd > 0 ? 'up' : 'down');
}

/** The only active ReplicaSet, or the newest when none is active; none when several are (FindActiveOrLatest). */
function activeOrLatest(s: RolloutState): ReplicaSet | undefined {
  const active = activeReplicaSets([...s.oldRSs, s.newRS]);
  if (active.length === 1) return active[0];
  if (active.length > 1) return undefined;
  return s.newRS ?? [...s.oldRSs].sort(byCreation).at(-1);
}

/**
 * A ReplicaSet's share of `toAdd` (GetProportion): its size × (replicas + maxSurge) / its
 * max-replicas annotation, minus its size, bounded by what is still left to add or remove.
 */
function proportion(rs: ReplicaSet, want: number, deploymentMax: number, statusReplicas: number, toAdd: number, added: number): number {
  const size = specReplicas(rs);
  if (size === 0 || toAdd === 0 || toAdd === added) return 0;
  const annotated = Number(rs.metadata.annotations?.[maxReplicasAnnotation]) || statusReplicas;
  const fraction = want === 0 ? -size : annotated > 0 ? roundHalfAway((size * deploymentMax) / annotated) - size : 0;
  const left = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
}
