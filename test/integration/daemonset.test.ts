/**
 * A DaemonSet over a real in-process cluster: a running pod on every node, following a real agent
 * joining and a node leaving. Every Pod change is checked: never two active daemon pods per node.
 * Eligibility (selectors, affinity, taints, cordons), rolling updates and OnDelete are checked in
 * memory in test/controllers/daemonset.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DaemonSet, KObject, Pod } from '../../protocol/index.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

const daemonSet = (name: string) => `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ${name}, annotations: {team: edge}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']
`;

const active = (p: KObject) => !p.metadata.deletionTimestamp && !['Succeeded', 'Failed'].includes((p as Pod).status?.phase ?? '');

/** Records, on every Pod change, the largest number of active pods of `app` aimed at one node. */
function watchPerNode(c: TestCluster, app: string) {
  const seen = { maxPerNode: 0 };
  c.master.informers.on('Pod', (p) => {
    if (p?.metadata.labels?.app !== app) return;
    const perNode = new Map<string, number>();
    for (const x of c.master.informers.list('Pod')) {
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
});
