/**
 * Storage kinds (core/v1 PersistentVolumeClaim and PersistentVolume, storage.k8s.io/v1 StorageClass): their
 * types, validation and defaults. Skiff provisions claims with the `local-path` provisioner as K3s ships it
 * (rancher/local-path-provisioner): a directory on one node, the volume pinned there by node affinity
 * (docs/storage.md). Only Filesystem volumes; the access modes are recorded and matched, as in Kubernetes.
 */
import type { Checker } from '../check.js';
import { checkSelector } from '../selector.js';
import type { Condition, KObject, LabelSelector, NodeSelectorTerm, StringMap } from '../types.js';
import { checkNodeSelectorTerm } from './podspec.js';

/** The access modes of core/v1. */
export const accessModes = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;
/** An access mode. */
export type AccessMode = (typeof accessModes)[number];

/** The provisioner name of the local-path provisioner (rancher/local-path-provisioner's). */
export const localPathProvisioner = 'rancher.io/local-path';
/** The annotation that marks the cluster's default StorageClass. */
export const defaultClassAnnotation = 'storageclass.kubernetes.io/is-default-class';

/** The spec of a claim (also of a StatefulSet's volumeClaimTemplates). */
export interface PersistentVolumeClaimSpec {
  accessModes: AccessMode[];
  resources: { requests: { storage: string | number }; limits?: { storage?: string | number } };
  storageClassName?: string;
  volumeName?: string;
  volumeMode?: 'Filesystem';
  selector?: LabelSelector;
}

/** A PersistentVolumeClaim: a request for storage, bound to one PersistentVolume. */
export interface PersistentVolumeClaim extends KObject {
  kind: 'PersistentVolumeClaim';
  spec: PersistentVolumeClaimSpec;
  status?: { phase?: 'Pending' | 'Bound' | 'Lost'; accessModes?: AccessMode[]; capacity?: { storage: string }; conditions?: Condition[] };
}

