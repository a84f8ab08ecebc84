/**
 * The Deployment controller (Kubernetes' deployment/sync.go syncDeployment): gathers a Deployment's
 * ReplicaSets (the one whose template matches is the new one) and their pods, then
 *   paused            → record it in Progressing, resize only (scale.ts)
 *   replicas changed  → resize only, proportionally (scale.ts)
 *   otherwise         → one step of the strategy: rolling.ts or recreate.ts
 * and writes status and conditions (progress.ts). Rollback is a template change made by the API
 * (rollback.ts); revisions are synced when the new ReplicaSet is found (actions.ts).
 */
import { matchesSelector, own, type Deployment } from '../../../protocol/index.js';
import { realClock } from '../../clock.js';
import { cacheKey, keyOf } from '../../informer.js';
import { WorkQueue } from '../queue.js';
import { controllerOf, controllerRef, isTerminating } from '../pods.js';
import type { ControllerContext, SyncController } from '../types.js';
import { syncPausedCondition } from './conditions.js';
import { sameTemplate } from './hash.js';
import { syncStatus, type Requeue } from './progress.js';
import { rolloutRecreate } from './recreate.js';
import { rolloutRolling } from './rolling.js';
import { isScalingEvent, syncScaleOnly } from './scale.js';
import type { RolloutState } from './state.js';
import { podTally } from './tally.js';

/** The rollout step of each strategy type. */
const strategies = { RollingUpdate: rolloutRolling, Recreate: rolloutRecreate };

/** Starts the Deployment controller. */
export function startDeploymentController(ctx: ControllerContext): SyncController {
  const { informers } = ctx;
  const clock = ctx.clock ?? realClock;
  const queue = new WorkQueue('deployment', sync, ctx.log, clock);
  const tally = podTally(informers);

  informers.on('Deployment', (_d, _old, d) => queue.add(keyOf(d)));
  informers.on('ReplicaSet', (_rs, _old, rs) => {
    const ref = controllerOf(rs);
    if (ref?.kind === 'Deployment') queue.add(cacheKey(rs.metadata.namespace, ref.name));
  });
  // Pod readiness drives a rolling update directly (the ReplicaSet's status would come a step later).
  informers.on('Pod', (_p, _old, pod) => {
    const rsRef = controllerOf(pod);
    if (rsRef?.kind !== 'ReplicaSet') return;
    const rs = informers.get('ReplicaSet', pod.metadata.namespace, rsRef.name);
    const ref = rs && controllerOf(rs);
    if (ref?.kind === 'Deployment') queue.add(cacheKey(pod.metadata.namespace, ref.name));
  });

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const d = informers.get('Deployment', ns, name);
    if (!d) return;
    const requeue: Requeue = (ms) => queue.addAfter(key, ms);
    if (!isTerminating(d) && (await adoptOrphans(d))) return; // adoptOrphans queued the next sync
    const s = gather(d);
    if (isTerminating(d)) return syncStatus(ctx, s, requeue, false);
    await syncPausedCondition(ctx, s);
    if (s.d.spec.paused || isScalingEvent(s)) return syncScaleOnly(ctx, s, requeue);
    const type = s.d.spec.strategy?.type ?? 'RollingUpdate';
    return (own(strategies, type) ?? rolloutRolling)(ctx, s, requeue);
  }

  /**
   * Takes ReplicaSets that match the selector and have no controller, e.g. left by a delete with
   * --cascade=orphan (ClaimReplicaSets): the re-created Deployment then carries on with them.
   */
  async function adoptOrphans(d: Deployment): Promise<boolean> {
    let adopted = false;
    for (const rs of informers.orphans('ReplicaSet', d.metadata.namespace)) {
      if (isTerminating(rs) || !matchesSelector(d.spec.selector, rs.metadata.labels)) continue;
      const res = await ctx.objects.mutate('ReplicaSet', rs.metadata.namespace, rs.metadata.name, (cur) => {
        if (controllerOf(cur)) return undefined;
        cur.metadata.ownerReferences = [...(cur.metadata.ownerReferences ?? []), controllerRef(d)];
        return cur;
      });
      if (res) await informers.waitForRevision(Number(res.metadata.resourceVersion));
      adopted = true;
    }
    if (adopted) queue.add(cacheKey(d.metadata.namespace, d.metadata.name));
    return adopted;
  }

  /** The Deployment, its ReplicaSets split into new and old, and their active pods. */
  function gather(d: Deployment): RolloutState {
    const owned = informers.dependents('ReplicaSet', d.metadata.uid!).filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
    // Oldest first, so the oldest of several equal templates is the new one (FindNewReplicaSet).
    owned.sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? ''));
    const newRS = owned.find((rs) => sameTemplate(rs.spec.template, d.spec.template));
    const now = clock.now();
    const counts = new Map(owned.map((rs) => [rs.metadata.uid!, tally.of(rs.metadata.uid!, d.spec.minReadySeconds ?? 0, now)]));
    return { d, newRS, oldRSs: owned.filter((rs) => rs !== newRS), counts, now };
  }

  return { name: 'deployment', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}
