/**
 * Scheduling through the master (in-process master, three agents over real MQTT): manifests as a
 * user writes them, through validation, convert.ts, the engine and the binding, read back as the
 * API shows them. Node zones: node-a and node-b in z1, node-c in z2 (with disk=ssd). Then the
 * scoring strategy from `--scheduler-config`: MostAllocated packs, LeastAllocated spreads.
 */
import { writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../protocol/index.js';
import { freePort } from '../helpers/procs.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';
import { tempDir } from '../helpers/wait.js';

/** A container that only has to exist: scheduling is what these tests read. */
const sleeper = (extra: Record<string, unknown> = {}) => ({ name: 'main', command: ['sleep', '600'], ...extra });

/** A Deployment of `replicas` pods labelled app=`name` with the given pod spec fields. */
function deployment(name: string, replicas: number, spec: Record<string, unknown> = {}, container: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [sleeper(container)], ...spec } },
    },
  });
}

/** A bare pod. */
const pod = (name: string, spec: Record<string, unknown> = {}) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, containers: [sleeper()], ...spec } });

/** Waits until `count` pods labelled app=`app` are each bound or marked unschedulable; returns node → pod count and the pending pods' messages. */
async function placements(c: TestCluster, app: string, count: number): Promise<{ nodes: Record<string, number>; pending: string[] }> {
  const decided = (p: Pod) => !!p.spec.nodeName || p.status?.conditions?.some((x) => x.type === 'PodScheduled' && x.status === 'False');
  const pods = await eventually(async () => {
    const list = await c.pods(`app=${app}`);
    return list.length === count && list.every(decided) ? list : undefined;
  }, `${count} pods of ${app} scheduled or unschedulable`);
  const nodes: Record<string, number> = {};
  for (const p of pods) if (p.spec.nodeName) nodes[p.spec.nodeName] = (nodes[p.spec.nodeName] ?? 0) + 1;
  const pending = pods.filter((p) => !p.spec.nodeName).map((p) => p.status!.conditions!.find((x) => x.type === 'PodScheduled')!.message ?? '');
  return { nodes, pending };
}

describe('scheduling through the master', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster([]);
    await c.addAgent('node-a', { zone: 'z1' });
    await c.addAgent('node-b', { zone: 'z1' });
    await c.addAgent('node-c', { zone: 'z2', disk: 'ssd' });
  }, 60_000);
  afterAll(async () => c?.stop());

  it('topologySpreadConstraints: maxSkew 1 over zones puts half the replicas on the lone z2 node', async () => {
    const spread = [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }];
    await c.apply(deployment('spread', 4, { topologySpreadConstraints: spread }));
    const { nodes, pending } = await placements(c, 'spread', 4);
    expect(pending).toEqual([]);
    // Without the constraint, least-allocated spreading over three nodes gives z2 one pod of four.
    expect(nodes['node-c']).toBe(2);
    expect((nodes['node-a'] ?? 0) + (nodes['node-b'] ?? 0)).toBe(2);
  });

  it('required pod anti-affinity on the hostname: one replica per node, the fourth explained', async () => {
    const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'lonely' } }, topologyKey: 'kubernetes.io/hostname' }] } };
    await c.apply(deployment('lonely', 4, { affinity: anti }));
    const { nodes, pending } = await placements(c, 'lonely', 4);
    expect(nodes).toEqual({ 'node-a': 1, 'node-b': 1, 'node-c': 1 });
    expect(pending).toEqual(["0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."]);
  });

  it('preferred node affinity draws a pod to the node it prefers, and is only a preference', async () => {
    const prefer = (value: string) => ({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: [value] }] } }] } });
    await c.apply(pod('ssd-lover', { affinity: prefer('ssd') }));
    await c.apply(pod('nvme-lover', { affinity: prefer('nvme') }));
    expect((await placements(c, 'ssd-lover', 1)).nodes).toEqual({ 'node-c': 1 });
    expect((await placements(c, 'nvme-lover', 1)).pending).toEqual([]);
  });

  it('host ports: one pod per node for a port, the fourth explained', async () => {
    const hostPort = await freePort();
    await c.apply(deployment('ported', 4, {}, { ports: [{ containerPort: hostPort, hostPort }] }));
    const { nodes, pending } = await placements(c, 'ported', 4);
    expect(nodes).toEqual({ 'node-a': 1, 'node-b': 1, 'node-c': 1 });
    expect(pending).toEqual(["0/3 nodes are available: 3 node(s) didn't have free ports for the requested pod ports."]);
  });

  it('tolerations: a tainted node takes only the pods that tolerate its taint; an empty key needs Exists', async () => {
    await c.master.objects.mutate('Node', undefined, 'node-b', (n) => {
      n.spec = { ...(n.spec ?? {}), taints: [{ key: 'dedicated', value: 'edge', effect: 'NoSchedule' }] };
      return n;
    });
    await eventually(async () => (await c.nodes()).find((n) => n.metadata.name === 'node-b')?.spec?.taints?.length === 1, 'node-b tainted');
    const onB = { nodeSelector: { 'kubernetes.io/hostname': 'node-b' } };
    await c.apply(pod('intolerant', onB));
    await c.apply(pod('tolerant', { ...onB, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'edge', effect: 'NoSchedule' }] }));
    await c.apply(pod('tolerates-all', { ...onB, tolerations: [{ operator: 'Exists' }] }));
    await c.apply(pod('wrong-value', { ...onB, tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'core' }] }));
    expect((await placements(c, 'tolerant', 1)).nodes).toEqual({ 'node-b': 1 });
    expect((await placements(c, 'tolerates-all', 1)).nodes).toEqual({ 'node-b': 1 });
    const untolerated = "0/3 nodes are available: 2 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {dedicated: edge}.";
    expect((await placements(c, 'intolerant', 1)).pending).toEqual([untolerated]);
    expect((await placements(c, 'wrong-value', 1)).pending).toEqual([untolerated]);
    // An empty key with Equal: refused at the door, nothing stored.
    const refused = (await c.apply(pod('no-key', { tolerations: [{ operator: 'Equal', value: 'edge' }] }))) as { results: { action: string; error?: { message: string } }[] };
    expect(refused.results).toMatchObject([{ action: 'failed', error: { message: 'Pod/no-key: spec.tolerations[0].operator: must be Exists when key is empty, got "Equal"' } }]);
    expect(await c.pods('app=no-key')).toEqual([]);
  });
});

describe('the scoring strategy from --scheduler-config', () => {
  it.each([
    ['MostAllocated packs every replica onto one node', 'MostAllocated', [4]],
    ['LeastAllocated spreads them', 'LeastAllocated', [2, 2]],
  ])('%s', async (_what, type, counts) => {
    // NodeResourcesFit weighs 10, so the strategy outweighs balanced allocation on two identical nodes.
    const dir = await tempDir('skiff-sched-');
    const file = join(dir, 'scheduler.yaml');
    writeFileSync(file, `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    score:
      enabled: [{name: NodeResourcesFit, weight: 10}]
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: ${type}
        resources: [{name: cpu, weight: 1}, {name: memory, weight: 1}]
`);
    const c = await startCluster(['node-a', 'node-b'], { schedulerConfig: file });
    try {
      expect(c.master.config.scheduler.resourceStrategy).toBe(type);
      await c.apply(deployment('packed', 4, {}, { resources: { requests: { cpu: '100m', memory: '32Mi' } } }));
      const { nodes, pending } = await placements(c, 'packed', 4);
      expect(pending).toEqual([]);
      expect(Object.values(nodes).sort()).toEqual(counts);
    } finally {
      await c.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
