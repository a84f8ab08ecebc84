/**
 * The quota controller through its sync, in memory (the harness, with the master's admission): usage given back
 * when a pod finishes or goes, and counted for objects made before the quota; a ReplicaSet whose pods a quota
 * refuses reports ReplicaFailure and looks again on the (fake) clock. The admission rules themselves (kubectl's
 * messages, LimitRange defaults and bounds, charges in the same write) are tabled in admission.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startQuotaController } from '../../master/controllers/quota.js';
import { startReplicaSetController } from '../../master/controllers/replicaset.js';
import { rsWith } from './builders.js';
import { harness, type Harness } from './harness.js';

describe('quota controller', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ admission: true });
    await h.run(startQuotaController);
  });
  afterEach(() => h.stop());

  it('gives usage back when a pod finishes or goes, and counts pods made before the quota', async () => {
    await h.objects.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'early', namespace: 'default' }, spec: { containers: [{ name: 'c', command: ['x'], resources: { requests: { cpu: '1' } } }] } });
    await h.objects.apply({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec: { hard: { 'requests.cpu': '4', pods: '4' } } });
    await h.objects.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'job', namespace: 'default' }, spec: { containers: [{ name: 'c', command: ['x'], resources: { requests: { cpu: '2' } } }] } });
    await h.settle();
    const used = async () => (await h.objects.get('ResourceQuota', 'default', 'q'))!.status?.used;
    expect(await used()).toEqual({ 'requests.cpu': '3', pods: '2' });
    await h.objects.mutate('Pod', 'default', 'job', (p) => ({ ...p, status: { phase: 'Succeeded' } }));
    await h.settle();
    expect(await used()).toEqual({ 'requests.cpu': '1', pods: '1' });
    await h.objects.delete('Pod', 'default', 'early', { force: true });
    await h.settle();
    expect(await used()).toEqual({ 'requests.cpu': '0', pods: '0' });
  });
});


describe('a ReplicaSet under a quota', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness({ admission: true });
    await h.run(startQuotaController);
    await h.run(startReplicaSetController);
  });
  afterEach(() => h.stop());

  it.each([
    // [hard pods, replicas, pods made, ReplicaFailure message]
    ['10', 3, 3, undefined],
    ['2', 3, 2, 'pods "web-'],
    ['0', 1, 0, 'pods "web-'],
  ] as const)('quota pods=%s, replicas %i: %i pods, ReplicaFailure %s', async (hard, replicas, made, failure) => {
    await h.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'default' }, spec: { hard: { pods: hard } } });
    await h.create(rsWith({ replicas }));
    expect(h.pods()).toHaveLength(made);
    const cond = h.get('ReplicaSet', 'default', 'web')!.status?.conditions?.find((c) => c.type === 'ReplicaFailure');
    if (!failure) expect(cond).toBeUndefined();
    else {
      expect(cond).toMatchObject({ status: 'True', reason: 'FailedCreate' });
      expect(cond!.message).toContain(failure);
      expect(cond!.message).toMatch(/is forbidden: exceeded quota: q, requested: pods=1, used: pods=\d+, limited: pods=\d+$/);
      expect(h.reasons('ReplicaSet', 'default', 'web')).toContain('FailedCreate');
    }
  });

  it('a refused create is looked at again 10 s later: once the quota has room the pods come and the condition clears', async () => {
    await h.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'default' }, spec: { hard: { pods: '1' } } });
    await h.create(rsWith({ replicas: 2 }));
    expect(h.pods()).toHaveLength(1);
    await h.update('ResourceQuota', 'default', 'q', (q) => (q.spec.hard = { pods: '2' }));
    // No pod event reaches the ReplicaSet: only its retry after the refusal does.
    expect(h.pods()).toHaveLength(1);
    await h.advance(10_000);
    expect(h.pods()).toHaveLength(2);
    expect(h.get('ReplicaSet', 'default', 'web')!.status?.conditions ?? []).toEqual([]);
  });
});
