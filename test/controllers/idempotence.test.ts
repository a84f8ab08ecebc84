/**
 * Every controller's `sync(key)` is idempotent (the level-triggered contract): once a world has
 * settled, calling sync again for each key — and for a key whose object does not exist — writes
 * nothing. Called directly, through the seam each controller exposes.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SyncController, ControllerContext } from '../../master/controllers/types.js';
import { startCronJobController } from '../../master/controllers/cronjob/sync.js';
import { startDaemonSetController } from '../../master/controllers/daemonset/sync.js';
import { startDeploymentController } from '../../master/controllers/deployment/sync.js';
import { startEndpointsController } from '../../master/controllers/endpoints.js';
import { startGarbageCollector } from '../../master/controllers/gc.js';
import { startHistoryController } from '../../master/controllers/history.js';
import { startHpaController } from '../../master/controllers/hpa/sync.js';
import { startJobController } from '../../master/controllers/job/sync.js';
import { startNamespaceController } from '../../master/controllers/namespace.js';
import { startNodeLifecycleController } from '../../master/controllers/nodelifecycle.js';
import { startQuotaController } from '../../master/controllers/quota.js';
import { startReplicaSetController } from '../../master/controllers/replicaset.js';
import { startStatefulSetController } from '../../master/controllers/statefulset/sync.js';
import { startVolumeController } from '../../master/controllers/volumes/binder.js';
import { harness, type Harness } from './harness.js';
import { cronJobWith, deploymentWith, dsWith, hpaWith, jobWith, nodeWith, podWith, serviceWith } from './builders.js';

let h: Harness;
beforeEach(async () => {
  h = await harness();
  await h.create(nodeWith({ name: 'n1' }));
  await h.create(nodeWith({ name: 'n2', ready: 'Unknown' }));
  await h.create(podWith({ name: 'p', node: 'n1', ready: true, requests: { cpu: '100m' } }));
});
afterEach(() => h.stop());

const cases: [string, (ctx: ControllerContext) => SyncController, () => Promise<unknown>, string[]][] = [
  ['replicaset', startReplicaSetController, () => h.create(deploymentWith({})), []],
  ['deployment', startDeploymentController, () => h.create(deploymentWith({})), ['default/web']],
  ['daemonset', startDaemonSetController, () => h.create(dsWith()), ['default/agent']],
  ['job', (ctx) => startJobController(ctx, { backoffBaseMs: 10_000 }), () => h.create(jobWith({ parallelism: 2, completions: 4 })), ['default/batch']],
  ['cronjob', startCronJobController, () => h.create(cronJobWith()), ['default/tick']],
  ['endpoints', (ctx) => startEndpointsController(ctx, async () => {}), () => h.create(serviceWith({ selector: { app: 'web' }, ports: [{ port: 80 }] })), ['default/web']],
  ['node-lifecycle', (ctx) => startNodeLifecycleController(ctx, { podEvictionTimeoutMs: 30_000 }), async () => {}, ['n1', 'n2']],
  ['namespace', startNamespaceController, () => h.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } }), ['default', 'team']],
  ['hpa', (ctx) => startHpaController(ctx, { metrics: h.metrics, syncPeriodMs: 15_000 }), () => h.create(hpaWith({ max: 5, metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }] })), ['default/web']],
  ['gc', startGarbageCollector, async () => {}, ['Pod|default|p']],
  ['history', startHistoryController, () => h.create(dsWith()), ['DaemonSet|default/agent', 'Deployment|default/web', 'StatefulSet|default/db']],
  ['statefulset', startStatefulSetController, () => h.create(stsWith()), ['default/db']],
  ['quota', startQuotaController, () => h.create({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q', namespace: 'default' }, spec: { hard: { pods: '10', 'requests.cpu': '2' } } }), ['default/q']],
  [
    'volumes',
    (ctx) => startVolumeController(ctx, async () => {}),
    () => h.create({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/srv/pv1' } } }),
    ['volume|pv1', 'claim|default/nothing'],
  ],
];

/** A StatefulSet of two with a claim template. */
function stsWith() {
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'db', namespace: 'default' },
    spec: {
      replicas: 2,
      serviceName: 'db',
      selector: { matchLabels: { app: 'db' } },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', command: ['x'], volumeMounts: [{ name: 'data', mountPath: 'd' }] }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    },
  };
}

describe('sync is idempotent', () => {
  it.each(cases)('%s', async (_name, start, world, keys) => {
    const c = await h.run(start);
    await world();
    // Other controllers' work is not needed: a deployment without the ReplicaSet controller still converges on its own objects.
    await h.settle();
    const rev = await h.store.revision();
    for (const key of [...keys, ...keys, 'default/nothing-here', 'nothing-here']) await c.sync(key);
    await h.settle();
    expect(await h.store.revision()).toBe(rev);
  });
});
