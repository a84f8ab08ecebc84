/**
 * DaemonSets over a real in-process cluster: a pod per node that follows a node joining, a label
 * appearing and disappearing, a node leaving; cordoned nodes keep theirs; a rolling update replaces pods
 * node by node within maxUnavailable. Every Pod change is checked: never two active daemon pods per node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonSet, KObject, Node, Pod } from '../../protocol/index.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

const daemonSet = (name: string, extra = '', env = 'v1') => `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ${name}, annotations: {team: edge}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
${extra}
      containers:
      - name: main
        command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']
        env: [{name: VERSION, value: ${env}}]
`;

const active = (p: KObject) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes((p as Pod).status?.phase ?? '');

/** Records, on every Pod change, the largest number of active pods of `app` aimed at one node. */
function watchPerNode(c: TestCluster, app: string) {
  const seen = { maxPerNode: 0 };
  c.master.informers.on('Pod', (p) => {
    if (p?.metadata.labels?.app !== app) return;
    const perNode = new Map<string, number>();
    for (const x of c.master.informers.list<Pod>('Pod')) {
      if (x.metadata.labels?.app !== app || !active(x)) continue;
      const node = x.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchExpressions?.[0]?.values?.[0] ?? '?';
      perNode.set(node, (perNode.get(node) ?? 0) + 1);
    }
    seen.maxPerNode = Math.max(seen.maxPerNode, ...perNode.values());
  });
  return seen;
}

const runningOn = async (c: TestCluster, app: string) =>
  (await c.pods(`app=${app}`)).filter((p) => isRunningReady(p) && active(p)).map((p) => p.spec.nodeName!).sort();
const getDs = (c: TestCluster, name: string) => c.api.request<DaemonSet>('get', { kind: 'DaemonSet', name, namespace: 'default' });
const setLabel = (c: TestCluster, node: string, key: string, value: string | undefined) =>
  c.master.objects.mutate<Node>('Node', undefined, node, (n) => {
    n.metadata.labels = { ...(n.metadata.labels ?? {}) };
    if (value === undefined) delete n.metadata.labels[key];
    else n.metadata.labels[key] = value;
    return n;
  });

describe('DaemonSet', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['ds-a']);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('runs one pod per node and follows a node joining and leaving', async () => {
    const seen = watchPerNode(c, 'logger');
    await c.apply(daemonSet('logger'));
    await eventually(async () => (await runningOn(c, 'logger')).join() === 'ds-a', 'logger running on ds-a');
    const agent = await c.addAgent('ds-b');
    await eventually(async () => (await runningOn(c, 'logger')).join() === 'ds-a,ds-b', 'logger running on ds-a and ds-b', 20_000);
    const ds = await eventually(async () => {
      const d = await getDs(c, 'logger');
      return d.status?.numberAvailable === 2 && d;
    }, 'status counts 2 available');
    expect(ds.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberMisscheduled: 0, updatedNumberScheduled: 2 });
    expect(ds.metadata.annotations).toEqual({ team: 'edge' });
    // The node leaves: its agent stops and the Node object is deleted.
    await agent.stop({ stopPods: true });
    c.agents.splice(c.agents.indexOf(agent), 1);
    await c.api.request('delete', { kind: 'Node', name: 'ds-b' });
    await eventually(async () => (await c.pods('app=logger')).map((p) => p.spec.nodeName).join() === 'ds-a', 'only the ds-a pod left', 15_000);
    await eventually(async () => (await getDs(c, 'logger')).status?.desiredNumberScheduled === 1, 'desired back to 1');
    expect(seen.maxPerNode).toBe(1);
  }, 60_000);

  it('follows node labels through its node selector and keeps its pod on a cordoned node', async () => {
    await c.api.request('cordon', { name: 'ds-a' });
    await c.apply(daemonSet('sensor', '      nodeSelector: {tier: sensor}'));
    await c.master.idle();
    expect((await getDs(c, 'sensor')).status?.desiredNumberScheduled).toBe(0);
    expect(await c.pods('app=sensor')).toEqual([]);
    // Labelled while cordoned: a daemon pod tolerates node.kubernetes.io/unschedulable, as in Kubernetes.
    await setLabel(c, 'ds-a', 'tier', 'sensor');
    await eventually(async () => (await runningOn(c, 'sensor')).join() === 'ds-a', 'sensor pod running on cordoned ds-a');
    await setLabel(c, 'ds-a', 'tier', undefined);
    await eventually(async () => (await c.pods('app=sensor')).length === 0, 'sensor pod removed with the label');
    await c.api.request('uncordon', { name: 'ds-a' });
  }, 30_000);

  it('rolls a template change out node by node within maxUnavailable', async () => {
    await c.addAgent('ds-c');
    await c.addAgent('ds-d');
    await eventually(async () => (await runningOn(c, 'logger')).length === 3, 'logger on 3 nodes', 20_000);
    // Track, on every change, how many eligible nodes lack a ready pod (old or new).
    let worst = 0;
    c.master.informers.on('Pod', () => {
      const ready = new Set(c.master.informers.list<Pod>('Pod').filter((p) => p.metadata.labels?.app === 'logger' && active(p) && isRunningReady(p)).map((p) => p.spec.nodeName));
      worst = Math.max(worst, 3 - ready.size);
    });
    await c.apply(daemonSet('logger', '', 'v2'));
    await eventually(async () => {
      const ps = (await c.pods('app=logger')).filter(active);
      return ps.length === 3 && ps.every((p) => isRunningReady(p) && p.spec.containers[0].env?.[0]?.value === 'v2');
    }, 'every logger pod on v2', 30_000);
    expect(worst).toBe(1);
    expect((await getDs(c, 'logger')).status?.updatedNumberScheduled).toBe(3);
  }, 60_000);
});
