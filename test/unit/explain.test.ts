/**
 * `skiff explain` reads protocol/explain, validation is code in protocol/resources: this suite keeps them
 * from drifting apart. Every field path a validator looks at — over the examples and a manifest per kind
 * that sets every field validation knows — must be described; the examples must raise no unknown-field
 * warning; and every kind Skiff serves has documentation.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kinds, kindDoc, kindOf, normalizeObject, parseManifests, recordCheckedFields, unknownFields, type FieldDoc } from '../../protocol/index.js';

const container = {
  name: 'c',
  command: ['run'],
  args: ['--x'],
  workingDir: '/srv',
  env: [
    { name: 'A', value: '1' },
    { name: 'B', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'C', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
    { name: 'D', valueFrom: { configMapKeyRef: { name: 'cm', key: 'k' } } },
    { name: 'E', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
  ],
  envFrom: [{ configMapRef: { name: 'cm' } }, { secretRef: { name: 's' } }],
  ports: [{ name: 'http', containerPort: 80, hostPort: 8080, protocol: 'TCP' }],
  resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi', 'ephemeral-storage': '1Gi' } },
  livenessProbe: { httpGet: { path: '/', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 1, periodSeconds: 2, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
  readinessProbe: { tcpSocket: { port: 80 } },
  startupProbe: { exec: { command: ['true'] } },
  volumeMounts: [{ name: 'v1', mountPath: 'data', readOnly: true }],
};

const podSpec = {
  containers: [container],
  restartPolicy: 'Always',
  nodeName: 'pi-1',
  hostname: 'h',
  subdomain: 'svc',
  nodeSelector: { zone: 'a' },
  runtimeClassName: 'process',
  terminationGracePeriodSeconds: 5,
  tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoExecute', tolerationSeconds: 5 }],
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['b'] }] }] },
      preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 5, preference: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } }],
    },
  },
  topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }],
  volumes: [
    { name: 'v1', emptyDir: {} },
    { name: 'v2', hostPath: { path: '/tmp' } },
    { name: 'v3', configMap: { name: 'cm' } },
    { name: 'v4', secret: { secretName: 's' } },
    { name: 'v5', persistentVolumeClaim: { claimName: 'data', readOnly: false } },
  ],
};

const meta = (name: string) => ({ name, namespace: 'default', labels: { app: 'x' }, annotations: { a: 'b' }, finalizers: ['example.com/keep'] });
const template = (restartPolicy = 'Always') => ({ metadata: { labels: { app: 'x' }, annotations: { a: 'b' } }, spec: { ...podSpec, restartPolicy } });
const selector = { matchLabels: { app: 'x' }, matchExpressions: [{ key: 'app', operator: 'In', values: ['x'] }] };
const claimSpec = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' }, limits: { storage: '2Gi' } }, storageClassName: 'local-path', volumeName: 'pv-1', volumeMode: 'Filesystem', selector };
const jobSpec = { completions: 1, parallelism: 1, backoffLimit: 2, activeDeadlineSeconds: 60, ttlSecondsAfterFinished: 10, template: template('Never') };

/** One manifest per kind that sets every field its validator checks. */
const everyField: Record<string, object> = {
  Namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns', labels: { a: 'b' } } },
  Node: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'pi-1' }, spec: { unschedulable: true, taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] } },
  Pod: { apiVersion: 'v1', kind: 'Pod', metadata: meta('p'), spec: podSpec },
  ReplicaSet: { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta('rs'), spec: { replicas: 2, minReadySeconds: 1, selector, template: template() } },
  Deployment: {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('d'),
    spec: { replicas: 2, minReadySeconds: 1, revisionHistoryLimit: 3, progressDeadlineSeconds: 60, paused: false, selector, template: template(), strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: '25%' } } },
  },
  DaemonSet: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: meta('ds'), spec: { selector, template: template(), minReadySeconds: 1, revisionHistoryLimit: 2, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } } } },
  Job: { apiVersion: 'batch/v1', kind: 'Job', metadata: meta('j'), spec: jobSpec },
  CronJob: {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: meta('cj'),
    spec: { schedule: '*/5 * * * *', timeZone: 'Europe/Berlin', concurrencyPolicy: 'Forbid', suspend: false, startingDeadlineSeconds: 10, successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1, jobTemplate: { metadata: { labels: { a: 'b' }, annotations: { a: 'b' } }, spec: jobSpec } },
  },
  HorizontalPodAutoscaler: {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: meta('h'),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' },
      minReplicas: 1,
      maxReplicas: 3,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
        { type: 'External', external: { metric: { name: 'greenhouse/temp' }, target: { type: 'AverageValue', averageValue: '20' } } },
      ],
      behavior: { scaleUp: { stabilizationWindowSeconds: 0 }, scaleDown: { stabilizationWindowSeconds: 60 } },
    },
  },
  Service: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta('svc'),
    spec: { type: 'NodePort', selector: { app: 'x' }, sessionAffinity: 'ClientIP', ports: [{ name: 'a', port: 80, targetPort: 'http', nodePort: 30080, protocol: 'TCP' }, { name: 'b', port: 81, targetPort: 81 }] },
  },
  Endpoints: { apiVersion: 'v1', kind: 'Endpoints', metadata: meta('svc'), subsets: [{ addresses: [{ ip: '10.0.0.1' }], notReadyAddresses: [{ ip: '10.0.0.2' }], ports: [{ name: 'a', port: 80, protocol: 'TCP' }] }] },
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('cm'), data: { k: 'v' }, binaryData: { b: 'AA==' }, immutable: false },
  Secret: { apiVersion: 'v1', kind: 'Secret', metadata: meta('s'), data: { k: 'dg==' }, stringData: { p: 'v' }, type: 'Opaque', immutable: false },
  Event: { apiVersion: 'v1', kind: 'Event', metadata: meta('e'), involvedObject: { kind: 'Pod', name: 'p' }, reason: 'Started', message: 'Started container c', type: 'Normal' },
  ControllerRevision: { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: meta('r'), data: { spec: {} }, revision: 1 },
  StatefulSet: {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: meta('web'),
    spec: {
      replicas: 3,
      selector,
      template: template(),
      serviceName: 'web',
      podManagementPolicy: 'Parallel',
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1, maxUnavailable: 1 } },
      revisionHistoryLimit: 5,
      minReadySeconds: 1,
      volumeClaimTemplates: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', labels: { a: 'b' }, annotations: { a: 'b' } }, spec: claimSpec }],
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' },
      ordinals: { start: 1 },
    },
  },
  PersistentVolumeClaim: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: meta('data'), spec: claimSpec },
  PersistentVolume: {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'pv-1', labels: { a: 'b' } },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      storageClassName: 'local-path',
      volumeMode: 'Filesystem',
      hostPath: { path: '/srv/data', type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['pi-1'] }] }] } },
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: 'default', name: 'data', uid: 'u' },
    },
  },
  StorageClass: { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'fast' }, provisioner: 'rancher.io/local-path', parameters: { a: 'b' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: false },
  ResourceQuota: { apiVersion: 'v1', kind: 'ResourceQuota', metadata: meta('compute'), spec: { hard: { pods: '10', 'requests.cpu': '2', 'count/deployments.apps': 3 } } },
  LimitRange: {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: meta('limits'),
    spec: { limits: [{ type: 'Container', max: { cpu: '2' }, min: { cpu: '10m' }, default: { cpu: '500m' }, defaultRequest: { cpu: '100m' }, maxLimitRequestRatio: { cpu: '10' } }] },
  },
  Lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta('l'), spec: { holderIdentity: 'm1', leaseDurationSeconds: 3, acquireTime: '2026-12-01T00:00:00.000Z', renewTime: '2026-12-01T00:00:01.000Z', leaseTransitions: 1 } },
};

