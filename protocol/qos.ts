/**
 * A pod's Quality of Service class, as Kubernetes computes it (pkg/apis/core/helper/qos GetPodQOS) over cpu
 * and memory of every container, init containers included:
 *   BestEffort — no container has a request or limit;
 *   Guaranteed — every container has cpu and memory limits, and its requests equal them;
 *   Burstable  — anything else.
 * A missing request counts as its limit (the API server's defaulting). The agent reports it in
 * `status.qosClass`; it decides the oom_score_adj of a pod's processes there too.
 */
import { bytes, cpuMilli } from './quantity.js';
import type { Container, PodSpec } from './types.js';

/** Kubernetes' QoS classes. */
export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

const resources = ['cpu', 'memory'] as const;

/** A container's positive requests and limits of cpu (millicores) and memory (bytes), requests defaulted from limits. */
function amounts(c: Container): { requests: Map<string, number>; limits: Map<string, number> } {
  const parse = (r: string, q: unknown) => (r === 'cpu' ? cpuMilli(q) : bytes(q)) ?? 0;
  const limits = new Map<string, number>();
  const requests = new Map<string, number>();
  for (const r of resources) {
    const lim = parse(r, c.resources?.limits?.[r]);
    if (lim > 0) limits.set(r, lim);
    const req = c.resources?.requests?.[r] !== undefined ? parse(r, c.resources.requests[r]) : lim;
    if (req > 0) requests.set(r, req);
  }
  return { requests, limits };
}

/** The QoS class of a pod spec. */
export function qosClass(spec: Pick<PodSpec, 'containers' | 'initContainers'>): QosClass {
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    const a = amounts(c);
    for (const [r, v] of a.requests) requests.set(r, (requests.get(r) ?? 0) + v);
    for (const [r, v] of a.limits) limits.set(r, (limits.get(r) ?? 0) + v);
    if (!resources.every((r) => a.limits.has(r))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) for (const [r, v] of requests) if (limits.get(r) !== v) guaranteed = false;
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
