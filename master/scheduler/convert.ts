/** Converts Kubernetes-shaped Pods and Nodes into the engine's integer records (core-wasm/types.ts). */
import { bytes, cpuMilli, isReady, podTotal, type LabelSelector, type Node, type NodeSelectorRequirement, type Pod, type Taint } from '../../protocol/index.js';
import type { EngineNode, EnginePod } from '../../core-wasm/types.js';

/** A selector no pod matches (labels.Nothing()): `In` over no values never holds. */
export const matchesNothing: LabelSelector = { matchExpressions: [{ key: 'skiff.io/no-selector', operator: 'In', values: [] }] };

/** The taint Kubernetes puts on a node that is not Ready (scheduling side). */
export const notReadyTaint: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

/** The engine's view of a node: allocatable in integer units, labels, taints (plus not-ready), runtimes. */
export function engineNode(n: Node): EngineNode {
  const a = n.status?.allocatable;
  const taints = [...(n.spec?.taints ?? [])];
  if (!isReady(n)) taints.push(notReadyTaint);
  return {
    name: n.metadata.name,
    allocatable: {
      cpuMilli: cpuMilli(a?.cpu) ?? 0,
      memoryBytes: bytes(a?.memory) ?? 0,
      pods: Number(a?.pods ?? 0) || 0,
      ephemeralBytes: bytes(a?.['ephemeral-storage']) ?? 0,
    },
    labels: { ...(n.metadata.labels ?? {}) },
    taints: taints.map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
    unschedulable: !!n.spec?.unschedulable,
    runtimes: n.status?.nodeInfo?.runtimes ?? ['process'],
    images: (n.status?.images ?? []).flatMap((i) => i.names),
  };
}

/** The driver a pod needs: spec.runtimeClassName, else container when an image is set, else process. */
export function podRuntime(p: Pod): string {
  return p.spec.runtimeClassName ?? (p.spec.containers.some((c) => c.image) ? 'container' : 'process');
}

/** The most terms a combined required node affinity keeps (a pod with many volumes on one node needs one). */
const maxTerms = 64;

/**
 * ANDs required node-affinity term lists (each a list of ORed terms, a term's expressions ANDed):
 * (A1 ∨ A2) ∧ (B1) = (A1 ∧ B1) ∨ (A2 ∧ B1). `base` undefined constrains nothing. Used to add the node
 * affinity of a pod's volumes to its own (a local volume's pod runs on the volume's node).
 */
export function andTerms(base: NodeSelectorRequirement[][] | undefined, more: readonly NodeSelectorRequirement[][][]): NodeSelectorRequirement[][] | undefined {
  let out = base;
  for (const alternatives of more) {
    if (!out) {
      out = alternatives.map((t) => [...t]);
      continue;
    }
    const next: NodeSelectorRequirement[][] = [];
    for (const a of out) for (const b of alternatives) if (next.length < maxTerms) next.push([...a, ...b]);
    out = next;
  }
  return out;
}

type Amounts = [cpu: number, mem: number, eph: number];

/** A container's requests, defaulted from its limits as Kubernetes does when only limits are given. */
function requestsOf(c: Pod['spec']['containers'][number]): Amounts {
  const r = c.resources?.requests ?? {};
  const l = c.resources?.limits ?? {};
  return [cpuMilli(r.cpu ?? l.cpu) ?? 0, bytes(r.memory ?? l.memory) ?? 0, bytes(r['ephemeral-storage'] ?? l['ephemeral-storage']) ?? 0];
}

/** What a pod asks of a node: its requests of each resource over init, sidecar and app containers (protocol/pod-resources.ts). */
export function podRequests(p: Pod): Amounts {
  return [podTotal(p, (c) => requestsOf(c)[0]), podTotal(p, (c) => requestsOf(c)[1]), podTotal(p, (c) => requestsOf(c)[2])];
}

/**
 * The engine's view of a pod: its requests, selectors, affinity, tolerations, host ports, spread.
 * `volumeTerms`: the node affinity of its volumes (scheduler/volumes.ts), ANDed with its own.
 */
export function enginePod(p: Pod, volumeTerms: readonly NodeSelectorRequirement[][][] = []): EnginePod {
  const [cpu, mem, eph] = podRequests(p);
  const na = p.spec.affinity?.nodeAffinity;
  const ns = p.metadata.namespace ?? 'default';
  return {
    key: `${ns}/${p.metadata.name}`,
    namespace: ns,
    labels: { ...(p.metadata.labels ?? {}) },
    requests: { cpuMilli: cpu, memoryBytes: mem, ephemeralBytes: eph },
    nodeSelector: p.spec.nodeSelector,
    requiredNodeTerms: andTerms(na?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms.map((t) => t.matchExpressions ?? []), volumeTerms),
    preferredNodeTerms: na?.preferredDuringSchedulingIgnoredDuringExecution?.map((t) => ({ weight: t.weight, requirements: t.preference.matchExpressions ?? [] })),
    tolerations: p.spec.tolerations?.map((t) => ({ key: t.key, operator: t.operator, value: t.value, effect: t.effect })),
    hostPorts: [...(p.spec.initContainers ?? []), ...p.spec.containers].flatMap((c) => (c.ports ?? []).filter((x) => x.hostPort).map((x) => ({ port: x.hostPort!, protocol: x.protocol! }))),
    // A term without labelSelector matches no pods (core/v1 PodAffinityTerm): it constrains nothing.
    antiAffinity: p.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution
      ?.filter((t) => t.labelSelector)
      .map((t) => ({ selector: t.labelSelector!, topologyKey: t.topologyKey })),
    // A constraint without labelSelector counts no pods, yet still needs its key on the node (DoNotSchedule).
    topologySpread: p.spec.topologySpreadConstraints?.map((t) => ({ maxSkew: t.maxSkew, topologyKey: t.topologyKey, whenUnsatisfiable: t.whenUnsatisfiable, selector: t.labelSelector ?? matchesNothing })),
    runtime: podRuntime(p),
    images: p.spec.containers.map((c) => c.image).filter((i): i is string => !!i),
  };
}
