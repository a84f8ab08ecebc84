// master/scheduler/convert.ts: Kubernetes-shaped Nodes and Pods into the engine's records, table by table.
import { describe, expect, it } from 'vitest';
import { engineNode, enginePod, matchesNothing, notReadyTaint, podRuntime } from '../../master/scheduler/convert.js';
import type { Container, LabelSelector, Node, Pod, PodSpec } from '../../protocol/index.js';

const ready = { type: 'Ready', status: 'True' } as const;
/** A node: Ready unless told, with the given spec, status and labels. */
const nodeWith = (o: { spec?: Node['spec']; status?: Partial<NonNullable<Node['status']>>; labels?: Record<string, string>; ready?: boolean } = {}): Node =>
  ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'pi-1', labels: o.labels },
    spec: o.spec,
    status: { conditions: [o.ready === false ? { type: 'Ready', status: 'Unknown' } : ready], ...(o.status ?? {}) },
  }) as Node;
/** A pod in `ns` (default namespace when undefined) with the given spec fields. */
const podWith = (spec: Partial<PodSpec> = {}, meta: { namespace?: string; labels?: Record<string, string> } = {}): Pod =>
  ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace: meta.namespace, labels: meta.labels },
    spec: { containers: [{ name: 'main', command: ['sleep', '1'] }], ...spec },
  }) as Pod;
const container = (c: Partial<Container>): Container => ({ name: 'c', command: ['x'], ...c }) as Container;

