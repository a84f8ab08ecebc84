/**
 * Fuzzing what a node publishes, at the router: its status, lease, pod reports, metrics, RPC answers and certificate
 * requests — random
 * bytes, anything as msgpack or JSON, and mutations of what a real agent sends — all from node n1. Properties: the
 * master never throws; n2 and its pod are untouched; n1's Node keeps only labels NodeRestriction allows and
 * finite quantities; every stored pod status is one the report check accepts; the metrics store holds samples
 * only for n1's pods; no RPC call appears from nowhere; the heap stays bounded.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../master/broker/acl.js';
import { checkPodStatus } from '../../master/nodes/pod-report.js';
import { nodeLabelRefusal } from '../../protocol/node-labels.js';
import { parseQuantity, topics, type Node, type Pod } from '../../protocol/index.js';
import { heapAfterGc, payloads, startFuzzMaster, type FuzzMaster } from './harness.js';

const n1: Identity = { role: 'node', name: 'n1' };
const now = '2026-12-01T00:00:00.000Z';

describe('fuzzing what a node publishes', () => {
  let m: FuzzMaster;
  let p1: Pod;
  let p2: Pod;
  let templates: [string, unknown][];

  beforeAll(async () => {
    m = await startFuzzMaster();
    const pod = (name: string, node: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName: node, containers: [{ name: 'c', command: ['sleep', '1'] }] } });
    p1 = await m.ctx.objects.create(pod('p1', 'n1') as Pod);
    p2 = await m.ctx.objects.create(pod('p2', 'n2') as Pod);
    await m.drain();
    const podStatus = {
      phase: 'Running',
      hostIP: '10.0.0.1',
      podIP: '10.0.0.1',
      startTime: now,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      containerStatuses: [{ name: 'c', ready: true, started: true, restartCount: 1, state: { running: { startedAt: now } }, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: now } } }],
      ports: [{ containerName: 'c', port: 40000, protocol: 'TCP' }],
    };
    templates = [
      [topics.nodeStatus('n1'), { node: 'n1', online: true, ts: 1, facts: { arch: 'arm64', os: 'linux', cpus: 4, memoryBytes: 4e9 }, capacity: { cpu: '4', memory: '4Gi', pods: '110' }, allocatable: { cpu: '4', memory: '4Gi', pods: '110' }, labels: { zone: 'a', 'kubernetes.io/arch': 'arm64' }, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }], runtimes: ['process'], conditions: [{ type: 'MemoryPressure', status: 'False' }] }],
      [topics.nodeLease('n1'), { ts: 1, generation: 3 }],
      [topics.nodePods('n1'), { pods: [{ namespace: 'default', name: 'p1', uid: p1.metadata.uid, status: podStatus }, { namespace: 'default', name: 'p2', uid: p2.metadata.uid, status: podStatus }], full: true, gone: [p2.metadata.uid], offline: { forMs: 1000, startedFromCache: 1, restarts: [{ namespace: 'default', name: 'p1', uid: p1.metadata.uid, count: 2 }] } }],
      [topics.nodeMetrics('n1'), { ts: 1, node: { cpuMilli: 100, memoryBytes: 1e6 }, pods: [{ namespace: 'default', name: 'p1', uid: p1.metadata.uid, cpuMilli: 5, memoryBytes: 1e5 }, { namespace: 'default', name: 'p2', uid: p2.metadata.uid, cpuMilli: 5, memoryBytes: 1e5 }] }],
      [topics.nodeRpcRes('n1', 'abc'), { id: 'abc', ok: true, chunk: 'x', done: true }],
      [topics.nodeCsr('n1'), { id: 'r1', csr: '-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n' }],
    ];
  });
  afterAll(() => m?.stop());

  it('never throws, touches nothing of n2, and stores only what passes the node and pod rules', async () => {
    const heap = heapAfterGc();
    const n2Before = (await m.ctx.objects.get('Node', undefined, 'n2'))!.metadata.resourceVersion;
    const message = fc.integer({ min: 0, max: templates.length - 1 }).chain((i) => payloads(templates[i][1]).map((p) => [templates[i][0], p] as const));
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 10 }), async (batch) => {
        for (const [topic, payload] of batch) expect(() => m.deliver(topic, payload, n1, 'skiff-agent-n1')).not.toThrow();
        await m.drain();
      }),
      { numRuns: 250 },
    );
    const n1Node = (await m.ctx.objects.get('Node', undefined, 'n1'))!;
    // The master's own labels (facts it derives: arch, os, agent version) are its to set; the rest passed NodeRestriction.
    const masterSet = new Set(['kubernetes.io/arch', 'kubernetes.io/os', 'kubernetes.io/hostname', 'node.skiff.io/agent-version']);
    for (const [k, v] of Object.entries(n1Node.metadata.labels ?? {})) if (!masterSet.has(k)) expect(nodeLabelRefusal('n1', k, v), k).toBeUndefined();
    for (const q of Object.values({ ...n1Node.status?.capacity, ...n1Node.status?.allocatable })) expect(Number.isFinite(parseQuantity(q as string))).toBe(true);
    expect((await m.ctx.objects.get('Node', undefined, 'n2'))!.metadata.resourceVersion).toBe(n2Before);
    const after2 = await m.ctx.objects.get('Pod', 'default', 'p2');
    expect(after2?.status).toEqual(p2.status);
    const after1 = (await m.ctx.objects.get('Pod', 'default', 'p1'))!;
    if (after1.status) expect(() => checkPodStatus('p1', { ...after1.status, conditions: after1.status!.conditions?.filter((c) => c.type !== 'PodScheduled') })).not.toThrow();
    expect(m.metrics.size().pods).toBeLessThanOrEqual(1);
    expect(heapAfterGc() - heap).toBeLessThan(40 * 1024 * 1024);
  });
});
