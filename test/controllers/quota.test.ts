/**
 * The quota controller through its sync, in memory (the harness, with the master's admission): usage given back
 * when a pod finishes or goes, and counted for objects made before the quota.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startQuotaController } from '../../master/controllers/quota.js';
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

