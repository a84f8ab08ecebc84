/**
 * The HorizontalPodAutoscaler controller (autoscaling/v2 subset): every sync period it reads the
 * target's pods and their latest cpu/memory samples (MetricsStore) or an external metric from MQTT,
 * proposes a replica count per metric (replicas.ts), takes the largest, stabilizes it over the
 * behaviour windows, clamps it to min/max and writes the target's spec.replicas.
 */
import { isReady, cpuMilli, bytes, matchesSelector, parseQuantity, type Condition, type HorizontalPodAutoscaler, type MetricSpec, type Pod, type MetricStatus } from '../../../protocol/index.js';
import { realClock } from '../../clock.js';
import { cacheKey, keyOf } from '../../informer.js';
import type { MetricsStore } from '../../metrics.js';
import { WorkQueue } from '../queue.js';
import { isActive, isTerminating } from '../pods.js';
import type { ControllerContext, SyncController } from '../types.js';
import { externalReplicas, resourceReplicas, stabilize, type Proposal, type Recommendation } from './replicas.js';

/** Options of the HPA controller. */
export interface HpaControllerOptions {
  metrics: MetricsStore;
  /** How often every HPA is evaluated (Kubernetes: 15 s). */
  syncPeriodMs: number;
}

/** A metric with the replica count it proposes, or why it proposes none. */
type Proposed = { metric: MetricSpec; proposal: Proposal };
type Measured = Proposed | { metric: MetricSpec; error: string };
const isProposed = (m: Measured): m is Proposed => 'proposal' in m;

/** A pod's summed request of a resource (requests default to limits, as Kubernetes does). */
function podRequest(p: Pod, resource: 'cpu' | 'memory'): number | undefined {
  let sum = 0;
  for (const c of p.spec.containers) {
    const q = c.resources?.requests?.[resource] ?? c.resources?.limits?.[resource];
    if (q === undefined) return undefined;
    sum += (resource === 'cpu' ? cpuMilli(q) : bytes(q)) ?? 0;
  }
  return sum;
}

