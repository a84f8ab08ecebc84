/**
 * HorizontalPodAutoscaler (autoscaling/v2, a subset): Resource metrics (cpu, memory) against the pods'
 * requests, and External metrics read from MQTT — the edge-native signal: a number a sensor or a
 * queue publishes on `skiff/v1/metrics/{external.metric.name}` (docs/workloads.md).
 */
import type { Checker } from '../check.js';
import { parseQuantity } from '../quantity.js';
import type { Condition, KObject } from '../types.js';

/** What a metric is compared with. */
export interface MetricTarget {
  type: 'Utilization' | 'Value' | 'AverageValue';
  averageUtilization?: number;
  value?: string | number;
  averageValue?: string | number;
}

/** One metric of an HPA. */
export type MetricSpec =
  | { type: 'Resource'; resource: { name: 'cpu' | 'memory'; target: MetricTarget } }
  | { type: 'External'; external: { metric: { name: string }; target: MetricTarget } };

/** A metric's current value in status.currentMetrics (autoscaling/v2 MetricStatus, the fields Skiff fills). */
export type MetricStatus =
  | { type: 'Resource'; resource: { name: 'cpu' | 'memory'; current: { averageUtilization?: number; averageValue?: string } } }
  | { type: 'External'; external: { metric: { name: string }; current: { value?: string; averageValue?: string } } };

/** One scaling direction's behaviour (only the stabilization window is honoured). */
export interface ScalingRules {
  stabilizationWindowSeconds?: number;
}

/** A HorizontalPodAutoscaler. */
export interface HorizontalPodAutoscaler extends KObject {
  kind: 'HorizontalPodAutoscaler';
  spec: {
    scaleTargetRef: { apiVersion?: string; kind: ScalableKind; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: MetricSpec[];
    behavior?: { scaleUp?: ScalingRules; scaleDown?: ScalingRules };
  };
  status?: {
    observedGeneration?: number;
    lastScaleTime?: string;
    currentReplicas: number;
    desiredReplicas: number;
    currentMetrics?: MetricStatus[];
    conditions?: Condition[];
  };
}

/** Kinds an HPA can scale (they have spec.replicas). */
export const scalableKinds = ['Deployment', 'ReplicaSet'] as const;

/** A kind an HPA can scale. */
export type ScalableKind = (typeof scalableKinds)[number];

/** An external metric's name becomes MQTT topic levels: letters, digits, ".", "_", "-", levels split by "/". */
const metricName = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

function checkTarget(c: Checker, t: unknown, f: string, allowed: readonly MetricTarget['type'][]): void {
  if (!c.object(t, f, true)) return;
  if (!c.oneOf(t.type, `${f}.type`, allowed, true)) return;
  const need = { Utilization: 'averageUtilization', Value: 'value', AverageValue: 'averageValue' }[t.type as MetricTarget['type']];
  for (const k of ['averageUtilization', 'value', 'averageValue'])
    if (k !== need && t[k] !== undefined) c.fail(`${f}.${k}`, `must not be set when type is ${t.type}`);
  if (need === 'averageUtilization') c.int(t.averageUtilization, `${f}.averageUtilization`, 1, Infinity, true);
  else if (c.required(t[need], `${f}.${need}`) && c.quantity(t[need], `${f}.${need}`) && !(parseQuantity(t[need])! > 0))
    c.fail(`${f}.${need}`, 'must be greater than 0', t[need]);
}

function checkMetric(c: Checker, m: unknown, f: string): void {
  if (!c.object(m, f, true)) return;
  if (!c.oneOf(m.type, `${f}.type`, ['Resource', 'External'], true)) return;
  for (const other of ['resource', 'external', 'pods', 'object', 'containerResource'])
    if (other !== m.type.toLowerCase() && m[other] !== undefined) c.fail(`${f}.${other}`, `must not be set when type is ${m.type}`);
  if (m.type === 'Resource') {
    if (!c.object(m.resource, `${f}.resource`, true)) return;
    c.oneOf(m.resource.name, `${f}.resource.name`, ['cpu', 'memory'], true);
    checkTarget(c, m.resource.target, `${f}.resource.target`, ['Utilization', 'AverageValue']);
  } else {
    if (!c.object(m.external, `${f}.external`, true)) return;
    if (c.object(m.external.metric, `${f}.external.metric`, true) && c.string(m.external.metric.name, `${f}.external.metric.name`, true) && !metricName.test(m.external.metric.name))
      c.fail(`${f}.external.metric.name`, 'must be MQTT topic levels of letters, digits, ".", "_" or "-" split by "/" (read from skiff/v1/metrics/NAME)', m.external.metric.name);
    checkTarget(c, m.external.target, `${f}.external.target`, ['Value', 'AverageValue']);
  }
}

/** Checks an HPA's spec as autoscaling/v2 does (for the subset Skiff serves). */
export function checkHpa(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  const s = o.spec;
  if (c.object(s.scaleTargetRef, 'spec.scaleTargetRef', true)) {
    c.oneOf(s.scaleTargetRef.kind, 'spec.scaleTargetRef.kind', scalableKinds, true);
    c.dnsSubdomain(s.scaleTargetRef.name, 'spec.scaleTargetRef.name', true);
    c.string(s.scaleTargetRef.apiVersion, 'spec.scaleTargetRef.apiVersion');
  }
  const minOk = c.int(s.minReplicas, 'spec.minReplicas', 1);
  if (c.int(s.maxReplicas, 'spec.maxReplicas', 1, Infinity, true) && minOk && s.minReplicas > s.maxReplicas)
    c.fail('spec.maxReplicas', `must be ≥ spec.minReplicas (${s.minReplicas})`, s.maxReplicas);
  if (c.array(s.metrics, 'spec.metrics')) s.metrics.forEach((m: unknown, i: number) => checkMetric(c, m, `spec.metrics[${i}]`));
  if (c.object(s.behavior, 'spec.behavior'))
    for (const dir of ['scaleUp', 'scaleDown'])
      if (c.object(s.behavior[dir], `spec.behavior.${dir}`)) {
        c.int(s.behavior[dir].stabilizationWindowSeconds, `spec.behavior.${dir}.stabilizationWindowSeconds`, 0, 3600);
        if (s.behavior[dir].policies !== undefined) c.fail(`spec.behavior.${dir}.policies`, 'are not supported by Skiff (only stabilizationWindowSeconds)');
      }
}

/** HPA defaults, as in autoscaling/v2: minReplicas 1, cpu at 80 % utilization, scale-down window 300 s, scale-up 0 s. */
export function defaultHpa(o: HorizontalPodAutoscaler): void {
  const s = o.spec;
  s.minReplicas ??= 1;
  if (!s.metrics || s.metrics.length === 0) s.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  s.behavior ??= {};
  s.behavior.scaleUp ??= {};
  s.behavior.scaleUp.stabilizationWindowSeconds ??= 0;
  s.behavior.scaleDown ??= {};
  s.behavior.scaleDown.stabilizationWindowSeconds ??= 300;
  s.scaleTargetRef.apiVersion ??= 'apps/v1';
}
