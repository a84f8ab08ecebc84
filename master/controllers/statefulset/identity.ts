/**
 * A StatefulSet pod's identity, as Kubernetes gives it (pkg/controller/statefulset/stateful_set_utils.go):
 * the name `<set>-<ordinal>`, the labels `statefulset.kubernetes.io/pod-name`, `apps.kubernetes.io/pod-index`
 * and `controller-revision-hash` (the revision's name), `spec.hostname` = the pod's name and
 * `spec.subdomain` = the set's serviceName (so a headless Service of that name gives it the DNS name
 * `<pod>.<service>.<namespace>.svc.cluster.local`), and one volume per claim template, on the claim
 * `<template>-<set>-<ordinal>`.
 */
import type { PersistentVolumeClaim, Pod, PodTemplateSpec, StatefulSet } from '../../../protocol/index.js';
import { controllerRef } from '../pods.js';

/** The label naming a StatefulSet pod (its Service can select one pod by it). */
export const podNameLabel = 'statefulset.kubernetes.io/pod-name';
/** The label with a StatefulSet pod's ordinal. */
export const podIndexLabel = 'apps.kubernetes.io/pod-index';
/** The label with the revision a pod was made from (the ControllerRevision's name, for StatefulSets). */
export const revisionLabel = 'controller-revision-hash';

/** The first ordinal of a set (spec.ordinals.start, default 0). */
export function startOrdinal(set: StatefulSet): number {
  return set.spec.ordinals?.start ?? 0;
}

/** The ordinal a pod of `set` has by its name, or undefined when the name is not `<set>-<n>`. */
export function ordinalOf(set: StatefulSet, pod: Pod): number | undefined {
  const prefix = `${set.metadata.name}-`;
  const rest = pod.metadata.name.startsWith(prefix) ? pod.metadata.name.slice(prefix.length) : '';
  return /^(0|[1-9][0-9]*)$/.test(rest) ? Number(rest) : undefined;
}

/** The pod name of an ordinal. */
export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata.name}-${ordinal}`;
}

/** The claim of a template for an ordinal: `<template>-<set>-<ordinal>`. */
export function claimName(template: string, set: StatefulSet, ordinal: number): string {
  return `${template}-${podName(set, ordinal)}`;
}

/** The pod of `ordinal` from `template` (the revision `revision` of the set's template). */
export function statefulPod(set: StatefulSet, ordinal: number, template: PodTemplateSpec, revision: string): Pod {
  const name = podName(set, ordinal);
  const spec = structuredClone(template.spec);
  const claims = (set.spec.volumeClaimTemplates ?? []).map((t) => t.metadata.name);
  spec.volumes = [
    ...(spec.volumes ?? []).filter((v) => !claims.includes(v.name)),
    ...claims.map((t) => ({ name: t, persistentVolumeClaim: { claimName: claimName(t, set, ordinal) } })),
  ];
  if (spec.volumes.length === 0) delete spec.volumes;
  spec.hostname = name;
  if (set.spec.serviceName) spec.subdomain = set.spec.serviceName;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: set.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), [podNameLabel]: name, [podIndexLabel]: String(ordinal), [revisionLabel]: revision },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(set)],
    },
    spec,
    status: { phase: 'Pending' },
  };
}

/**
 * The claims of an ordinal from the set's templates, labelled with the set's selector labels. A claim's
 * owner is the set when whenDeleted is Delete (it goes with the set), none when Retain; claimOwners adds
 * the pod for whenScaled Delete.
 */
export function statefulClaims(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  return (set.spec.volumeClaimTemplates ?? []).map((t) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name: claimName(t.metadata.name, set, ordinal),
      namespace: set.metadata.namespace,
      labels: { ...(t.metadata.labels ?? {}), ...(set.spec.selector.matchLabels ?? {}) },
      ...(t.metadata.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ...(set.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete' ? { ownerReferences: [{ ...controllerRef(set), controller: false }] } : {}),
    },
    spec: structuredClone(t.spec),
  }));
}
