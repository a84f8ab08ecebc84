/**
 * ResourceQuota and LimitRange over a real in-process cluster: LimitRange defaults fill a Deployment's pods;
 * the pod that would take the quota past its hard limit is refused with kubectl's message and its ReplicaSet
 * says so in its ReplicaFailure condition (and lets go of it once it fits again); the quota controller keeps
 * status.used; object counts (count/deployments.apps); a server dry run checks quota and stores nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod, ReplicaSet, ResourceQuota } from '../../protocol/index.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

const setup = `
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: team}
spec:
  hard: {requests.cpu: "1", limits.cpu: "4", pods: "5"}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: objects, namespace: team}
spec:
  hard: {count/deployments.apps: "1"}
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: team}
spec:
  limits:
  - type: Container
    defaultRequest: {cpu: 400m}
    default: {cpu: 800m}
    min: {cpu: 100m}
`;

const deployment = (name: string, replicas: number) => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: team}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        command: [sh, -c, 'trap "exit 0" TERM; while true; do sleep 0.2; done']
`;

const pod = (name: string, cpu: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'team' },
  spec: { containers: [{ name: 'main', command: ['sleep', '60'], resources: { requests: { cpu } } }] },
});

describe('ResourceQuota and LimitRange', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['q-a']);
  }, 60_000);
  afterAll(async () => c?.stop());

  const quota = (name: string) => c.api.request<ResourceQuota>('get', { kind: 'ResourceQuota', name, namespace: 'team' });
  const replicaSet = async () => (await c.api.request<{ items: ReplicaSet[] }>('list', { kind: 'ReplicaSet', namespace: 'team' })).items[0]!;
  const apply = (objects: unknown[], extra: Record<string, unknown> = {}) =>
    c.api.request<{ results: { action: string; error?: { code: string; message: string } }[] }>('apply', { objects, ...extra });

  it('fills pods from the LimitRange, refuses the pod past the quota with kubectl\'s message, and the ReplicaSet says so', async () => {
    await c.apply(setup);
    expect((await quota('compute')).status).toEqual({ hard: { 'requests.cpu': '1', 'limits.cpu': '4', pods: '5' }, used: { 'requests.cpu': '0', 'limits.cpu': '0', pods: '0' } });
    await c.apply(deployment('web', 3));
    await eventually(async () => (await c.pods('app=web')).filter(isRunningReady).length === 2, 'two web pods running');
    const pods = await c.pods('app=web');
    expect(pods).toHaveLength(2);
    expect(pods[0]!.spec.containers[0]!.resources).toEqual({ requests: { cpu: '400m' }, limits: { cpu: '800m' } });
    expect(pods[0]!.metadata.annotations?.['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: cpu request for container main; cpu limit for container main');
    const rs = await eventually(async () => {
      const r = await replicaSet();
      return r.status?.conditions?.some((x) => x.type === 'ReplicaFailure') && r;
    }, 'ReplicaFailure on the ReplicaSet');
    const failure = rs.status!.conditions!.find((x) => x.type === 'ReplicaFailure')!;
    expect(failure).toMatchObject({ status: 'True', reason: 'FailedCreate' });
    expect(failure.message).toMatch(/^pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: compute, requested: requests\.cpu=400m, used: requests\.cpu=800m, limited: requests\.cpu=1$/);
    expect(rs.status).toMatchObject({ replicas: 2 });
    await eventually(async () => (await quota('compute')).status?.used?.pods === '2', 'quota used: 2 pods');
    expect((await quota('compute')).status?.used).toEqual({ 'requests.cpu': '800m', 'limits.cpu': '1600m', pods: '2' });
  }, 60_000);

  it('refuses a pod the same way through apply, and a server dry run checks quota and stores nothing', async () => {
    const over = await apply([pod('big', '300m')]);
    expect(over.results[0]!.error).toEqual({ code: 'SKIFF_ERR_FORBIDDEN', message: 'pods "big" is forbidden: exceeded quota: compute, requested: requests.cpu=300m, used: requests.cpu=800m, limited: requests.cpu=1' });
    const dry = await apply([pod('big', '300m')], { dryRun: true });
    expect(dry.results[0]!.error?.message).toBe(over.results[0]!.error!.message);
    const fits = await apply([pod('small', '200m')], { dryRun: true });
    expect(fits.results[0]!.action).toBe('created');
    await expect(c.api.request('get', { kind: 'Pod', name: 'small', namespace: 'team' })).rejects.toMatchObject({ code: 'SKIFF_ERR_NOT_FOUND' });
    expect((await quota('compute')).status?.used?.['requests.cpu']).toBe('800m');
    const tiny = await apply([pod('tiny', '10m')]);
    expect(tiny.results[0]!.error?.message).toBe('pods "tiny" is forbidden: minimum cpu usage per Container is 100m, but request is 10m');
  });

  it('counts objects (count/deployments.apps), and gives usage back when pods go', async () => {
    const second = await apply([(await import('../../protocol/index.js')).parseManifests(deployment('other', 1))[0]]);
    expect(second.results[0]!.error?.message).toBe('deployments.apps "other" is forbidden: exceeded quota: objects, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1');
    await c.api.request('scale', { kind: 'Deployment', name: 'web', namespace: 'team', replicas: 1 });
    await eventually(async () => (await c.pods('app=web')).filter((p: Pod) => !p.metadata.deletionTimestamp).length === 1, 'one web pod');
    await eventually(async () => (await quota('compute')).status?.used?.['requests.cpu'] === '400m', 'quota used back to 400m', 20_000);
    // The ReplicaSet manages its pods without an error again: the condition is gone.
    await eventually(async () => !(await replicaSet()).status?.conditions?.some((x) => x.type === 'ReplicaFailure'), 'ReplicaFailure cleared');
    const ok = await apply([pod('fits', '500m')]);
    expect(ok.results[0]!.action).toBe('created');
    expect((await quota('compute')).status?.used?.['requests.cpu']).toBe('900m');
  }, 60_000);
});
