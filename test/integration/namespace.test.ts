/**
 * Namespaces, Kubernetes-style: `default` exists and cannot be deleted; deleting another turns it
 * Terminating (no new objects there), deletes everything in it — running pods included, stopped by
 * their agent — and removes it once empty.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KObject, Namespace } from '../../protocol/index.js';
import { eventually, isRunningReady, startCluster, type TestCluster } from '../helpers/cluster.js';

const manifests = `
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: team}
spec:
  replicas: 2
  selector: {matchLabels: {app: team-app}}
  template:
    metadata: {labels: {app: team-app}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, command: [sleep, '600']}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: team}
data: {mode: test}
`;

describe('Namespace', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['ns-a']);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('default exists and may not be deleted', async () => {
    expect((await c.api.request<Namespace>('get', { kind: 'Namespace', name: 'default' })).status?.phase).toBe('Active');
    await expect(c.api.request('delete', { kind: 'Namespace', name: 'default' })).rejects.toThrow('namespaces "default" is forbidden');
  });

  it('a deleted namespace is Terminating until everything in it is gone', async () => {
    await c.apply(manifests);
    await eventually(async () => (await c.pods('app=team-app')).filter(isRunningReady).length === 2, 'two team pods running');
    const marked = await c.api.request<Namespace>('delete', { kind: 'Namespace', name: 'team' });
    expect(marked.status?.phase).toBe('Terminating');
    expect(marked.metadata.deletionTimestamp).toBeDefined();
    const late = await c.api.request('apply', { manifest: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, namespace: team}\n' }).catch((err: Error) => err.message);
    expect(JSON.stringify(late)).toContain('namespace \\"team\\" is being terminated');
    // The namespace stays (Terminating) while its pods are still being stopped.
    const whileStopping = await c.api.request<Namespace>('get', { kind: 'Namespace', name: 'team' }).catch(() => undefined);
    if (whileStopping) expect(whileStopping.status?.phase).toBe('Terminating');
    await eventually(async () => {
      const left = await c.api.request<{ items: KObject[] }>('list', { kind: 'Namespace' });
      return !left.items.some((n) => n.metadata.name === 'team');
    }, 'namespace team removed', 15_000);
    expect(await c.pods('app=team-app')).toEqual([]);
    for (const kind of ['Deployment', 'ReplicaSet', 'ConfigMap'])
      expect((await c.api.request<{ items: KObject[] }>('list', { kind, namespace: 'team' })).items).toEqual([]);
    // The name is free again.
    await c.apply('apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n');
    expect((await c.api.request<Namespace>('get', { kind: 'Namespace', name: 'team' })).metadata.deletionTimestamp).toBeUndefined();
  }, 30_000);
});
