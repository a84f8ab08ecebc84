/**
 * Tiny builders for controller tests, as Kubernetes' tests have `newPod`, `newReplicaSet`,
 * `nodeWithTaints`: each takes the few fields a test cares about and fills the rest validly. They
 * build manifests; `Harness.create` validates and defaults them as `skiff apply` would.
 */
import type {
  Condition,
  CronJob,
  DaemonSet,
  Deployment,
  HorizontalPodAutoscaler,
  Job,
  KObject,
  MetricSpec,
  Node,
  Pod,
  ReplicaSet,
  Service,
  Taint,
  Toleration,
} from '../../protocol/index.js';
import { controllerRef } from '../../master/controllers/pods.js';

type Labels = Record<string, string>;

/** The container every builder's pods run: a process pod. */
export const container = (version = 'v1', extra: Partial<Pod['spec']['containers'][0]> = {}): Pod['spec']['containers'][0] => ({
  name: 'main',
  command: ['sleep', '600'],
  env: [{ name: 'VERSION', value: version }],
  ...extra,
});

/** A pod's VERSION env (the builders' way to tell templates apart). */
export const versionOf = (p: { spec: Pod['spec'] }): string | undefined => p.spec.containers[0].env?.find((e) => e.name === 'VERSION')?.value;

/** A pod, optionally bound, running, ready, owned, restarted. */
export function podWith(o: {
  name: string;
  labels?: Labels;
  node?: string;
  phase?: NonNullable<Pod['status']>['phase'];
  ready?: boolean;
  /** When it turned ready (RFC 3339); absent: available at once whatever minReadySeconds says. */
  readySince?: string;
  restarts?: number;
  owner?: KObject;
  namespace?: string;
  tolerations?: Toleration[];
  ports?: { name?: string; containerPort: number }[];
  podIP?: string;
  requests?: { cpu?: string; memory?: string };
  terminationGracePeriodSeconds?: number;
}): Pod {
  const conditions: Condition[] = o.ready !== undefined ? [{ type: 'Ready', status: o.ready ? 'True' : 'False', ...(o.readySince ? { lastTransitionTime: o.readySince } : {}) }] : [];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace ?? 'default', labels: o.labels ?? { app: 'web' }, ...(o.owner ? { ownerReferences: [controllerRef(o.owner)] } : {}) },
    spec: {
      containers: [container('v1', { ...(o.ports ? { ports: o.ports } : {}), ...(o.requests ? { resources: { requests: o.requests } } : {}) })],
      ...(o.node ? { nodeName: o.node } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.terminationGracePeriodSeconds !== undefined ? { terminationGracePeriodSeconds: o.terminationGracePeriodSeconds } : {}),
    },
    status: {
      phase: o.phase ?? (o.ready ? 'Running' : 'Pending'),
      conditions,
      ...(o.restarts !== undefined ? { containerStatuses: [{ name: 'main', ready: !!o.ready, restartCount: o.restarts, state: { running: {} } }] } : {}),
      ...(o.podIP ? { podIP: o.podIP } : {}),
    },
  };
}

/** A ReplicaSet selecting `labels` (default app=web). */
export function rsWith(o: { name?: string; replicas?: number; labels?: Labels; minReadySeconds?: number; version?: string } = {}): ReplicaSet {
  const labels = o.labels ?? { app: 'web' };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: o.name ?? 'web', namespace: 'default' },
    spec: {
      replicas: o.replicas ?? 1,
      ...(o.minReadySeconds !== undefined ? { minReadySeconds: o.minReadySeconds } : {}),
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [container(o.version)] } },
    },
  };
}

/** A Deployment of app=NAME whose template carries `version`. */
export function deploymentWith(o: {
  name?: string;
  replicas?: number;
  version?: string;
  strategy?: 'RollingUpdate' | 'Recreate';
  maxSurge?: number | string;
  maxUnavailable?: number | string;
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  paused?: boolean;
  labels?: Labels;
}): Deployment {
  const name = o.name ?? 'web';
  const labels = o.labels ?? { app: name };
  const rolling = o.maxSurge !== undefined || o.maxUnavailable !== undefined ? { rollingUpdate: { maxSurge: o.maxSurge ?? '25%', maxUnavailable: o.maxUnavailable ?? '25%' } } : {};
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: labels },
      strategy: o.strategy === 'Recreate' ? { type: 'Recreate' } : { type: 'RollingUpdate', ...rolling },
      ...(o.minReadySeconds !== undefined ? { minReadySeconds: o.minReadySeconds } : {}),
      ...(o.revisionHistoryLimit !== undefined ? { revisionHistoryLimit: o.revisionHistoryLimit } : {}),
      ...(o.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      ...(o.paused ? { paused: true } : {}),
      template: { metadata: { labels }, spec: { containers: [container(o.version ?? 'v1')] } },
    },
  };
}

