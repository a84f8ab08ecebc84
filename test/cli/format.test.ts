import { describe, expect, it } from 'vitest';
import { age, humanDuration } from '../../cli/format/age.js';
import { columnsFor } from '../../cli/format/columns.js';
import { resourceName, resourceType } from '../../cli/format/output.js';
import { podStatus } from '../../cli/format/pod-status.js';
import { renderTable, Table } from '../../cli/format/table.js';
import type { KObject } from '../../protocol/index.js';
import { ago, NOW, podWith } from './helpers.js';

function table(kind: string, objects: KObject[], opts: { wide?: boolean; withNamespace?: boolean } = {}): string {
  const c = columnsFor(kind, opts);
  return renderTable(c.headers, objects.map((o) => c.row(o, NOW)));
}

describe('AGE like kubectl (HumanDuration)', () => {
  it.each([
    [0, '0s'],
    [-1500, '0s'],
    [-5000, '<invalid>'],
    [45_000, '45s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [192_000, '3m12s'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [3 * 3600_000, '3h'],
    [5 * 3600_000 + 10 * 60_000, '5h10m'],
    [12 * 3600_000, '12h'],
    [47 * 3600_000, '47h'],
    [2 * 86400_000, '2d'],
    [3 * 86400_000 + 4 * 3600_000, '3d4h'],
    [20 * 86400_000, '20d'],
    [(2 * 365 + 31) * 86400_000, '2y31d'],
    [9 * 365 * 86400_000, '9y'],
  ])('%i ms → %s', (ms, want) => expect(humanDuration(ms)).toBe(want));

  it('is <unknown> without a timestamp', () => {
    expect(age(undefined, NOW)).toBe('<unknown>');
    expect(age('not a date', NOW)).toBe('<unknown>');
    expect(age(ago(45), NOW)).toBe('45s');
  });
});

describe('get tables', () => {
  it('pods: READY, STATUS from reasons, RESTARTS with last restart, AGE', () => {
    const pods = [
      podWith('web-7d9c-x2x1', { age: 192 }),
      podWith('web-7d9c-k3j8', { ready: false, waiting: 'CrashLoopBackOff', restarts: 4, lastRestartAgo: 30, age: 3 * 3600 }),
      podWith('job-once', { phase: 'Succeeded', ready: false, terminated: { exitCode: 0, reason: 'Completed' }, age: 2 * 86400 }),
      podWith('broken', { phase: 'Failed', ready: false, terminated: { exitCode: 2 }, age: 45 }),
    ];
    expect(table('Pod', pods)).toBe(
      [
        'NAME            READY   STATUS             RESTARTS      AGE',
        'web-7d9c-x2x1   1/1     Running            0             3m12s',
        'web-7d9c-k3j8   0/1     CrashLoopBackOff   4 (30s ago)   3h',
        'job-once        0/1     Completed          0             2d',
        'broken          0/1     ExitCode:2         0             45s',
        '',
      ].join('\n'),
    );
  });

  it('pods -o wide -A: NAMESPACE first, IP and NODE last', () => {
    const pods = [podWith('web-1', { namespace: 'shop', node: 'pi-1', ip: '192.168.1.20', age: 60 }), podWith('pending-1', { namespace: 'default', phase: 'Pending', ready: false, waiting: 'ContainerCreating' })];
    pods[1].spec.nodeName = undefined;
    delete pods[1].status?.podIP;
    expect(table('Pod', pods, { wide: true, withNamespace: true })).toBe(
      'NAMESPACE   NAME        READY   STATUS              RESTARTS   AGE   IP             NODE\n' +
        'shop        web-1       1/1     Running             0          60s   192.168.1.20   pi-1\n' +
        'default     pending-1   0/1     ContainerCreating   0          60s   <none>         <none>\n',
    );
  });

  it('a terminating pod shows Terminating', () => {
    const p = podWith('web-1');
    p.metadata.deletionTimestamp = ago(1);
    expect(podStatus(p)).toBe('Terminating');
  });

  it('deployments and replicasets', () => {
    const d: KObject = {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(5 * 3600) },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
      status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
    };
    expect(table('Deployment', [d])).toBe('NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    2/3     3            2           5h\n');
    expect(table('Deployment', [d], { wide: true })).toBe(
      'NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES       SELECTOR\nweb    2/3     3            2           5h    web          nginx:1.27   app=web\n',
    );
    const rs: KObject = { ...d, kind: 'ReplicaSet', metadata: { name: 'web-7d9c', namespace: 'default', creationTimestamp: ago(90) }, status: { replicas: 3, readyReplicas: 1 } };
    expect(table('ReplicaSet', [rs])).toBe('NAME       DESIRED   CURRENT   READY   AGE\nweb-7d9c   3         3         1       90s\n');
  });

  it('statefulsets, claims, volumes, classes, quotas and limit ranges, as kubectl prints them', () => {
    const meta = (name: string, extra: object = {}) => ({ name, namespace: 'default', creationTimestamp: ago(600), ...extra });
    const sts: KObject = { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: meta('web'), spec: { replicas: 3, template: { spec: { containers: [{ name: 'main' }] } } }, status: { replicas: 3, readyReplicas: 2 } };
    expect(table('StatefulSet', [sts], { wide: true })).toBe('NAME   READY   AGE   CONTAINERS   IMAGES\nweb    2/3     10m   main         <none>\n');
    const pvc = (name: string, status: object | undefined, extra: object = {}): KObject => ({
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta(name, extra),
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', ...(status ? { volumeName: 'pvc-1' } : {}) }, ...(status ? { status } : {}),
    });
    expect(table('PersistentVolumeClaim', [pvc('data-web-0', { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] }), pvc('data-web-1', { phase: 'Pending' }), pvc('old', undefined, { deletionTimestamp: ago(1) })])).toBe(
      'NAME         STATUS        VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   AGE\n' +
        'data-web-0   Bound         pvc-1    1Gi        RWO,ROX        local-path     10m\n' +
        'data-web-1   Pending       pvc-1                              local-path     10m\n' +
        'old          Terminating                                      local-path     10m\n',
    );
    const pv: KObject = {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pvc-1', creationTimestamp: ago(600) },
      spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOncePod'], persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path', claimRef: { namespace: 'default', name: 'data-web-0' } },
      status: { phase: 'Bound' },
    };
    expect(table('PersistentVolume', [pv])).toBe(
      'NAME    CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS   CLAIM                STORAGECLASS   REASON   AGE\n' +
        'pvc-1   1Gi        RWOP           Delete           Bound    default/data-web-0   local-path              10m\n',
    );
    const sc: KObject = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-path', creationTimestamp: ago(600), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' };
    expect(table('StorageClass', [sc])).toBe(
      'NAME                   PROVISIONER             RECLAIMPOLICY   VOLUMEBINDINGMODE      ALLOWVOLUMEEXPANSION   AGE\n' +
        'local-path (default)   rancher.io/local-path   Delete          WaitForFirstConsumer   false                  10m\n',
    );
    const quota: KObject = {
      apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('compute'), spec: { hard: {} },
      status: { hard: { 'requests.cpu': '2', pods: '10', 'limits.cpu': '4' }, used: { 'requests.cpu': '1500m', pods: '3', 'limits.cpu': '3' } },
    };
    expect(table('ResourceQuota', [quota])).toBe('NAME      AGE   REQUEST                             LIMIT\ncompute   10m   pods: 3/10, requests.cpu: 1500m/2   limits.cpu: 3/4\n');
    expect(table('LimitRange', [{ apiVersion: 'v1', kind: 'LimitRange', metadata: meta('defaults', { creationTimestamp: '2026-01-02T03:04:05Z' }), spec: { limits: [] } }])).toBe('NAME       CREATED AT\ndefaults   2026-01-02T03:04:05Z\n');
  });

  it('services', () => {
    const svc = (name: string, spec: object): KObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, creationTimestamp: ago(2 * 86400) }, spec });
    expect(
      table('Service', [
        svc('web', { type: 'ClusterIP', clusterIP: '10.43.0.12', ports: [{ port: 80, protocol: 'TCP' }, { port: 443 }], selector: { app: 'web' } }),
        svc('mqtt', { type: 'NodePort', clusterIP: '10.43.0.13', ports: [{ port: 1883, nodePort: 31883, protocol: 'TCP' }] }),
        svc('lb', { type: 'LoadBalancer', ports: [{ port: 53, protocol: 'UDP' }] }),
      ]),
    ).toBe(
      'NAME   TYPE           CLUSTER-IP   EXTERNAL-IP   PORT(S)          AGE\n' +
        'web    ClusterIP      10.43.0.12   <none>        80/TCP,443/TCP   2d\n' +
        'mqtt   NodePort       10.43.0.13   <none>        1883:31883/TCP   2d\n' +
        'lb     LoadBalancer   <none>       <pending>     53/UDP           2d\n',
    );
  });

  it('nodes, wide', () => {
    const node = (name: string, ready: string, extra: Partial<KObject['metadata']> = {}, unschedulable = false): KObject => ({
      apiVersion: 'v1', kind: 'Node', metadata: { name, creationTimestamp: ago(20 * 86400), ...extra },
      spec: { unschedulable },
      status: {
        conditions: [{ type: 'Ready', status: ready }, { type: 'WasmBalancer', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.168.1.20' }],
        nodeInfo: { architecture: 'arm64', operatingSystem: 'linux', kernelVersion: '6.6.31+rpt-rpi-v8', osImage: 'Debian GNU/Linux 12 (bookworm)', kubeletVersion: 'v0.1.0', containerRuntimeVersion: 'process,wasi' },
      },
    });
    const nodes = [node('pi-1', 'True', { labels: { 'node-role.kubernetes.io/edge': '' } }), node('pi-2', 'False', {}, true), node('pi-3', 'Unknown')];
    expect(table('Node', nodes)).toBe(
      'NAME   STATUS                        ROLES    AGE   VERSION\n' +
        'pi-1   Ready                         edge     20d   v0.1.0\n' +
        'pi-2   NotReady,SchedulingDisabled   <none>   20d   v0.1.0\n' +
        'pi-3   Unknown                       <none>   20d   v0.1.0\n',
    );
    expect(table('Node', [nodes[0]], { wide: true })).toBe(
      'NAME   STATUS   ROLES   AGE   VERSION   INTERNAL-IP    OS-IMAGE                         KERNEL-VERSION      CONTAINER-RUNTIME   ARCH    BALANCER\n' +
        'pi-1   Ready    edge    20d   v0.1.0    192.168.1.20   Debian GNU/Linux 12 (bookworm)   6.6.31+rpt-rpi-v8   process,wasi        arm64   wasm\n',
    );
    // A node with a container engine: the engine and its version, as kubectl prints containerd's.
    const engine = node('pi-2', 'True');
    (engine.status as { nodeInfo: Record<string, unknown> }).nodeInfo.containerRuntimeVersion = 'podman://4.3.1';
    expect(table('Node', [engine], { wide: true })).toContain('6.6.31+rpt-rpi-v8   podman://4.3.1      arm64');
  });

  it('configmaps, secrets, namespaces and the NAME AGE fallback', () => {
    const meta = (name: string) => ({ name, creationTimestamp: ago(600) });
    expect(table('ConfigMap', [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('settings'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }])).toBe('NAME       DATA   AGE\nsettings   3      10m\n');
    expect(table('Secret', [{ apiVersion: 'v1', kind: 'Secret', metadata: meta('creds'), type: 'Opaque', data: { user: 'YQ==' } }])).toBe('NAME    TYPE     DATA   AGE\ncreds   Opaque   1      10m\n');
    expect(table('Namespace', [{ apiVersion: 'v1', kind: 'Namespace', metadata: meta('shop'), status: { phase: 'Terminating' } }])).toBe('NAME   STATUS        AGE\nshop   Terminating   10m\n');
    // A kind with no printer of its own falls back to NAME AGE.
    expect(table('Gadget', [{ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: meta('nightly') }])).toBe('NAME      AGE\nnightly   10m\n');
  });

  it('a table keeps its widths for later rows (get -w)', () => {
    const t = new Table(['NAME', 'STATUS']);
    expect(t.render([['web-1', 'Running']])).toBe('NAME    STATUS\nweb-1   Running\n');
    expect(t.render([['w', 'Pending']], false)).toBe('w       Pending\n');
  });

  it('names resources the kubectl way', () => {
    expect(resourceType('Deployment')).toBe('deployment.apps');
    expect(resourceType('Pod')).toBe('pod');
    expect(resourceName({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-7d9c' } })).toBe('replicaset.apps/web-7d9c');
  });
});