/** A PersistentVolume: a piece of storage on the cluster (a directory on one node, for local-path). */
export interface PersistentVolume extends KObject {
  kind: 'PersistentVolume';
  spec: {
    capacity: { storage: string | number };
    accessModes: AccessMode[];
    persistentVolumeReclaimPolicy?: 'Retain' | 'Delete';
    storageClassName?: string;
    volumeMode?: 'Filesystem';
    hostPath?: { path: string; type?: string };
    local?: { path: string };
    nodeAffinity?: { required: { nodeSelectorTerms: NodeSelectorTerm[] } };
    claimRef?: { kind?: string; apiVersion?: string; namespace: string; name: string; uid?: string };
  };
  status?: { phase?: 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed'; message?: string; reason?: string };
}

/** A StorageClass: how claims of that class are provisioned. */
export interface StorageClass extends KObject {
  kind: 'StorageClass';
  provisioner: string;
  parameters?: StringMap;
  reclaimPolicy?: 'Retain' | 'Delete';
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  allowVolumeExpansion?: boolean;
}

/** Checks a list of access modes: at least one, each known. */
function checkAccessModes(c: Checker, v: unknown, f: string): void {
  if (!c.array(v, f, true)) return;
  if (v.length === 0) c.fail(f, 'must have at least one access mode');
  v.forEach((m, i) => c.oneOf(m, `${f}[${i}]`, accessModes, true));
}

/** Checks a claim's spec at `f` (`spec`, or `spec.volumeClaimTemplates[i].spec`). */
export function checkClaimSpec(c: Checker, s: unknown, f: string): void {
  if (!c.object(s, f, true)) return;
  checkAccessModes(c, s.accessModes, `${f}.accessModes`);
  if (c.object(s.resources, `${f}.resources`, true)) {
    if (c.object(s.resources.requests, `${f}.resources.requests`, true)) {
      c.required(s.resources.requests.storage, `${f}.resources.requests.storage`);
      c.quantity(s.resources.requests.storage, `${f}.resources.requests.storage`);
      for (const k of Object.keys(s.resources.requests)) if (k !== 'storage') c.fail(`${f}.resources.requests.${k}`, 'must be storage');
    }
    if (c.object(s.resources.limits, `${f}.resources.limits`)) c.quantity(s.resources.limits.storage, `${f}.resources.limits.storage`);
  }
  // An empty class name asks for no class (static volumes only), as in Kubernetes.
  if (c.string(s.storageClassName, `${f}.storageClassName`) && s.storageClassName !== '') c.dnsSubdomain(s.storageClassName, `${f}.storageClassName`);
  c.dnsSubdomain(s.volumeName, `${f}.volumeName`);
  c.oneOf(s.volumeMode, `${f}.volumeMode`, ['Filesystem']);
  checkSelector(c, s.selector, `${f}.selector`, false);
}

/** Checks a PersistentVolumeClaim. */
export function checkPersistentVolumeClaim(c: Checker, o: Record<string, any>): void {
  checkClaimSpec(c, o.spec, 'spec');
}

/** Checks a PersistentVolume: capacity, access modes, exactly one source (hostPath or local), node affinity, claimRef. */
export function checkPersistentVolume(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  const s = o.spec;
  if (c.object(s.capacity, 'spec.capacity', true)) {
    c.required(s.capacity.storage, 'spec.capacity.storage');
    c.quantity(s.capacity.storage, 'spec.capacity.storage');
  }
  checkAccessModes(c, s.accessModes, 'spec.accessModes');
  c.oneOf(s.persistentVolumeReclaimPolicy, 'spec.persistentVolumeReclaimPolicy', ['Retain', 'Delete']);
  if (c.string(s.storageClassName, 'spec.storageClassName') && s.storageClassName !== '') c.dnsSubdomain(s.storageClassName, 'spec.storageClassName');
  c.oneOf(s.volumeMode, 'spec.volumeMode', ['Filesystem']);
  const sources = ['hostPath', 'local'].filter((k) => s[k] !== undefined);
  if (sources.length !== 1) c.fail('spec', 'must have exactly one of hostPath, local', sources);
  for (const src of ['hostPath', 'local'])
    if (c.object(s[src], `spec.${src}`) && c.string(s[src].path, `spec.${src}.path`, true) && !s[src].path.startsWith('/')) c.fail(`spec.${src}.path`, 'must be an absolute path', s[src].path);
  if (c.object(s.hostPath, 'spec.hostPath')) c.oneOf(s.hostPath.type, 'spec.hostPath.type', ['', 'DirectoryOrCreate', 'Directory']);
  // A local volume is on one node: Kubernetes requires its node affinity.
  if (s.local !== undefined && s.nodeAffinity === undefined) c.fail('spec.nodeAffinity', 'is required for a local volume');
  if (c.object(s.nodeAffinity, 'spec.nodeAffinity') && c.object(s.nodeAffinity.required, 'spec.nodeAffinity.required', true))
    if (c.array(s.nodeAffinity.required.nodeSelectorTerms, 'spec.nodeAffinity.required.nodeSelectorTerms', true))
      s.nodeAffinity.required.nodeSelectorTerms.forEach((t: unknown, i: number) => checkNodeSelectorTerm(c, t, `spec.nodeAffinity.required.nodeSelectorTerms[${i}]`));
  if (c.object(s.claimRef, 'spec.claimRef')) {
    c.dnsLabel(s.claimRef.namespace, 'spec.claimRef.namespace', true);
    c.dnsSubdomain(s.claimRef.name, 'spec.claimRef.name', true);
    c.string(s.claimRef.uid, 'spec.claimRef.uid');
  }
}

/** Checks a StorageClass: provisioner, reclaim policy, binding mode, parameters. */
export function checkStorageClass(c: Checker, o: Record<string, any>): void {
  c.string(o.provisioner, 'provisioner', true);
  c.stringMap(o.parameters, 'parameters');
  c.oneOf(o.reclaimPolicy, 'reclaimPolicy', ['Retain', 'Delete']);
  c.oneOf(o.volumeBindingMode, 'volumeBindingMode', ['Immediate', 'WaitForFirstConsumer']);
  c.bool(o.allowVolumeExpansion, 'allowVolumeExpansion');
}

/** Claim defaults: Filesystem. (The default class is filled in at admission, where the classes are known.) */
export function defaultClaimSpec(s: PersistentVolumeClaimSpec): void {
  s.volumeMode ??= 'Filesystem';
}

/** PersistentVolumeClaim defaults. */
export function defaultPersistentVolumeClaim(o: PersistentVolumeClaim): void {
  defaultClaimSpec(o.spec);
}

/** PersistentVolume defaults, as core/v1: reclaim policy Retain, Filesystem. */
export function defaultPersistentVolume(o: PersistentVolume): void {
  o.spec.persistentVolumeReclaimPolicy ??= 'Retain';
  o.spec.volumeMode ??= 'Filesystem';
}

/** StorageClass defaults, as storage.k8s.io/v1: reclaim policy Delete, binding Immediate. */
export function defaultStorageClass(o: StorageClass): void {
  o.reclaimPolicy ??= 'Delete';
  o.volumeBindingMode ??= 'Immediate';
}
