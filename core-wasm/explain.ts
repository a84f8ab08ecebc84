// Placement messages as kube-scheduler prints them (framework FitError.Error):
// `0/5 nodes are available: 3 Insufficient memory, 2 node(s) had untolerated taint {gpu: NoSchedule}.`
import { tolerated } from './toleration.js';
import {
  R_AFFINITY, R_ANTI, R_CPU, R_EPHEMERAL, R_MEMORY, R_PODS, R_PORTS, R_RUNTIME, R_SPREAD, R_TAINT, R_UNSCHEDULABLE,
} from './reference/layout.js';
import type { EngineNode, EnginePod, ReasonCode } from './types.js';

/** Reason codes by kernel number (the filter order). */
export const reasonCodes: Record<number, ReasonCode> = {
  [R_UNSCHEDULABLE]: 'Unschedulable',
  [R_RUNTIME]: 'RuntimeUnavailable',
  [R_TAINT]: 'UntoleratedTaint',
  [R_AFFINITY]: 'NodeSelectorMismatch',
  [R_PORTS]: 'HostPortConflict',
  [R_PODS]: 'TooManyPods',
  [R_CPU]: 'InsufficientCPU',
  [R_MEMORY]: 'InsufficientMemory',
  [R_EPHEMERAL]: 'InsufficientEphemeralStorage',
  [R_SPREAD]: 'TopologySpread',
  [R_ANTI]: 'PodAntiAffinity',
};

/** Kubernetes' wording of each reason (the taint and runtime texts get their details in `explain`). */
export const reasonTexts: Record<ReasonCode, string> = {
  Unschedulable: 'node(s) were unschedulable',
  RuntimeUnavailable: "node(s) didn't have runtime",
  UntoleratedTaint: 'node(s) had untolerated taint',
  NodeSelectorMismatch: "node(s) didn't match Pod's node affinity/selector",
  HostPortConflict: "node(s) didn't have free ports for the requested pod ports",
  TooManyPods: 'Too many pods',
  InsufficientCPU: 'Insufficient cpu',
  InsufficientMemory: 'Insufficient memory',
  InsufficientEphemeralStorage: 'Insufficient ephemeral-storage',
  TopologySpread: "node(s) didn't match pod topology spread constraints",
  PodAntiAffinity: "node(s) didn't match pod anti-affinity rules",
};

/**
 * The first NoSchedule/NoExecute taint of the node the pod does not tolerate, as `{key: value}`
 * (taint_toleration.go); a taint without a value shows its effect: `{gpu: NoSchedule}`.
 */
export function untoleratedTaintText(node: EngineNode, pod: EnginePod): string | undefined {
  for (const t of node.taints) {
    if (t.effect === 'PreferNoSchedule' || tolerated(pod.tolerations, t)) continue;
    return `{${t.key}: ${t.value ? t.value : t.effect}}`;
  }
  return undefined;
}

/**
 * The message for an unplaced pod. Lines are ordered by count (largest first), then text. The
 * UntoleratedTaint count is split by taint text: `taintNodes` are the nodes whose first failing
 * filter was the taint filter (the filters before it are static, so the host can tell).
 */
export function explain(total: number, reasons: Partial<Record<ReasonCode, number>>, pod: EnginePod, taintNodes: EngineNode[]): string {
  if (total === 0) return '0/0 nodes are available.';
  const lines = new Map<string, number>();
  for (const [code, count] of Object.entries(reasons) as [ReasonCode, number][]) {
    if (code === 'UntoleratedTaint') continue;
    const text = code === 'RuntimeUnavailable' ? `${reasonTexts[code]} ${pod.runtime}` : reasonTexts[code];
    lines.set(text, (lines.get(text) ?? 0) + count);
  }
  if (reasons.UntoleratedTaint) {
    let rest = reasons.UntoleratedTaint;
    for (const node of taintNodes) {
      const text = `${reasonTexts.UntoleratedTaint} ${untoleratedTaintText(node, pod) ?? ''}`.trimEnd();
      lines.set(text, (lines.get(text) ?? 0) + 1);
      rest--;
    }
    if (rest > 0) lines.set(reasonTexts.UntoleratedTaint, (lines.get(reasonTexts.UntoleratedTaint) ?? 0) + rest);
  }
  const parts = [...lines].sort(([ta, a], [tb, b]) => b - a || (ta < tb ? -1 : ta > tb ? 1 : 0)).map(([t, c]) => `${c} ${t}`);
  return `0/${total} nodes are available: ${parts.join(', ')}.`;
}
