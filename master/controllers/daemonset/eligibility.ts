/**
 * Which nodes a DaemonSet runs on (Kubernetes' nodeShouldRunDaemonPod): the template's nodeSelector and
 * required node affinity match the node's labels, and the node's NoSchedule/NoExecute taints are
 * tolerated — with the tolerations Kubernetes adds to every daemon pod. Resources are left to the
 * scheduler, so a pod that does not fit stays Pending with the engine's explanation.
 */
import type { DaemonSet, Node, NodeSelectorRequirement, NodeSelectorTerm, Pod, Toleration } from '../../../protocol/index.js';
import { tolerates } from '../../../core-wasm/index.js';
import { unreachableTaint } from '../nodelifecycle.js';

/** The node label the daemon pods' affinity names (the master sets it to the node name on every node). */
export const hostnameLabel = 'kubernetes.io/hostname';

/**
 * Tolerations Kubernetes' DaemonSet controller adds (AddOrUpdateDaemonPodTolerations), plus Skiff's own
 * unreachable taint: a daemon pod stays on a node that is down or cordoned, and lands on a not-ready one.
 */
export const daemonTolerations: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: unreachableTaint, operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** The template's tolerations plus the daemon ones it does not already have. */
export function withDaemonTolerations(own: Toleration[] | undefined): Toleration[] {
  const list = [...(own ?? [])];
  for (const t of daemonTolerations) if (!list.some((x) => x.key === t.key && x.effect === t.effect && x.operator === t.operator)) list.push(t);
  return list;
}

/** One node-selector requirement against labels (core/v1: In, NotIn, Exists, DoesNotExist, Gt, Lt). */
function requirementHolds(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key] : '';
  switch (r.operator) {
    case 'In':
      return has && (r.values ?? []).includes(v);
    case 'NotIn':
      return !has || !(r.values ?? []).includes(v);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      const a = Number.parseInt(v ?? '', 10);
      const b = Number.parseInt(r.values?.[0] ?? '', 10);
      if (!has || Number.isNaN(a) || Number.isNaN(b)) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
  }
}

/** Required node-selector terms against a node's labels: the terms are ORed, a term's expressions ANDed; an empty term matches nothing. */
export function termsMatch(terms: readonly NodeSelectorTerm[], labels: Record<string, string>): boolean {
  return terms.some((t) => (t.matchExpressions?.length ?? 0) > 0 && (t.matchExpressions ?? []).every((r) => requirementHolds(r, labels)));
}

/** True when a node should run the DaemonSet's pod. */
export function shouldRun(ds: DaemonSet, node: Node): boolean {
  const spec = ds.spec.template.spec;
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !termsMatch(terms, labels)) return false;
  const tolerations = withDaemonTolerations(spec.tolerations);
  const taints = [...(node.spec?.taints ?? [])];
  if (node.spec?.unschedulable) taints.push({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
  return taints.every((taint) => taint.effect === 'PreferNoSchedule' || tolerations.some((t) => tolerates(t, taint)));
}

/** The node a daemon pod is meant for: its spec.nodeName, or the node its affinity term names. */
export function targetNode(p: Pod): string | undefined {
  if (p.spec.nodeName) return p.spec.nodeName;
  const terms = p.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) for (const r of t.matchExpressions ?? []) if (r.key === hostnameLabel && r.operator === 'In' && r.values?.length === 1) return r.values[0];
  return undefined;
}

/** Required node affinity pinning a pod to one node (Kubernetes ≥ 1.12 uses matchFields metadata.name; Skiff's engine matches labels). */
export function pinnedTo(node: string): NonNullable<Pod['spec']['affinity']>['nodeAffinity'] {
  return { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: hostnameLabel, operator: 'In', values: [node] }] }] } };
}
