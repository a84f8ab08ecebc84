/**
 * Node failure with short timings: a dead agent's node turns Ready=Unknown after the grace period,
 * gets the unreachable NoExecute taint, and its pods are evicted after the toleration and replaced on
 * the healthy node. When the agent comes back, the taint goes and nothing runs twice.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../protocol/index.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';
import { unreachableTaint } from '../../master/controllers/nodelifecycle.js';

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: keeper}
spec:
  replicas: 4
  selector: {matchLabels: {app: keeper}}
  template:
    metadata: {labels: {app: keeper}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: k, command: [node, -e, "setInterval(() => {}, 1000)"]}]
`;

describe('a dead node', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['alive', 'doomed'], { nodeMonitorGraceMs: 1500, podEvictionTimeoutMs: 1000 });
  }, 60_000);
  afterAll(async () => c?.stop());

  it('has its pods evicted and replaced elsewhere; comes back clean', async () => {
    await c.apply(deployment);
    const pods = await eventually(async () => {
      const ps = await c.pods('app=keeper');
      return ps.length === 4 && ps.every(isRunningReady) && ps;
    }, '4 running pods');
    const onDoomed = pods.filter((p) => p.spec.nodeName === 'doomed').map((p) => p.metadata.name);
    expect(onDoomed.length).toBeGreaterThan(0);

    const doomed = c.agents.find((a) => a.name === 'doomed')!;
    const t0 = Date.now();
    await doomed.stop({ stopPods: true });
    await eventually(async () => {
      const n = (await c.nodes()).find((x) => x.metadata.name === 'doomed');
      return n?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'Unknown' && n.spec?.taints?.some((t) => t.key === unreachableTaint);
    }, 'doomed NotReady and tainted', 10_000);
    const after = await eventually(async () => {
      const ps = await c.pods('app=keeper');
      return ps.length === 4 && ps.every((p) => p.spec.nodeName === 'alive' && isRunningReady(p)) && ps;
    }, 'all 4 pods running on the healthy node', 20_000);
    const took = Date.now() - t0;
    // grace 1.5 s + toleration 1 s + scheduling and start: well under 10 s.
    expect(took).toBeLessThan(10_000);
    expect(after.map((p) => p.metadata.name)).not.toEqual(expect.arrayContaining(onDoomed));

    // The board comes back: Ready again, untainted, and it runs none of the evicted pods.
    const back = await c.addAgent('doomed');
    await eventually(async () => {
      const n = (await c.nodes()).find((x) => x.metadata.name === 'doomed') as Node;
      return !n.spec?.taints?.some((t) => t.key === unreachableTaint);
    }, 'taint removed');
    expect(back.name).toBe('doomed');
    const final = await c.pods('app=keeper');
    expect(final).toHaveLength(4);
    expect(final.every((p) => p.spec.nodeName === 'alive')).toBe(true);
  }, 60_000);
});

describe('cordon, uncordon and drain through the CLI', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['n1', 'n2']);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('drain moves pods off a node and keeps new ones away until uncordon', async () => {
    const { main } = await import('../../cli/main.js');
    const out: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void out.push(s), readStdin: async () => '', env: {} };
    const cli = (...args: string[]) => main(['--server', c.master.url, '--token', c.master.adminToken, ...args], io);
    await c.apply(deployment.replace('replicas: 4', 'replicas: 2'));
    await eventually(async () => (await c.pods('app=keeper')).filter(isRunningReady).length === 2, '2 running');
    expect(await cli('drain', 'n1')).toBe(0);
    expect(out.join('')).toContain('node/n1 drained');
    const moved = await eventually(async () => {
      const ps = await c.pods('app=keeper');
      return ps.length === 2 && ps.every((p) => p.spec.nodeName === 'n2' && isRunningReady(p)) && ps;
    }, 'pods moved to n2', 30_000);
    expect(moved).toHaveLength(2);
    const n1 = (await c.nodes()).find((n) => n.metadata.name === 'n1')!;
    expect(n1.spec?.unschedulable).toBe(true);
    expect(await cli('uncordon', 'n1')).toBe(0);
    const n1b = (await c.nodes()).find((n) => n.metadata.name === 'n1')!;
    expect(n1b.spec?.unschedulable).toBeUndefined();
    expect(await cli('cordon', 'nope')).toBe(1);
    expect(out.join('')).toContain('nodes "nope" not found');
  }, 60_000);
});
