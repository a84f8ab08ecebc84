// Seeded random clusters and pods for the parity property test and the benchmark: every filter
// and score has something to do (labels, taints, runtimes, images, ports, spread, anti-affinity).
import type { EngineNode, EnginePod, EngineNodeRequirement, EngineTaint } from '../core-wasm/index.js';

/** mulberry32: a small seeded generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const taintPool: EngineTaint[] = [
  { key: 'gpu', value: 'true', effect: 'NoSchedule' },
  { key: 'edge', effect: 'NoExecute' },
  { key: 'old', effect: 'PreferNoSchedule' },
  { key: 'flaky', value: 'yes', effect: 'PreferNoSchedule' },
];
const images = ['app:1', 'app:2', 'db:5', 'cache:3', 'proxy:9'];
const runtimes = ['process', 'container', 'wasi'];

/** A random node; `i` makes the name unique. */
export function randomNode(r: () => number, i: number): EngineNode {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const name = `n${i}`;
  const labels: Record<string, string> = { 'kubernetes.io/hostname': name, zone: `z${Math.floor(r() * 4)}` };
  if (r() < 0.5) labels.disk = pick(['ssd', 'hdd']);
  if (r() < 0.7) labels.cores = String(1 + Math.floor(r() * 16));
  if (r() < 0.1) labels.arch = 'arm64';
  return {
    name,
    allocatable: {
      cpuMilli: pick([500, 1000, 2000, 4000, 8000]),
      memoryBytes: pick([512, 1024, 2048, 4096, 8192]) * 1024 * 1024 + (r() < 0.2 ? Math.floor(r() * 1000) : 0),
      pods: pick([4, 10, 110]),
      ephemeralBytes: pick([0, 10, 100]) * 1024 ** 3,
    },
    labels,
    taints: taintPool.filter(() => r() < 0.12),
    unschedulable: r() < 0.05,
    runtimes: runtimes.filter((_, k) => k === 0 || r() < 0.7),
    images: images.filter(() => r() < 0.3),
  };
}

/** A random pod; `i` makes the key unique; `apps` bounds how many label/selector groups exist. */
export function randomPod(r: () => number, i: number, apps = 6): EnginePod {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const app = `a${Math.floor(r() * apps)}`;
  const req = (): EngineNodeRequirement =>
    pick<EngineNodeRequirement>([
      { key: 'zone', operator: 'In', values: [`z${Math.floor(r() * 4)}`, `z${Math.floor(r() * 4)}`] },
      { key: 'zone', operator: 'NotIn', values: [`z${Math.floor(r() * 4)}`] },
      { key: 'disk', operator: 'Exists' },
      { key: 'arch', operator: 'DoesNotExist' },
      { key: 'cores', operator: 'Gt', values: [String(Math.floor(r() * 8))] },
      { key: 'cores', operator: 'Lt', values: [String(4 + Math.floor(r() * 12))] },
    ]);
  const sel = { matchLabels: { app } };
  const pod: EnginePod = {
    key: `ns${i % 2}/p${i}`,
    namespace: `ns${i % 2}`,
    labels: { app, tier: pick(['web', 'db']) },
    requests: {
      cpuMilli: pick([0, 50, 100, 250, 500, 1000]),
      memoryBytes: pick([0, 64, 128, 256, 512, 1024]) * 1024 * 1024,
      ephemeralBytes: pick([0, 0, 1024 ** 3]),
    },
    runtime: pick(['process', 'process', 'container', 'wasi']),
  };
  if (r() < 0.2) pod.nodeSelector = r() < 0.5 ? { disk: 'ssd' } : { zone: `z${Math.floor(r() * 4)}` };
  if (r() < 0.25) pod.requiredNodeTerms = Array.from({ length: 1 + Math.floor(r() * 2) }, () => Array.from({ length: 1 + Math.floor(r() * 2) }, req));
  if (r() < 0.3) pod.preferredNodeTerms = Array.from({ length: 1 + Math.floor(r() * 2) }, () => ({ weight: 1 + Math.floor(r() * 100), requirements: [req()] }));
  if (r() < 0.4) pod.tolerations = taintPool.filter(() => r() < 0.4).map((t) => (r() < 0.5 ? { key: t.key, operator: 'Exists' as const } : { key: t.key, operator: 'Equal' as const, value: t.value, effect: t.effect }));
  if (r() < 0.1) pod.hostPorts = [{ port: pick([80, 443, 8080]), protocol: pick(['TCP', 'UDP'] as const) }];
  if (r() < 0.1) pod.antiAffinity = [{ selector: sel, topologyKey: pick(['kubernetes.io/hostname', 'zone']) }];
  if (r() < 0.3) {
    pod.topologySpread = [{ maxSkew: 1 + Math.floor(r() * 3), topologyKey: pick(['zone', 'kubernetes.io/hostname']), whenUnsatisfiable: pick(['DoNotSchedule', 'ScheduleAnyway'] as const), selector: sel }];
  }
  if (r() < 0.5) pod.images = images.filter(() => r() < 0.3);
  return pod;
}

