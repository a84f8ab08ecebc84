// The engine bench's workload in the master's shape: Kubernetes Pod and Node objects, a fresh object
// per pod (as the master's informer holds them: every pod read from the store on its own), turned
// into engine records by master/scheduler/convert.ts at scheduling time. Built from the same
// templates as engine-cluster.ts, so both shapes describe the same cluster and should place alike.
import type { EngineNode, EnginePod } from '../core-wasm/index.js';
import { engineNode, enginePod } from '../master/scheduler/convert.js';
import type { Container, Node, Pod } from '../protocol/index.js';
import { benchNodes, benchPods } from './engine-cluster.js';

/** The Kubernetes Pod whose enginePod() is `p` (its name from the key). */
export function podObjectOf(p: EnginePod): Pod {
  const ephemeral = p.requests.ephemeralBytes ? { 'ephemeral-storage': String(p.requests.ephemeralBytes) } : {};
  const container: Container = {
    name: 'main',
    command: ['server'],
    image: p.images?.[0],
    resources: { requests: { cpu: `${p.requests.cpuMilli}m`, memory: String(p.requests.memoryBytes), ...ephemeral } },
    ports: p.hostPorts?.map((h) => ({ containerPort: h.port, hostPort: h.port, protocol: h.protocol })),
  };
  const terms = p.requiredNodeTerms?.map((matchExpressions) => ({ matchExpressions }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: p.key.slice(p.key.indexOf('/') + 1), namespace: p.namespace, labels: { ...p.labels } },
    spec: {
      runtimeClassName: p.runtime,
      containers: [container],
      nodeSelector: p.nodeSelector,
      tolerations: p.tolerations?.map((t) => ({ ...t })),
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: terms && { nodeSelectorTerms: terms },
          preferredDuringSchedulingIgnoredDuringExecution: p.preferredNodeTerms?.map((t) => ({ weight: t.weight, preference: { matchExpressions: t.requirements } })),
        },
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: p.antiAffinity?.map((a) => ({ labelSelector: a.selector, topologyKey: a.topologyKey })) },
      },
      topologySpreadConstraints: p.topologySpread?.map((c) => ({ maxSkew: c.maxSkew, topologyKey: c.topologyKey, whenUnsatisfiable: c.whenUnsatisfiable, labelSelector: c.selector })),
    },
  } as Pod;
}

/** The Kubernetes Node (Ready) whose engineNode() is `n`. */
export function nodeObjectOf(n: EngineNode): Node {
  const a = n.allocatable;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels: { ...n.labels } },
    spec: { unschedulable: n.unschedulable, taints: n.taints.map((t) => ({ ...t })) },
    status: {
      allocatable: { cpu: `${a.cpuMilli}m`, memory: String(a.memoryBytes), pods: String(a.pods), 'ephemeral-storage': String(a.ephemeralBytes) },
      conditions: [{ type: 'Ready', status: 'True' }],
      nodeInfo: { architecture: 'arm64', operatingSystem: 'linux', runtimes: [...n.runtimes] },
      images: (n.images ?? []).map((name) => ({ names: [name] })),
    },
  } as Node;
}

/**
 * The bench's pods as the master has them: a fresh Pod object per replica (structuredClone of its
 * template's object: nothing is shared between replicas, as with objects decoded from the store).
 */
export function benchPodObjects(count: number): Pod[] {
  return benchPods(count).map((p) => structuredClone(podObjectOf(p)));
}

/** The bench's nodes as Node objects. */
export function benchNodeObjects(count: number): Node[] {
  return benchNodes(count).map(nodeObjectOf);
}

/**
 * Checks that converting the objects back gives the engine-shaped workload (same keys and fields),
 * so the two shapes are one cluster; returns the first difference, or undefined.
 */
export function shapeMismatch(pods: EnginePod[], objects: Pod[], nodes: EngineNode[], nodeObjects: Node[]): string | undefined {
  // Key order, absent fields and empty lists are not differences.
  const norm = (x: unknown): string =>
    JSON.stringify(x, (_k, v) => {
      if (Array.isArray(v)) return v.length === 0 ? undefined : v;
      if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]));
      return v;
    });
  for (let i = 0; i < pods.length; i++) if (norm(enginePod(objects[i])) !== norm(pods[i])) return `pod ${pods[i].key}: ${norm(enginePod(objects[i]))} ≠ ${norm(pods[i])}`;
  for (let i = 0; i < nodes.length; i++) if (norm(engineNode(nodeObjects[i])) !== norm(nodes[i])) return `node ${nodes[i].name}: ${norm(engineNode(nodeObjects[i]))} ≠ ${norm(nodes[i])}`;
  return undefined;
}
