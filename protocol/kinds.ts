/**
 * The registry of resource kinds Skiff serves: names as kubectl takes them (singular, plural, short),
 * apiVersion, scope, and each kind's validation and defaults. Controllers and the CLI look kinds up
 * here and nowhere else.
 */
import type { Checker } from './check.js';
import { SkiffError } from './errors.js';
import { checkConfigMap, checkNamespace, checkNode, checkSecret, checkService, defaultConfigMap, defaultSecret, defaultService } from './resources/core.js';
import { checkPodSpec, defaultPodSpec } from './resources/podspec.js';
import { checkDeployment, checkReplicaSet, defaultDeployment, defaultReplicaSet } from './resources/workloads.js';
import { checkDaemonSet, defaultDaemonSet } from './resources/daemonset.js';
import { checkJob, defaultJob } from './resources/job.js';
import { checkCronJob, defaultCronJob } from './resources/cronjob.js';
import { checkHpa, defaultHpa } from './resources/hpa.js';
import { checkEndpoints, defaultEndpoints } from './resources/endpoints.js';
import { checkControllerRevision } from './resources/controllerrevision.js';
import { checkStatefulSet, defaultStatefulSet } from './resources/statefulset.js';
import {
  checkPersistentVolume,
  checkPersistentVolumeClaim,
  checkStorageClass,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultStorageClass,
} from './resources/storage.js';
import { checkLimitRange, checkResourceQuota } from './resources/quota.js';
import { checkLease } from './resources/lease.js';
import type { KindMap, KindName, KObject } from './types.js';

/** What Skiff knows about one kind. */
export interface KindInfo {
  kind: string;
  apiVersion: string;
  plural: string;
  singular: string;
  short: readonly string[];
  namespaced: boolean;
  /** Names must be DNS labels (not subdomains): namespaces, services. */
  labelName?: boolean;
  /** Fields that set a number of pods, bounded by the master's --max-replicas (limits.ts checkPodCounts). */
  podCounts?: readonly string[];
  /** Checks the kind-specific fields (metadata is checked for every kind). */
  check(c: Checker, o: Record<string, any>): void;
  /** Fills defaults in place, after a successful check. */
  defaults(o: any): void;
}

const none = () => {};

/** Events are records of what happened, written by Skiff itself: nothing to check (an apply of one is refused by the API, master/api/handlers/apply.ts). */
function refuseEvent(_c: Checker): void {}

