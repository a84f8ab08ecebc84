/**
 * What one Deployment sync looks at, and the pure arithmetic of a rollout: the surge and
 * unavailability fenceposts (Kubernetes' deployment/util ResolveFenceposts) and replica counts.
 */
import type { Deployment, ReplicaSet } from '../../../protocol/index.js';
import type { PodCounts } from './tally.js';

/** The annotation carrying a ReplicaSet's revision number (as Kubernetes). */
export const revisionAnnotation = 'deployment.kubernetes.io/revision';
/** Earlier revisions a ReplicaSet had before a rollback re-used it (comma-separated). */
export const revisionHistoryAnnotation = 'deployment.kubernetes.io/revision-history';
/** The Deployment's replicas when the ReplicaSet was last scaled by it (spots scaling events). */
export const desiredReplicasAnnotation = 'deployment.kubernetes.io/desired-replicas';
/** replicas + maxSurge when the ReplicaSet was last scaled (the base of proportional scaling). */
export const maxReplicasAnnotation = 'deployment.kubernetes.io/max-replicas';
/** Why a revision was made; copied from the Deployment to its ReplicaSets, shown by `rollout history`. */
export const changeCauseAnnotation = 'kubernetes.io/change-cause';

/** A Deployment with its ReplicaSets (the new one, if it exists, and the old ones) and their pods. */
export interface RolloutState {
  d: Deployment;
  newRS?: ReplicaSet;
  oldRSs: ReplicaSet[];
  /** Pod counts by controlling ReplicaSet uid (tally.ts), availability judged at `now`. */
  counts: Map<string, PodCounts>;
  /** When the sync began (ms since epoch, from the controller's clock): availability and deadlines are judged at this time. */
  now: number;
}

/** Revision number of a ReplicaSet (0 when unset). */
export function revisionOf(rs: ReplicaSet): number {
  return Number(rs.metadata.annotations?.[revisionAnnotation] ?? 0) || 0;
}

/** The highest revision among ReplicaSets (0 for none). */
export function maxRevision(rss: ReplicaSet[]): number {
  return Math.max(0, ...rss.map(revisionOf));
}

/** spec.replicas of a Deployment or ReplicaSet (apps/v1 defaults it to 1). */
export function specReplicas(o: Deployment | ReplicaSet): number {
  return o.spec.replicas ?? 1;
}

/** Sum of spec.replicas (Kubernetes' GetReplicaCountForReplicaSets). */
export function replicaCount(rss: (ReplicaSet | undefined)[]): number {
  return rss.reduce((n, rs) => n + (rs ? specReplicas(rs) : 0), 0);
}

/** ReplicaSets with replicas wanted (FilterActiveReplicaSets). */
export function activeReplicaSets(rss: (ReplicaSet | undefined)[]): ReplicaSet[] {
  return rss.filter((rs): rs is ReplicaSet => !!rs && specReplicas(rs) > 0);
}

/** Oldest first; ties by name (ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  return Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '') || a.metadata.name.localeCompare(b.metadata.name);
}

const none: PodCounts = { active: 0, ready: 0, available: 0, unfinished: 0, availableAt: [] };

/** The pod counts of a ReplicaSet. */
export function countsOf(s: RolloutState, rs: ReplicaSet | undefined): PodCounts {
  return (rs && s.counts.get(rs.metadata.uid!)) || none;
}

/**
 * Available replicas of a ReplicaSet, counted from its pods rather than from its status, and capped
 * at spec.replicas: a pod the ReplicaSet is about to delete (status lagging a scale-down) is never
 * counted, so a rolling update never scales down on availability it is about to lose.
 */
export function availableOf(s: RolloutState, rs: ReplicaSet | undefined): number {
  return rs ? Math.min(countsOf(s, rs).available, specReplicas(rs)) : 0;
}

/** Ready pods of a ReplicaSet, capped like availableOf. */
export function readyOf(s: RolloutState, rs: ReplicaSet | undefined): number {
  return rs ? Math.min(countsOf(s, rs).ready, specReplicas(rs)) : 0;
}

/** Every ReplicaSet of the state, the new one last. */
export function allReplicaSets(s: RolloutState): ReplicaSet[] {
  return s.newRS ? [...s.oldRSs, s.newRS] : [...s.oldRSs];
}

/**
 * An int-or-percent of `total`: percentages round up for maxSurge and down for maxUnavailable
 * (intstr.GetScaledValueFromIntOrPercent).
 */
export function scaledValue(v: number | string | undefined, total: number, roundUp: boolean): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const pct = Number(v.replace('%', ''));
  return roundUp ? Math.ceil((pct * total) / 100) : Math.floor((pct * total) / 100);
}

/**
 * maxSurge and maxUnavailable as pod counts (ResolveFenceposts): when both resolve to 0,
 * unavailability becomes 1 so the rollout can move; maxUnavailable never exceeds replicas.
 * Recreate (and a Deployment scaled to 0) allows neither.
 */
export function fenceposts(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const ru = d.spec.strategy?.rollingUpdate;
  if ((d.spec.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate') return { maxSurge: 0, maxUnavailable: 0 };
  const want = specReplicas(d);
  const maxSurge = scaledValue(ru?.maxSurge ?? '25%', want, true);
  let maxUnavailable = scaledValue(ru?.maxUnavailable ?? '25%', want, false);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: want === 0 ? 0 : Math.min(maxUnavailable, want) };
}
