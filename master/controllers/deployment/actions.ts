/**
 * The writes a Deployment sync makes to its ReplicaSets: scale one (with the desired/max replicas
 * annotations and the ScalingReplicaSet event), find or create the new one (syncing its revision,
 * which is how a rollback bumps an old ReplicaSet to the newest revision), and prune history.
 * Every write waits until the cache has seen it, so the next sync never acts on stale counts
 * (the role of Kubernetes' expectations).
 */
import type { Deployment, ReplicaSet } from '../../../protocol/index.js';
import { controllerRef, createDependent } from '../pods.js';
import type { ControllerContext } from '../types.js';
import { templateHash, templateHashLabel } from './hash.js';
import { setCondition } from './conditions.js';
import {
  changeCauseAnnotation,
  countsOf,
  desiredReplicasAnnotation,
  fenceposts,
  maxReplicasAnnotation,
  maxRevision,
  replicaCount,
  revisionAnnotation,
  revisionHistoryAnnotation,
  revisionOf,
  specReplicas,
  type RolloutState,
} from './state.js';

/** Sets a ReplicaSet's replicas (and the Deployment's size annotations); true when the size changed. */
export async function scaleReplicaSet(ctx: ControllerContext, s: RolloutState, rs: ReplicaSet, replicas: number, op?: 'up' | 'down'): Promise<boolean> {
  const { d } = s;
  const from = specReplicas(rs);
  const desired = String(specReplicas(d));
  const max = String(specReplicas(d) + fenceposts(d).maxSurge);
  const res = await ctx.objects.mutate('ReplicaSet', rs.metadata.namespace, rs.metadata.name, (cur) => {
    if (cur.metadata.uid !== rs.metadata.uid) return undefined;
    const a = cur.metadata.annotations ?? {};
    if (specReplicas(cur) === replicas && a[desiredReplicasAnnotation] === desired && a[maxReplicasAnnotation] === max) return undefined;
    cur.spec.replicas = replicas;
    cur.metadata.annotations = { ...a, [desiredReplicasAnnotation]: desired, [maxReplicasAnnotation]: max };
    return cur;
  });
  if (!res) return false;
  await ctx.informers.waitForRevision(Number(res.metadata.resourceVersion));
  replaceInState(s, res);
  if (from === replicas) return false;
  const dir = op ?? (replicas > from ? 'up' : 'down');
  ctx.events.object('Deployment', d.metadata.namespace, d.metadata.name, 'Normal', 'ScalingReplicaSet', `Scaled ${dir} replica set ${rs.metadata.name} from ${from} to ${replicas}`);
  return true;
}

/** Puts a freshly written ReplicaSet in place of its older copy in the state. */
function replaceInState(s: RolloutState, rs: ReplicaSet): void {
  if (s.newRS?.metadata.uid === rs.metadata.uid) s.newRS = rs;
  s.oldRSs = s.oldRSs.map((o) => (o.metadata.uid === rs.metadata.uid ? rs : o));
}

/**
 * How big the new ReplicaSet may be now (NewRSNewReplicas): Recreate goes straight to replicas;
 * RollingUpdate adds pods until all ReplicaSets together reach replicas + maxSurge.
 */
export function newReplicaCount(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet | undefined): number {
  const want = specReplicas(d);
  const current = newRS ? specReplicas(newRS) : 0;
  if ((d.spec.strategy?.type ?? 'RollingUpdate') === 'Recreate') return want;
  const maxTotal = want + fenceposts(d).maxSurge;
  const total = replicaCount(all);
  if (total >= maxTotal) return current;
  return current + Math.max(0, Math.min(maxTotal - total, want - current));
}

/**
 * Finds the ReplicaSet of the current template and syncs its revision to max(old) + 1 when it is
 * behind (a rollback re-uses an old ReplicaSet, whose revision then moves to the top and is kept in
 * revision-history); creates it when `create` and it does not exist (getNewReplicaSet in sync.go).
 */