/** Starts the HPA controller. */
export function startHpaController(ctx: ControllerContext, opts: HpaControllerOptions): SyncController {
  const { informers, objects, events } = ctx;
  const clock = ctx.clock ?? realClock;
  const history = new Map<string, Recommendation[]>();
  const queue = new WorkQueue('hpa', sync, ctx.log, clock);
  const all = () => informers.list('HorizontalPodAutoscaler').forEach((h) => queue.add(cacheKey(h.metadata.namespace, h.metadata.name)));
  informers.on('HorizontalPodAutoscaler', (h, _old, o) => {
    if (!h) history.delete(keyOf(o));
    queue.add(keyOf(o));
  });
  const timer = clock.every(opts.syncPeriodMs, all);

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const hpa = informers.get('HorizontalPodAutoscaler', ns, name);
    if (!hpa || isTerminating(hpa)) return;
    const now = clock.now();
    const cond = condition(new Date(now).toISOString());
    const ref = hpa.spec.scaleTargetRef;
    const target = informers.get(ref.kind, ns, ref.name);
    if (!target) return writeStatus(hpa, 0, 0, [], [cond('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${ref.kind.toLowerCase()}s "${ref.name}" not found`)]);
    const current = target.spec.replicas ?? 1;
    if (current === 0)
      return writeStatus(hpa, 0, 0, [], [cond('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale'), cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero')]);
    const pods = informers.list('Pod', ns).filter((p) => isActive(p) && matchesSelector(target.spec.selector, p.metadata.labels));
    const measured = (hpa.spec.metrics ?? []).map((m) => measure(m, current, pods, now));
    const ok = measured.filter(isProposed);
    const conditions: Condition[] = [cond('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale')];
    if (ok.length === 0) {
      const why = measured.map((m) => ('error' in m ? m.error : '')).join('; ');
      conditions.push(cond('ScalingActive', 'False', 'FailedGetMetrics', `the HPA was unable to compute the replica count: ${why}`));
      return writeStatus(hpa, current, current, measured, conditions);
    }
    conditions.push(cond('ScalingActive', 'True', 'ValidMetricFound', 'the HPA was able to successfully calculate a replica count'));
    const proposed = Math.max(...ok.map((m) => m.proposal.replicas));
    const recs = [...(history.get(key) ?? []), { at: now, replicas: proposed }];
    const upMs = (hpa.spec.behavior?.scaleUp?.stabilizationWindowSeconds ?? 0) * 1000;
    const downMs = (hpa.spec.behavior?.scaleDown?.stabilizationWindowSeconds ?? 300) * 1000;
    history.set(key, recs.filter((r) => r.at >= now - Math.max(upMs, downMs)));
    const stable = stabilize(current, recs, now, upMs, downMs);
    const min = hpa.spec.minReplicas ?? 1;
    const desired = Math.min(hpa.spec.maxReplicas, Math.max(min, stable));
    if (desired !== stable) conditions.push(cond('ScalingLimited', 'True', desired > stable ? 'TooFewReplicas' : 'TooManyReplicas', `the desired replica count is ${desired > stable ? 'less' : 'more'} than the ${desired > stable ? 'minimum' : 'maximum'} replica count`));
    else conditions.push(cond('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count is within the acceptable range'));
    let scaled = false;
    if (desired !== current) {
      await objects.mutate(ref.kind, ns, ref.name, (o) => {
        if (o.metadata.uid !== target.metadata.uid) return undefined;
        o.spec.replicas = desired;
        return o;
      });
      scaled = true;
      const top = ok.reduce((a, b) => (b.proposal.replicas > a.proposal.replicas ? b : a));
      events.object('HorizontalPodAutoscaler', ns, name, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${describeMetric(top.metric)} ${desired > current ? 'above' : 'below'} target`);
    }
    await writeStatus(hpa, current, desired, measured, conditions, scaled ? now : undefined);
  }

  function measure(m: MetricSpec, current: number, pods: Pod[], now: number): Measured {
    if (m.type === 'External') {
      const s = opts.metrics.externalValue(m.external.metric.name);
      if (!s) return { metric: m, error: `no value yet on external metric "${m.external.metric.name}"` };
      const t = m.external.target;
      const q = (v: unknown) => parseQuantity(v)!;
      return { metric: m, proposal: externalReplicas(current, s.value, t.type === 'AverageValue' ? { averageValue: q(t.averageValue) } : { value: q(t.value) }) };
    }
    const resource = m.resource.name;
    const usage = pods.map((p) => {
      const request = podRequest(p, resource);
      const s = opts.metrics.pod(p.metadata.namespace!, p.metadata.name, p.metadata.uid, now);
      return { request, usage: s ? (resource === 'cpu' ? s.cpuMilli : s.memoryBytes) : undefined, ready: isReady(p) };
    });
    const t = m.resource.target;
    if (t.type === 'Utilization' && usage.some((u) => !u.request)) return { metric: m, error: `missing request for ${resource}` };
    const target = t.type === 'Utilization' ? { utilization: t.averageUtilization! } : { averageValue: resource === 'cpu' ? cpuMilli(t.averageValue)! : bytes(t.averageValue)! };
    const p = resourceReplicas(current, usage.map((u) => ({ ...u, request: u.request ?? 0 })), target);
    return p ? { metric: m, proposal: p } : { metric: m, error: `no ${resource} metrics returned for the target's pods yet` };
  }

  /** Writes status; `scaledAt` (ms) when this sync changed the target's replicas. */
  async function writeStatus(hpa: HorizontalPodAutoscaler, current: number, desired: number, measured: Measured[], conditions: Condition[], scaledAt?: number): Promise<void> {
    await objects.mutate('HorizontalPodAutoscaler', hpa.metadata.namespace, hpa.metadata.name, (cur) => {
      if (cur.metadata.uid !== hpa.metadata.uid) return undefined;
      const prev = cur.status?.conditions ?? [];
      cur.status = {
        ...(cur.status ?? {}),
        observedGeneration: cur.metadata.generation,
        currentReplicas: current,
        desiredReplicas: desired,
        currentMetrics: measured.filter(isProposed).map(currentMetric),
        // Keep lastTransitionTime while a condition's status stays the same.
        conditions: conditions.map((c) => {
          const p = prev.find((x) => x.type === c.type);
          return p && p.status === c.status ? { ...c, lastTransitionTime: p.lastTransitionTime } : c;
        }),
        ...(scaledAt !== undefined ? { lastScaleTime: new Date(scaledAt).toISOString() } : {}),
      };
      return cur;
    });
  }

  return {
    name: 'hpa',
    idle: () => queue.idle(),
    sync,
    stop() {
      timer.cancel();
      queue.stop();
    },
  };
}

/** A condition maker stamping `at` as lastTransitionTime (kept by writeStatus while the status stays). */
function condition(at: string): (type: string, status: Condition['status'], reason: string, message: string) => Condition {
  return (type, status, reason, message) => ({ type, status, reason, message, lastTransitionTime: at });
}

function describeMetric(m: MetricSpec): string {
  if (m.type === 'External') return `external metric ${m.external.metric.name}`;
  return m.resource.target.type === 'Utilization' ? `${m.resource.name} resource utilization (percentage of request)` : `${m.resource.name} resource`;
}

/** status.currentMetrics entry, autoscaling/v2 shaped. */
function currentMetric({ metric: m, proposal: p }: Proposed): MetricStatus {
  if (m.type === 'External')
    return { type: 'External', external: { metric: { name: m.external.metric.name }, current: m.external.target.type === 'AverageValue' ? { averageValue: String(p.current) } : { value: String(p.current) } } };
  if (m.resource.target.type === 'Utilization') return { type: 'Resource', resource: { name: m.resource.name, current: { averageUtilization: p.current } } };
  return { type: 'Resource', resource: { name: m.resource.name, current: { averageValue: m.resource.name === 'cpu' ? `${p.current}m` : String(p.current) } } };
}