describe('engineNode', () => {
  it.each([
    ['quantities in integer units', { status: { allocatable: { cpu: '1500m', memory: '2Gi', pods: '110', 'ephemeral-storage': '10G' } } }, { allocatable: { cpuMilli: 1500, memoryBytes: 2 * 1024 ** 3, pods: 110, ephemeralBytes: 10e9 } }],
    ['whole cpus and plain bytes', { status: { allocatable: { cpu: '4', memory: '1000', pods: '8' } } }, { allocatable: { cpuMilli: 4000, memoryBytes: 1000, pods: 8, ephemeralBytes: 0 } }],
    ['nothing reported: zeros (fits nothing that requests)', {}, { allocatable: { cpuMilli: 0, memoryBytes: 0, pods: 0, ephemeralBytes: 0 } }],
    ['a pods count that is not a number: 0', { status: { allocatable: { pods: 'many' } } }, { allocatable: { cpuMilli: 0, memoryBytes: 0, pods: 0, ephemeralBytes: 0 } }],
    ['labels are copied', { labels: { zone: 'greenhouse' } }, { labels: { zone: 'greenhouse' } }],
    ['taints keep key, value and effect', { spec: { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule', timeAdded: 'x' }] } }, { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] }],
    ['a node that is not Ready gets the not-ready taint', { ready: false, spec: { taints: [{ key: 'a', effect: 'NoExecute' }] } }, { taints: [{ key: 'a', value: undefined, effect: 'NoExecute' }, { ...notReadyTaint, value: undefined }] }],
    ['cordoned', { spec: { unschedulable: true } }, { unschedulable: true }],
    ['runtimes default to process', {}, { runtimes: ['process'] }],
    ['runtimes as reported', { status: { nodeInfo: { runtimes: ['process', 'wasi'] } } }, { runtimes: ['process', 'wasi'] }],
    ['images: every name of every image', { status: { images: [{ names: ['app:1', 'registry/app@sha256:x'] }, { names: ['db:5'] }] } }, { images: ['app:1', 'registry/app@sha256:x', 'db:5'] }],
  ] as [string, Parameters<typeof nodeWith>[0], object][])('%s', (_what, o, want) => {
    expect(engineNode(nodeWith(o))).toMatchObject({ name: 'pi-1', ...want });
  });
});

describe('enginePod', () => {
  it.each([
    ['key and namespace (default when absent)', podWith(), { key: 'default/web-1', namespace: 'default', labels: {} }],
    ['another namespace and labels', podWith({}, { namespace: 'farm', labels: { app: 'web' } }), { key: 'farm/web-1', namespace: 'farm', labels: { app: 'web' } }],
    ['no requests: zeros (the engine applies the non-zero defaults for scoring)', podWith(), { requests: { cpuMilli: 0, memoryBytes: 0, ephemeralBytes: 0 } }],
    [
      'requests summed over containers',
      podWith({ containers: [container({ resources: { requests: { cpu: '250m', memory: '64Mi' } } }), container({ name: 'd', resources: { requests: { cpu: '1', 'ephemeral-storage': '1Gi' } } })] }),
      { requests: { cpuMilli: 1250, memoryBytes: 64 * 1024 ** 2, ephemeralBytes: 1024 ** 3 } },
    ],
    ['limits stand in for missing requests', podWith({ containers: [container({ resources: { limits: { cpu: '500m', memory: '1Gi' }, requests: { cpu: '100m' } } })] }), { requests: { cpuMilli: 100, memoryBytes: 1024 ** 3, ephemeralBytes: 0 } }],
    ['nodeSelector', podWith({ nodeSelector: { disk: 'ssd' } }), { nodeSelector: { disk: 'ssd' } }],
    [
      'required node affinity: OR of terms, each an AND',
      podWith({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, {}] } } } }),
      { requiredNodeTerms: [[{ key: 'zone', operator: 'In', values: ['a'] }], []] },
    ],
    [
      'preferred node affinity with weights',
      podWith({ affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 30, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } }] } } }),
      { preferredNodeTerms: [{ weight: 30, requirements: [{ key: 'disk', operator: 'Exists' }] }] },
    ],
    [
      'tolerations without tolerationSeconds (matching ignores it)',
      podWith({ tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }, { operator: 'Exists' }] }),
      { tolerations: [{ key: 'gpu', operator: 'Exists', value: undefined, effect: 'NoExecute' }, { key: undefined, operator: 'Exists', value: undefined, effect: undefined }] },
    ],
    [
      'host ports of every container (protocols defaulted at admission); container ports without hostPort are not host ports',
      podWith({ containers: [container({ ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }, { containerPort: 81, protocol: 'TCP' }] }), container({ name: 'd', ports: [{ containerPort: 53, hostPort: 53, protocol: 'UDP' }] })] }),
      { hostPorts: [{ port: 8080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] },
    ],
    [
      'required pod anti-affinity; a term without labelSelector matches no pods, so it is dropped; {} selects every pod',
      podWith({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }, { topologyKey: 'zone' }, { labelSelector: {}, topologyKey: 'zone' }] } } }),
      { antiAffinity: [{ selector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }, { selector: {}, topologyKey: 'zone' }] },
    ],
    [
      'topology spread constraints; without labelSelector they count no pods',
      podWith({ topologySpreadConstraints: [{ maxSkew: 2, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }, { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }] }),
      { topologySpread: [{ maxSkew: 2, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', selector: { matchLabels: { app: 'web' } } }, { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', selector: matchesNothing }] },
    ],
    ['images of the containers that have one', podWith({ containers: [container({ image: 'app:1' }), container({ name: 'd' })] }), { images: ['app:1'] }],
  ] as [string, Pod, object][])('%s', (_what, pod, want) => {
    expect(enginePod(pod)).toMatchObject(want);
  });

  it('a spread constraint without labelSelector counts no pods (an empty one would count them all)', async () => {
    const { createEngine } = await import('../../core-wasm/index.js');
    const e = await createEngine({ impl: 'reference' });
    const node = (name: string, zone: string, unschedulable: boolean) =>
      engineNode({ ...nodeWith({ labels: { zone }, spec: { unschedulable }, status: { allocatable: { cpu: '1', memory: '1Gi', pods: '10' } } }), metadata: { name, labels: { zone } } } as Node);
    // z2's only node is cordoned: it still counts as a domain with 0 pods, so counting pods would refuse the second one.
    e.upsertNode(node('a', 'z1', false));
    e.upsertNode(node('b', 'z2', true));
    const spread = (name: string, labelSelector?: LabelSelector) =>
      ({ ...enginePod(podWith({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector }] })), key: `default/${name}` });
    expect(e.schedule([spread('p1'), spread('p2')]).map((p) => p.node)).toEqual(['a', 'a']);
    expect(e.schedule([spread('q1', {}), spread('q2', {})]).map((p) => p.node)).toEqual([null, null]);
  });

  it('gives a fresh object per call, as the master does per pod (no sharing between replicas)', () => {
    const pod = podWith({}, { labels: { app: 'web' } });
    const a = enginePod(pod);
    const b = enginePod(pod);
    expect(a).toEqual(b);
    expect(a.labels).not.toBe(b.labels);
  });
});

describe('podRuntime', () => {
  it.each([
    ['runtimeClassName wins', podWith({ runtimeClassName: 'wasi', containers: [container({ image: 'x.wasm' })] }), 'wasi'],
    ['an image means container', podWith({ containers: [container({ image: 'busybox' })] }), 'container'],
    ['a command only means process', podWith(), 'process'],
  ] as [string, Pod, string][])('%s', (_what, pod, want) => {
    expect(podRuntime(pod)).toBe(want);
  });
});