export async function syncNewReplicaSet(ctx: ControllerContext, s: RolloutState, create: boolean): Promise<void> {
  const { d } = s;
  const revision = maxRevision(s.oldRSs) + 1;
  if (s.newRS) {
    const rs = s.newRS;
    const cause = d.metadata.annotations?.[changeCauseAnnotation];
    const updated = await ctx.objects.mutate('ReplicaSet', rs.metadata.namespace, rs.metadata.name, (cur) => {
      if (cur.metadata.uid !== rs.metadata.uid) return undefined;
      const a = { ...(cur.metadata.annotations ?? {}) };
      const old = revisionOf(cur);
      if (old < revision) {
        a[revisionAnnotation] = String(revision);
        if (old > 0) a[revisionHistoryAnnotation] = [a[revisionHistoryAnnotation], String(old)].filter(Boolean).join(',');
      }
      if (cause !== undefined) a[changeCauseAnnotation] = cause;
      cur.metadata.annotations = a;
      cur.spec.minReadySeconds = d.spec.minReadySeconds ?? 0;
      return cur;
    });
    if (updated) {
      await ctx.informers.waitForRevision(Number(updated.metadata.resourceVersion));
      replaceInState(s, updated);
    }
    return;
  }
  if (!create) return;
  const created = await createDependent(ctx, d, newReplicaSetFor(d, revision, 0));
  await ctx.informers.waitForRevision(Number(created.metadata.resourceVersion));
  s.newRS = created;
  await setCondition(ctx, s, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${created.metadata.name}"` });
  // Size it after creation through the common path, so the event reads "from 0 to N" as in Kubernetes.
  const n = newReplicaCount(d, [...s.oldRSs, created], created);
  if (n > 0) await scaleReplicaSet(ctx, s, created, n, 'up');
}

/** The ReplicaSet of the Deployment's current template: labelled and selected by the template hash. */
function newReplicaSetFor(d: Deployment, revision: number, replicas: number): ReplicaSet {
  const hash = templateHash(d.spec.template);
  const template = structuredClone(d.spec.template);
  template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [templateHashLabel]: hash } };
  const cause = d.metadata.annotations?.[changeCauseAnnotation];
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      labels: { ...(template.metadata.labels ?? {}) },
      annotations: {
        [revisionAnnotation]: String(revision),
        [desiredReplicasAnnotation]: String(specReplicas(d)),
        [maxReplicasAnnotation]: String(specReplicas(d) + fenceposts(d).maxSurge),
        ...(cause !== undefined ? { [changeCauseAnnotation]: cause } : {}),
      },
      ownerReferences: [controllerRef(d)],
    },
    spec: {
      replicas,
      minReadySeconds: d.spec.minReadySeconds ?? 0,
      selector: {
        matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [templateHashLabel]: hash },
        ...(d.spec.selector.matchExpressions ? { matchExpressions: d.spec.selector.matchExpressions } : {}),
      },
      template,
    },
  };
}

/**
 * Keeps at most revisionHistoryLimit old ReplicaSets (cleanupDeployment): the oldest revisions go
 * first, and only ReplicaSets scaled to zero with no pods left are deleted.
 */
export async function cleanupHistory(ctx: ControllerContext, s: RolloutState): Promise<void> {
  const limit = s.d.spec.revisionHistoryLimit ?? 10;
  const alive = s.oldRSs.filter((rs) => !rs.metadata.deletionTimestamp).sort((a, b) => revisionOf(a) - revisionOf(b));
  const diff = alive.length - limit;
  for (const rs of alive.slice(0, Math.max(0, diff))) {
    if (specReplicas(rs) !== 0 || (rs.status?.replicas ?? 0) !== 0 || countsOf(s, rs).active !== 0) continue;
    await ctx.objects.delete('ReplicaSet', rs.metadata.namespace, rs.metadata.name).catch((err) => {
      if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
    });
  }
}