/** A Node, Ready unless told otherwise. */
export function nodeWith(o: { name: string; labels?: Labels; taints?: Taint[]; ready?: boolean | 'Unknown'; unschedulable?: boolean; ip?: string }): Node {
  const ready = o.ready === undefined ? 'True' : o.ready === 'Unknown' ? 'Unknown' : o.ready ? 'True' : 'False';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: o.name, labels: { 'kubernetes.io/hostname': o.name, ...(o.labels ?? {}) } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: { cpu: '4', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '4Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: ready }],
      addresses: [{ type: 'InternalIP', address: o.ip ?? '10.0.0.1' }],
    },
  };
}

/** A DaemonSet of app=NAME. */
export function dsWith(o: { name?: string; version?: string; nodeSelector?: Labels; tolerations?: Toleration[]; maxUnavailable?: number | string; onDelete?: boolean; minReadySeconds?: number } = {}): DaemonSet {
  const name = o.name ?? 'agent';
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: name } },
      ...(o.minReadySeconds !== undefined ? { minReadySeconds: o.minReadySeconds } : {}),
      updateStrategy: o.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: o.maxUnavailable ?? 1 } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [container(o.version)], ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}), ...(o.tolerations ? { tolerations: o.tolerations } : {}) },
      },
    },
  };
}

/** A Job of job=NAME pods. */
export function jobWith(o: { name?: string; completions?: number; parallelism?: number; backoffLimit?: number; activeDeadlineSeconds?: number; ttlSecondsAfterFinished?: number; restartPolicy?: 'Never' | 'OnFailure' } = {}): Job {
  const name = o.name ?? 'batch';
  const spec: Job['spec'] = { template: { metadata: { labels: { job: name } }, spec: { restartPolicy: o.restartPolicy ?? 'Never', containers: [container()] } } };
  for (const k of ['completions', 'parallelism', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished'] as const) if (o[k] !== undefined) spec[k] = o[k];
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default' }, spec };
}

/** A CronJob (every minute unless told otherwise) whose Jobs' pods carry cron=NAME. */
export function cronJobWith(o: {
  name?: string;
  schedule?: string;
  timeZone?: string;
  concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
  suspend?: boolean;
  startingDeadlineSeconds?: number;
  successfulJobsHistoryLimit?: number;
  failedJobsHistoryLimit?: number;
} = {}): CronJob {
  const name = o.name ?? 'tick';
  const spec: CronJob['spec'] = {
    schedule: o.schedule ?? '* * * * *',
    jobTemplate: { metadata: { labels: { cron: name } }, spec: { template: { metadata: { labels: { cron: name } }, spec: { restartPolicy: 'Never', containers: [container()] } } } },
  };
  for (const k of ['timeZone', 'concurrencyPolicy', 'suspend', 'startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit'] as const)
    if (o[k] !== undefined) (spec as Record<string, unknown>)[k] = o[k];
  return { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default' }, spec };
}

/** An HPA on Deployment NAME. */
export function hpaWith(o: { name?: string; min?: number; max: number; metrics: MetricSpec[]; upWindow?: number; downWindow?: number }): HorizontalPodAutoscaler {
  const name = o.name ?? 'web';
  const behavior = {
    ...(o.upWindow !== undefined ? { scaleUp: { stabilizationWindowSeconds: o.upWindow } } : {}),
    ...(o.downWindow !== undefined ? { scaleDown: { stabilizationWindowSeconds: o.downWindow } } : {}),
  };
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name, namespace: 'default' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name }, ...(o.min !== undefined ? { minReplicas: o.min } : {}), maxReplicas: o.max, metrics: o.metrics, behavior },
  };
}

/** A Service selecting `selector` with the given ports. */
export function serviceWith(o: { name?: string; selector?: Labels; ports: Service['spec']['ports'] }): Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: o.name ?? 'web', namespace: 'default' }, spec: { ...(o.selector ? { selector: o.selector } : {}), ports: o.ports } };
}
