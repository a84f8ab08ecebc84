/**
 * The HPA's arithmetic, as Kubernetes' replica calculator (pkg/controller/podautoscaler): a usage
 * ratio against the target, a 10 % tolerance band, missing and unready pods counted against the
 * direction of the change, and stabilization windows over recent recommendations.
 */

/** Ratios within 1 ± tolerance leave the replica count alone (--horizontal-pod-autoscaler-tolerance). */
export const tolerance = 0.1;

/** A pod as the resource calculation sees it: its request, its usage if sampled, whether it is ready. */
export interface PodUsage {
  request: number;
  usage?: number;
  ready: boolean;
}

/** A proposal and the metric's current value (for status). */
export interface Proposal {
  replicas: number;
  /** Utilization percent (Utilization targets) or the average per pod (AverageValue). */
  current: number;
}

const within = (ratio: number) => Math.abs(ratio - 1) <= tolerance;

/**
 * Replicas for a Resource metric (GetResourceReplicas): `target` is a utilization percent (of requests)
 * or, with `averageValue`, an absolute usage per pod. desired = ceil(ratio × pods with metrics), where
 * ratio = usage / target. Pods without a sample count as 100 % on a scale down and 0 % on a scale up;
 * unready pods count as 0 % on a scale up; if that flips the direction, nothing changes.
 */
export function resourceReplicas(current: number, pods: PodUsage[], target: { utilization?: number; averageValue?: number }): Proposal | undefined {
  const measured = pods.filter((p) => p.usage !== undefined && p.ready);
  if (measured.length === 0) return undefined;
  const ratioOf = (ps: { usage: number; request: number }[]) => {
    const usage = ps.reduce((a, p) => a + p.usage, 0);
    if (target.averageValue !== undefined) return { ratio: usage / ps.length / target.averageValue, current: usage / ps.length };
    const request = ps.reduce((a, p) => a + p.request, 0);
    const util = (usage * 100) / request;
    return { ratio: util / target.utilization!, current: util };
  };
  const base = ratioOf(measured as { usage: number; request: number }[]);
  const missing = pods.filter((p) => p.usage === undefined);
  const unready = pods.filter((p) => p.usage !== undefined && !p.ready);
  if (missing.length === 0 && unready.length === 0)
    return { replicas: within(base.ratio) ? current : Math.ceil(base.ratio * measured.length), current: Math.round(base.current) };
  if (within(base.ratio)) return { replicas: current, current: Math.round(base.current) };
  const up = base.ratio > 1;
  const fill = (p: PodUsage) => ({ request: p.request, usage: up ? 0 : target.averageValue ?? p.request }) as { request: number; usage: number };
  const all = [...(measured as { usage: number; request: number }[]), ...missing.map(fill), ...(up ? unready.map(fill) : [])];
  const adjusted = ratioOf(all);
  if (within(adjusted.ratio) || adjusted.ratio > 1 !== up) return { replicas: current, current: Math.round(base.current) };
  return { replicas: Math.ceil(adjusted.ratio * all.length), current: Math.round(base.current) };
}

/**
 * Replicas for an External metric: Value targets compare the number itself (ratio = value / target,
 * desired = ceil(ratio × current)); AverageValue targets divide it among pods (desired = ceil(value / target)).
 */
export function externalReplicas(current: number, value: number, target: { value?: number; averageValue?: number }): Proposal {
  if (target.averageValue !== undefined) {
    const ratio = value / (target.averageValue * current);
    return { replicas: within(ratio) ? current : Math.ceil(value / target.averageValue), current: value / current };
  }
  const ratio = value / target.value!;
  return { replicas: within(ratio) ? current : Math.ceil(ratio * current), current: value };
}

/** A past recommendation. */
export interface Recommendation {
  at: number;
  replicas: number;
}

/**
 * Stabilization (stabilizeRecommendationWithBehaviors): scaling up goes only as high as the lowest
 * recommendation within the scale-up window; scaling down only as low as the highest within the
 * scale-down window. `history` includes the newest recommendation.
 */
export function stabilize(current: number, history: Recommendation[], now: number, upWindowMs: number, downWindowMs: number): number {
  const latest = history[history.length - 1].replicas;
  let up = latest;
  let down = latest;
  for (const r of history) {
    if (r.at >= now - upWindowMs) up = Math.min(up, r.replicas);
    if (r.at >= now - downWindowMs) down = Math.max(down, r.replicas);
  }
  if (current < up) return up;
  if (current > down) return down;
  return current;
}