/** True when a recorded path (`spec.containers[0].ports[1].name`, `metadata.labels[app]`) is described. */
function described(kind: string, path: string): boolean {
  if (path === 'document') return true;
  let fields: Record<string, FieldDoc> | undefined = kindDoc(kind)!.fields;
  for (const part of path.replace(/\[[^\]]*\]/g, '').split('.')) {
    const f: FieldDoc | undefined = fields && Object.hasOwn(fields, part) ? fields[part] : undefined;
    if (!f) return false;
    if (f.type.startsWith('map[') || f.type === 'Object') return true; // user keys below
    fields = f.fields;
  }
  return true;
}

describe('explain and validation share one description of the fields', () => {
  const examples = readdirSync('examples')
    .filter((f) => /\.ya?ml$/.test(f))
    .flatMap((f) => parseManifests(readFileSync(join('examples', f), 'utf8'), f) as { kind: string }[]);

  it('every kind Skiff serves is documented, and the manifests here set every field validation checks', () => {
    for (const k of Object.keys(kinds)) {
      expect(kindDoc(k), k).toBeDefined();
      expect(everyField[k], `a manifest of ${k} in this test`).toBeDefined();
    }
  });

  it.each(Object.keys(everyField))('%s: every field its validation looks at is described', (kind) => {
    const docs = [everyField[kind], ...examples.filter((e) => e.kind === kind)];
    for (const doc of docs) {
      const { fields } = recordCheckedFields(() => normalizeObject(doc));
      expect(fields.size).toBeGreaterThan(0);
      const missing = [...fields].filter((f) => !described(kind, f));
      expect(missing, `${kind} fields validated but not described in protocol/explain`).toEqual([]);
    }
  });

  it('the manifests above and the examples have no field the descriptions do not know (no apply warning)', () => {
    for (const doc of [...Object.values(everyField), ...examples] as { kind: string }[]) expect(unknownFields(kindOf(doc.kind).kind, doc), doc.kind).toEqual([]);
  });

  it('a typo is an unknown field, at its path; status and user maps are not walked', () => {
    const d = structuredClone(everyField.Deployment) as any;
    d.spec.replicsa = 3;
    d.spec.template.spec.containers[0].imagePullPolcy = 'Always';
    d.status = { anything: 1 };
    expect(unknownFields('Deployment', d)).toEqual(['spec.template.spec.containers.imagePullPolcy', 'spec.replicsa']);
  });
});
