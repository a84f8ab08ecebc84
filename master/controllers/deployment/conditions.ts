/** Deployment conditions (Available, Progressing), set with Kubernetes' deployment/util rules. */
import type { Condition, Deployment } from '../../../protocol/index.js';
import type { ControllerContext } from '../types.js';
import type { RolloutState } from './state.js';

/** Progressing reasons (deployment/util), which `rollout status` and tests read. */
export const reasons = {
  newRSCreated: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  minAvailable: 'MinimumReplicasAvailable',
  minUnavailable: 'MinimumReplicasUnavailable',
} as const;

/** A condition of a Deployment's status, or undefined. */
export function conditionOf(d: Deployment, type: string): Condition | undefined {
  return d.status?.conditions?.find((c) => c.type === type);
}

/**
 * Returns conditions with `c` set (SetDeploymentCondition): unchanged when status and reason are
 * the same; lastTransitionTime kept when only the reason changes.
 */
export function withCondition(conditions: Condition[], c: Omit<Condition, 'lastUpdateTime' | 'lastTransitionTime'> & { lastUpdateTime?: string; lastTransitionTime?: string }, now = new Date().toISOString()): Condition[] {
  const prev = conditions.find((x) => x.type === c.type);
  if (prev && prev.status === c.status && prev.reason === c.reason) return conditions;
  const next: Condition = {
    ...c,
    lastUpdateTime: c.lastUpdateTime ?? now,
    lastTransitionTime: c.lastTransitionTime ?? (prev?.status === c.status ? prev.lastTransitionTime : now),
  };
  return [...conditions.filter((x) => x.type !== c.type), next];
}

/** Writes one condition to the Deployment's status now, and keeps the state's copy current. */
export async function setCondition(ctx: ControllerContext, s: RolloutState, c: Omit<Condition, 'lastUpdateTime' | 'lastTransitionTime'>): Promise<void> {
  const res = await ctx.objects.mutate('Deployment', s.d.metadata.namespace, s.d.metadata.name, (cur) => {
    if (cur.metadata.uid !== s.d.metadata.uid) return undefined;
    const before = cur.status?.conditions ?? [];
    const after = withCondition(before, c, new Date(s.now).toISOString());
    if (after === before) return undefined;
    cur.status = { ...(cur.status ?? {}), conditions: after };
    return cur;
  });
  if (res) {
    await ctx.informers.waitForRevision(Number(res.metadata.resourceVersion));
    s.d = res;
  }
}

/**
 * Pausing or resuming sets Progressing to Unknown (checkPausedConditions), so a resumed rollout's
 * deadline counts from the resume; a reported deadline excess is never overwritten.
 */
export async function syncPausedCondition(ctx: ControllerContext, s: RolloutState): Promise<void> {
  const cond = conditionOf(s.d, 'Progressing');
  if (cond?.reason === reasons.timedOut) return;
  const pausedNoted = cond?.reason === reasons.paused;
  if (s.d.spec.paused && !pausedNoted) await setCondition(ctx, s, { type: 'Progressing', status: 'Unknown', reason: reasons.paused, message: 'Deployment is paused' });
  else if (!s.d.spec.paused && pausedNoted) await setCondition(ctx, s, { type: 'Progressing', status: 'Unknown', reason: reasons.resumed, message: 'Deployment is resumed' });
}
