// Tiny builders for engine tests: nodeWith({cpu: '2', taints: [...]}), podWith({memory: '1Gi'}).
import type { EngineNode, EnginePod, EngineTaint } from '../../core-wasm/index.js';

const units: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** Kubernetes quantity to bytes: '512Mi', '1G', '100'. */
export function bytes(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^(\d+(?:\.\d+)?)([a-zA-Z]*)$/.exec(q);
  if (!m || units[m[2]] === undefined) throw new Error(`bad quantity ${q}`);
  return Math.round(Number(m[1]) * units[m[2]]);
}

/** CPU quantity to millicores: '2' → 2000, '250m' → 250. */
export function milli(q: string | number): number {
  if (typeof q === 'number') return q;
  return q.endsWith('m') ? Number(q.slice(0, -1)) : Math.round(Number(q) * 1000);
}

let seq = 0;

/** A node: 4 cpu, 8Gi, 110 pods, 100Gi ephemeral, runtime process+container unless told otherwise. */
export function nodeWith(o: {
  name?: string; cpu?: string | number; memory?: string | number; pods?: number; ephemeral?: string | number;
  labels?: Record<string, string>; taints?: EngineTaint[]; unschedulable?: boolean; runtimes?: string[]; images?: string[];
} = {}): EngineNode {
  const name = o.name ?? `node-${++seq}`;
  return {
    name,
    allocatable: { cpuMilli: milli(o.cpu ?? '4'), memoryBytes: bytes(o.memory ?? '8Gi'), pods: o.pods ?? 110, ephemeralBytes: bytes(o.ephemeral ?? '100Gi') },
    labels: { 'kubernetes.io/hostname': name, ...(o.labels ?? {}) },
    taints: o.taints ?? [],
    unschedulable: o.unschedulable ?? false,
    runtimes: o.runtimes ?? ['process', 'container'],
    images: o.images,
  };
}

/** A pod in namespace default with the given requests (none by default) and runtime process. */
export function podWith(o: Partial<Omit<EnginePod, 'requests'>> & { name?: string; cpu?: string | number; memory?: string | number; ephemeral?: string | number } = {}): EnginePod {
  const { name, cpu, memory, ephemeral, ...rest } = o;
  const ns = rest.namespace ?? 'default';
  return {
    key: `${ns}/${name ?? `pod-${++seq}`}`,
    namespace: ns,
    labels: {},
    runtime: 'process',
    ...rest,
    requests: { cpuMilli: milli(cpu ?? 0), memoryBytes: bytes(memory ?? 0), ephemeralBytes: bytes(ephemeral ?? 0) },
  };
}
