/**
 * The pods behind `TYPE/NAME` (logs, port-forward, wait): a workload's or Service's selector, its pods,
 * and kubectl's preference when one pod must be picked (podutils ByLogging: scheduled before not,
 * running before pending, ready before not, older first).
 */
import { SkiffError, formatSelector, isReady, kindOf, type AnyObject, type LabelSelector, type Pod, type PodSpec, type StringMap } from '../protocol/index.js';
import { resourceType } from './format/output.js';
import type { Api } from './types.js';

/** How an object selects pods: a workload's LabelSelector, a Service's label map; undefined for other kinds. */
export function podSelector(o: AnyObject): LabelSelector | StringMap | undefined {
  return o.kind === 'Service' ? o.spec?.selector : workloadSelector(o);
}

/** A workload's label selector (Deployment, ReplicaSet, DaemonSet, Job); undefined for other kinds. */
export function workloadSelector(o: AnyObject): LabelSelector | undefined {
  switch (o.kind) {
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'Job':
      return o.spec?.selector;
    default:
      return undefined;
  }
}

/** A Pod's spec, or the pod template's spec of a workload; undefined for other kinds. */
export function podSpecOf(o: AnyObject): PodSpec | undefined {
  switch (o.kind) {
    case 'Pod':
      return o.spec;
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'Job':
      return o.spec?.template?.spec;
    default:
      return undefined;
  }
}

/** The label selector of an object that selects pods, as kubectl's string form; undefined when it has none (a Job selects by owner). */
export function selectorOf(o: AnyObject): string | undefined {
  const sel = podSelector(o);
  return (sel ? formatSelector(sel) : '') || undefined;
}

const phaseRank: Record<string, number> = { Running: 0, Pending: 1, Succeeded: 2, Failed: 2, Unknown: 3 };

/** kubectl's order for picking a pod: scheduled, running, ready, then the oldest. */
export function byLogging(a: Pod, b: Pod): number {
  const scheduled = Number(!a.spec.nodeName) - Number(!b.spec.nodeName);
  if (scheduled) return scheduled;
  const phase = (phaseRank[a.status?.phase ?? 'Unknown'] ?? 3) - (phaseRank[b.status?.phase ?? 'Unknown'] ?? 3);
  if (phase) return phase;
  const ready = Number(!isReady(a)) - Number(!isReady(b));
  if (ready) return ready;
  return (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '');
}

/** The pods a `TYPE/NAME` stands for (a pod stands for itself), in kubectl's preference order. */
export async function podsOf(api: Api, type: string, name: string, namespace: string): Promise<Pod[]> {
  const kind = kindOf(type);
  if (kind.kind === 'Pod') return [await api.request<Pod>('get', { kind: 'Pod', name, namespace })];
  const o = await api.request<AnyObject>('get', { kind: kind.kind, name, namespace });
  const selector = selectorOf(o);
  // Skiff's Jobs select their pods by owner, not by a generated label (protocol/resources/job.ts).
  if (!selector && kind.kind !== 'Job') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${resourceType(o.kind)}/${o.metadata.name} has no pod selector`);
  const list = await api.request<{ items?: Pod[] }>('list', { kind: 'Pod', namespace, ...(selector ? { labelSelector: selector } : {}) });
  const pods = selector ? (list.items ?? []) : (list.items ?? []).filter((p) => p.metadata.ownerReferences?.some((r) => r.controller && r.uid === o.metadata.uid));
  return pods.sort(byLogging);
}