/**
 * The benchmark's workload: 20 Deployment-like templates of `pods / 20` replicas each, in
 * creation order; every filter and score has work: selectors and affinity, tolerations, host
 * ports, hostname anti-affinity, zone spread (hard and soft), runtimes, images.
 */
export function benchPods(count: number): EnginePod[] {
  const r = rng(7);
  const templates = Array.from({ length: 20 }, (_, t) => {
    const pod = randomPod(r, t, 20);
    const app = `app${t}`;
    const sel = { matchLabels: { app } };
    pod.labels = { app, tier: t % 2 ? 'web' : 'db' };
    pod.runtime = t % 5 === 4 ? 'container' : 'process';
    pod.requests = { cpuMilli: 50 + 10 * t, memoryBytes: (32 + 8 * t) * 1024 * 1024, ephemeralBytes: t % 3 === 0 ? 1024 ** 3 : 0 };
    pod.tolerations = [{ key: 'edge', operator: 'Exists' }, { key: 'old', operator: 'Exists', effect: 'PreferNoSchedule' }];
    pod.nodeSelector = undefined;
    pod.requiredNodeTerms = t % 4 === 0 ? [[{ key: 'arch', operator: 'DoesNotExist' }]] : [[{ key: 'zone', operator: 'NotIn', values: ['z3'] }], [{ key: 'cores', operator: 'Gt', values: ['2'] }]];
    pod.preferredNodeTerms = [{ weight: 20 + t, requirements: [{ key: 'disk', operator: 'In', values: ['ssd'] }] }];
    pod.hostPorts = t === 7 ? [{ port: 9100, protocol: 'TCP' }] : undefined;
    pod.antiAffinity = t % 5 === 1 ? [{ selector: sel, topologyKey: 'kubernetes.io/hostname' }] : undefined;
    pod.topologySpread = [
      { maxSkew: 5, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', selector: sel },
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', selector: sel },
    ];
    pod.images = [`app:${1 + (t % 2)}`];
    return pod;
  });
  const per = Math.ceil(count / templates.length);
  return Array.from({ length: count }, (_, i) => {
    const tpl = templates[Math.floor(i / per)];
    return { ...tpl, key: `${tpl.namespace}/${tpl.labels.app}-${i}` };
  });
}

/** The benchmark's nodes: roomy edge boxes, so 10,000 pods fit on 5,000 nodes with every filter on. */
export function benchNodes(count: number): EngineNode[] {
  const r = rng(11);
  return Array.from({ length: count }, (_, i) => {
    const n = randomNode(r, i);
    n.allocatable = { cpuMilli: 4000 + 1000 * (i % 5), memoryBytes: (8 + (i % 4) * 8) * 1024 ** 3, pods: 110, ephemeralBytes: 100 * 1024 ** 3 };
    n.unschedulable = i % 50 === 0;
    return n;
  });
}
