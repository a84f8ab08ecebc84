/**
 * Deployment status and rollout progress (Kubernetes' deployment/progress.go and sync.go
 * calculateStatus): counts, the Available condition, the Progressing condition with its reasons and
 * the progress deadline, and the `rollout status` reading of a Deployment (kubectl's
 * DeploymentStatusViewer).
 */
import type { Condition, Deployment } from '../../../protocol/index.js';
import type { ControllerContext } from '../types.js';
import { conditionOf, reasons, withCondition } from './conditions.js';
import { allReplicaSets, countsOf, fenceposts, replicaCount, specReplicas, type RolloutState } from './state.js';

/** Schedules another sync of this Deployment. */
export type Requeue = (delayMs: number) => void;

type Status = NonNullable<Deployment['status']>;

/** The status from the ReplicaSets' pods, with the Available condition (calculateStatus). */
export function calculateStatus(s: RolloutState): Status {
  const { d } = s;
  const all = allReplicaSets(s);
  const counts = all.map((rs) => countsOf(s, rs));
  const sum = (k: 'active' | 'ready' | 'available') => counts.reduce((n, c) => n + c[k], 0);
  const available = sum('available');
  const want = specReplicas(d);
  let conditions = d.status?.conditions ?? [];
  conditions = available >= want - fenceposts(d).maxUnavailable
    ? withCondition(conditions, { type: 'Available', status: 'True', reason: reasons.minAvailable, message: 'Deployment has minimum availability.' })
    : withCondition(conditions, { type: 'Available', status: 'False', reason: reasons.minUnavailable, message: 'Deployment does not have minimum availability.' });
  return {
    observedGeneration: d.metadata.generation,
    replicas: sum('active'),
    updatedReplicas: countsOf(s, s.newRS).active,
    readyReplicas: sum('ready'),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicaCount(all) - available),
    conditions,
  };
}

/** Every replica updated and available, nothing old left (DeploymentComplete). */
export function isComplete(d: Deployment, st: Status): boolean {
  const want = specReplicas(d);
  return st.updatedReplicas === want && st.replicas === want && st.availableReplicas === want && (st.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** Any sign of progress against the last recorded status (DeploymentProgressing). */
function madeProgress(d: Deployment, st: Status): boolean {
  const o = d.status ?? {};
  const oldOld = (o.replicas ?? 0) - (o.updatedReplicas ?? 0);
  const newOld = (st.replicas ?? 0) - (st.updatedReplicas ?? 0);
  return (st.updatedReplicas ?? 0) > (o.updatedReplicas ?? 0) || newOld < oldOld || (st.readyReplicas ?? 0) > (o.readyReplicas ?? 0) || (st.availableReplicas ?? 0) > (o.availableReplicas ?? 0);
}

/** No progress for progressDeadlineSeconds since the condition last moved (DeploymentTimedOut). */
function timedOut(d: Deployment, cond: Condition | undefined, now: number): boolean {
  if (!cond || cond.reason === reasons.newRSAvailable) return false;
  if (cond.reason === reasons.timedOut) return true;
  return Date.parse(cond.lastUpdateTime ?? '') + (d.spec.progressDeadlineSeconds ?? 600) * 1000 < now;
}

/** The Progressing condition after this sync (syncRolloutStatus). */
function progressing(s: RolloutState, st: Status, now: number): Condition[] {
  const { d, newRS } = s;
  const conditions = st.conditions ?? [];
  const cur = conditionOf(d, 'Progressing');
  const what = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
  if (st.replicas === st.updatedReplicas && cur?.reason === reasons.newRSAvailable) return conditions;
  if (isComplete(d, st)) return withCondition(conditions, { type: 'Progressing', status: 'True', reason: reasons.newRSAvailable, message: `${what} has successfully progressed.` });
  if (madeProgress(d, st)) {
    // Unlike other conditions, Progressing moves lastUpdateTime on every sign of progress (the
    // deadline counts from it), keeping lastTransitionTime while it stays True.
    const at = new Date(now).toISOString();
    const c: Condition = { type: 'Progressing', status: 'True', reason: reasons.rsUpdated, message: `${what} is progressing.`, lastUpdateTime: at, lastTransitionTime: cur?.status === 'True' ? cur.lastTransitionTime : at };
    return [...conditions.filter((x) => x.type !== 'Progressing'), c];
  }
  if (timedOut(d, conditions.find((x) => x.type === 'Progressing'), now))
    return withCondition(conditions, { type: 'Progressing', status: 'False', reason: reasons.timedOut, message: `${what} has timed out progressing.` });
  return conditions;
}

/** Writes the status if it changed; `checkProgress` also maintains Progressing and the deadline. */
export async function syncStatus(ctx: ControllerContext, s: RolloutState, requeue: Requeue, checkProgress: boolean): Promise<void> {
  const now = s.now;
  const st = calculateStatus(s);
  if (checkProgress) st.conditions = progressing(s, st, now);
  const res = await ctx.objects.mutate('Deployment', s.d.metadata.namespace, s.d.metadata.name, (cur) => {
    if (cur.metadata.uid !== s.d.metadata.uid) return undefined;
    cur.status = st;
    return cur;
  });
  if (res) s.d = res;
  scheduleFollowUps(s, st, requeue, now, checkProgress);
}

/**
 * Time-based transitions need a sync without any object changing: the deadline check
 * (requeueStuckDeployment) and pods turning available minReadySeconds after they became ready.
 */
function scheduleFollowUps(s: RolloutState, st: Status, requeue: Requeue, now: number, checkProgress: boolean): void {
  const { d } = s;
  const cond = st.conditions?.find((c) => c.type === 'Progressing');
  if (checkProgress && cond && !isComplete(d, st) && cond.reason !== reasons.timedOut) {
    const after = Date.parse(cond.lastUpdateTime ?? '') + (d.spec.progressDeadlineSeconds ?? 600) * 1000 - now;
    requeue(Math.max(0, after) + 1000);
  }
  // Ready pods that turn available minReadySeconds later (none without minReadySeconds).
  for (const rs of allReplicaSets(s)) for (const at of countsOf(s, rs).availableAt) requeue(Math.max(0, at - now) + 50);
}

/** What `rollout status` says of a Deployment: a line, whether the rollout is done, or an error. */
export interface RolloutStatus {
  message: string;
  done: boolean;
  /** The rollout failed (its progress deadline passed): the message is the error. */
  failed?: boolean;
}

/** kubectl's DeploymentStatusViewer, line for line. */
export function rolloutStatus(d: Deployment): RolloutStatus {
  const name = d.metadata.name;
  const st = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (st.observedGeneration ?? 0)) return { message: 'Waiting for deployment spec update to be observed...', done: false };
  if (conditionOf(d, 'Progressing')?.reason === reasons.timedOut) return { message: `deployment "${name}" exceeded its progress deadline`, done: false, failed: true };
  const want = specReplicas(d);
  const updated = st.updatedReplicas ?? 0;
  const replicas = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  if (updated < want) return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...`, done: false };
  if (replicas > updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`, done: false };
  if (available < updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`, done: false };
  return { message: `deployment "${name}" successfully rolled out`, done: true };
}