/** Every kind, by its Kind name. */
export const kinds = {
  Namespace: { kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces', singular: 'namespace', short: ['ns'], namespaced: false, labelName: true, check: checkNamespace, defaults: none },
  Node: { kind: 'Node', apiVersion: 'v1', plural: 'nodes', singular: 'node', short: ['no'], namespaced: false, check: checkNode, defaults: none },
  Pod: {
    kind: 'Pod', apiVersion: 'v1', plural: 'pods', singular: 'pod', short: ['po'], namespaced: true,
    check: (c: Checker, o: Record<string, any>) => checkPodSpec(c, o.spec, 'spec'),
    defaults: (o: any) => defaultPodSpec(o.spec),
  },
  ReplicaSet: {
    kind: 'ReplicaSet', apiVersion: 'apps/v1', plural: 'replicasets', singular: 'replicaset', short: ['rs'], namespaced: true,
    podCounts: ['spec.replicas'], check: checkReplicaSet, defaults: defaultReplicaSet,
  },
  Deployment: {
    kind: 'Deployment', apiVersion: 'apps/v1', plural: 'deployments', singular: 'deployment', short: ['deploy'], namespaced: true,
    podCounts: ['spec.replicas'], check: checkDeployment, defaults: defaultDeployment,
  },
  StatefulSet: {
    kind: 'StatefulSet', apiVersion: 'apps/v1', plural: 'statefulsets', singular: 'statefulset', short: ['sts'], namespaced: true,
    podCounts: ['spec.replicas'], check: checkStatefulSet, defaults: defaultStatefulSet,
  },
  DaemonSet: { kind: 'DaemonSet', apiVersion: 'apps/v1', plural: 'daemonsets', singular: 'daemonset', short: ['ds'], namespaced: true, check: checkDaemonSet, defaults: defaultDaemonSet },
  Job: {
    kind: 'Job', apiVersion: 'batch/v1', plural: 'jobs', singular: 'job', short: [], namespaced: true,
    podCounts: ['spec.parallelism', 'spec.completions'], check: checkJob, defaults: defaultJob,
  },
  CronJob: {
    kind: 'CronJob', apiVersion: 'batch/v1', plural: 'cronjobs', singular: 'cronjob', short: ['cj'], namespaced: true,
    podCounts: ['spec.jobTemplate.spec.parallelism', 'spec.jobTemplate.spec.completions'], check: checkCronJob, defaults: defaultCronJob,
  },
  HorizontalPodAutoscaler: {
    kind: 'HorizontalPodAutoscaler', apiVersion: 'autoscaling/v2', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', short: ['hpa'], namespaced: true,
    podCounts: ['spec.minReplicas', 'spec.maxReplicas'], check: checkHpa, defaults: defaultHpa,
  },
  Service: { kind: 'Service', apiVersion: 'v1', plural: 'services', singular: 'service', short: ['svc'], namespaced: true, labelName: true, check: checkService, defaults: defaultService },
  Endpoints: { kind: 'Endpoints', apiVersion: 'v1', plural: 'endpoints', singular: 'endpoints', short: ['ep'], namespaced: true, check: checkEndpoints, defaults: defaultEndpoints },
  ConfigMap: { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', singular: 'configmap', short: ['cm'], namespaced: true, check: checkConfigMap, defaults: defaultConfigMap },
  Secret: { kind: 'Secret', apiVersion: 'v1', plural: 'secrets', singular: 'secret', short: [], namespaced: true, check: checkSecret, defaults: defaultSecret },
  PersistentVolumeClaim: {
    kind: 'PersistentVolumeClaim', apiVersion: 'v1', plural: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', short: ['pvc'], namespaced: true,
    check: checkPersistentVolumeClaim, defaults: defaultPersistentVolumeClaim,
  },
  PersistentVolume: {
    kind: 'PersistentVolume', apiVersion: 'v1', plural: 'persistentvolumes', singular: 'persistentvolume', short: ['pv'], namespaced: false,
    check: checkPersistentVolume, defaults: defaultPersistentVolume,
  },
  StorageClass: {
    kind: 'StorageClass', apiVersion: 'storage.k8s.io/v1', plural: 'storageclasses', singular: 'storageclass', short: ['sc'], namespaced: false,
    check: checkStorageClass, defaults: defaultStorageClass,
  },
  ResourceQuota: { kind: 'ResourceQuota', apiVersion: 'v1', plural: 'resourcequotas', singular: 'resourcequota', short: ['quota'], namespaced: true, check: checkResourceQuota, defaults: none },
  LimitRange: { kind: 'LimitRange', apiVersion: 'v1', plural: 'limitranges', singular: 'limitrange', short: ['limits'], namespaced: true, check: checkLimitRange, defaults: none },
  ControllerRevision: {
    kind: 'ControllerRevision', apiVersion: 'apps/v1', plural: 'controllerrevisions', singular: 'controllerrevision', short: [], namespaced: true,
    check: checkControllerRevision, defaults: none,
  },
  /** The controller leadership (skiff-system/skiff-controller), written by the leading master (docs/ha.md). */
  Lease: { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', plural: 'leases', singular: 'lease', short: [], namespaced: true, check: checkLease, defaults: none },
  /** Recorded by the master and its agents, kept in the master's memory for --event-ttl (docs/observability.md); never applied. */
  Event: { kind: 'Event', apiVersion: 'v1', plural: 'events', singular: 'event', short: ['ev'], namespaced: true, check: refuseEvent, defaults: none },
} satisfies { [K in KindName]: KindInfo };

const byName = new Map<string, KindInfo>();
/** The names looked up as given, without lowercasing or a group suffix: `Pod` (every object's own kind), `pods`, `po`. */
const byExactName = new Map<string, KindInfo>();
function addNames(k: KindInfo): void {
  for (const n of [k.kind.toLowerCase(), k.plural, k.singular, ...k.short]) byName.set(n, k);
  for (const n of [k.kind, k.kind.toLowerCase(), k.plural, k.singular, ...k.short]) byExactName.set(n, k);
}
for (const k of Object.values(kinds) as KindInfo[]) addNames(k);

/** Looks a kind up by any name kubectl accepts (Deployment, deployments, deploy, deployment.apps); undefined if unknown. */
export function findKind(name: string): KindInfo | undefined {
  // The master asks with an object's own kind tens of thousands of times a second in a rollout: one lookup, no regex.
  const exact = byExactName.get(name);
  if (exact) return exact;
  const n = name.toLowerCase().replace(/\.(apps|v1|core|batch|autoscaling|storage\.k8s\.io|storage|coordination\.k8s\.io)(\/v[12])?$/, '');
  return byName.get(n);
}

/** Looks a kind up or throws SKIFF_ERR_UNKNOWN_KIND listing the kinds there are. */
export function kindOf(name: string): KindInfo {
  const k = findKind(name);
  if (!k) throw new SkiffError('SKIFF_ERR_UNKNOWN_KIND', `unknown kind "${name}": Skiff serves ${Object.keys(kinds).join(', ')}`);
  return k;
}

/** Registers another kind (workload controllers that live in later modules add theirs). */
export function registerKind(info: KindInfo): void {
  (kinds as Record<string, KindInfo>)[info.kind] = info;
  addNames(info);
}

/** The store key of an object: `/registry/{plural}/{namespace}/{name}` or `/registry/{plural}/{name}`. */
export function objectKey(kind: KindInfo, namespace: string | undefined, name: string): string {
  return kind.namespaced ? `/registry/${kind.plural}/${namespace ?? 'default'}/${name}` : `/registry/${kind.plural}/${name}`;
}

/** The store prefix of a kind, optionally within one namespace. */
export function kindPrefix(kind: KindInfo, namespace?: string): string {
  return kind.namespaced && namespace ? `/registry/${kind.plural}/${namespace}/` : `/registry/${kind.plural}/`;
}

/** `Kind/name` or `Kind/namespace/name`, for messages. */
export function describeRef(o: Pick<KObject, 'kind' | 'metadata'>): string {
  return `${o.kind}/${o.metadata?.name ?? '?'}`;
}

/**
 * Fills an object's defaults (its kind's `defaults` above) in place and returns it. Idempotent. Applied
 * wherever an object enters or leaves the store — admission, the master's own creates, every read
 * (cache, API) — and where the agent takes in a desired set, so an object stored before a default
 * existed reads as if defaulted (Kubernetes defaults on decode the same way), and the code that uses
 * an object never restates a default.
 */
export function applyDefaults<T extends KObject>(o: T): T {
  const info = typeof o?.kind === 'string' ? findKind(o.kind) : undefined;
  if (!info || info.kind !== o.kind) return o;
  try {
    info.defaults(o);
  } catch {
    // A stored object that no longer has its kind's shape (written before a rule existed) is served as stored.
  }
  return o;
}

/**
 * True when an object is of `kind`, narrowing it to that kind's type. An object that came through the
 * master (or through normalizeObject) has its kind's shape, which is what makes the narrowing true.
 */
export function isKind<K extends KindName>(o: KObject, kind: K): o is KindMap[K] {
  return o.kind === kind;
}

/** The object as its kind's type; SKIFF_ERR_BAD_REQUEST when it is of another kind. */
export function asKind<K extends KindName>(o: KObject, kind: K): KindMap[K] {
  if (!isKind(o, kind)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${describeRef(o)}: expected a ${kind}`);
  return o;
}
