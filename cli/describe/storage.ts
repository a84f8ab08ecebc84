/** `skiff describe pvc|pv`: kubectl's layout of claims and volumes, with the pods using a claim. */
import type { PersistentVolume, PersistentVolumeClaim } from '../../protocol/index.js';
import { accessModesText } from '../format/storage-columns.js';
import { DescribeWriter, formatTime } from './writer.js';

/** A PersistentVolumeClaim: class, status, volume, finalizers, capacity, access modes, the pods that use it. */
export function describeClaim(w: DescribeWriter, o: PersistentVolumeClaim, usedBy: string[]): void {
  w.field(0, 'Name', o.metadata.name).field(0, 'Namespace', o.metadata.namespace);
  w.field(0, 'StorageClass', o.spec?.storageClassName ?? '');
  w.field(0, 'Status', o.metadata.deletionTimestamp ? `Terminating (lasts since ${formatTime(o.metadata.deletionTimestamp)})` : (o.status?.phase ?? 'Pending'));
  w.field(0, 'Volume', o.spec?.volumeName ?? '');
  w.map(0, 'Labels', o.metadata.labels).map(0, 'Annotations', o.metadata.annotations);
  w.field(0, 'Finalizers', `[${(o.metadata.finalizers ?? []).join(' ')}]`);
  w.field(0, 'Capacity', o.status?.capacity?.storage ?? '');
  w.field(0, 'Access Modes', accessModesText(o.status?.accessModes));
  w.field(0, 'VolumeMode', o.spec?.volumeMode ?? 'Filesystem');
  w.field(0, 'Used By', usedBy.length ? usedBy.join(', ') : '<none>');
}

/** A PersistentVolume: class, status, claim, reclaim policy, node affinity, source. */
export function describeVolume(w: DescribeWriter, o: PersistentVolume): void {
  const s = o.spec;
  w.field(0, 'Name', o.metadata.name);
  w.map(0, 'Labels', o.metadata.labels).map(0, 'Annotations', o.metadata.annotations);
  w.field(0, 'Finalizers', `[${(o.metadata.finalizers ?? []).join(' ')}]`);
  w.field(0, 'StorageClass', s.storageClassName ?? '');
  w.field(0, 'Status', o.metadata.deletionTimestamp ? 'Terminating' : (o.status?.phase ?? 'Available'));
  w.field(0, 'Claim', s.claimRef ? `${s.claimRef.namespace}/${s.claimRef.name}` : '');
  w.field(0, 'Reclaim Policy', s.persistentVolumeReclaimPolicy ?? 'Retain');
  w.field(0, 'Access Modes', accessModesText(s.accessModes));
  w.field(0, 'VolumeMode', s.volumeMode ?? 'Filesystem');
  w.field(0, 'Capacity', s.capacity?.storage ?? '');
  const terms = s.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  if (terms.length) {
    w.section(0, 'Node Affinity').section(1, 'Required Terms');
    for (const t of terms) w.text(2, `Term 0:        ${(t.matchExpressions ?? []).map((e) => `${e.key} ${e.operator.toLowerCase()} [${(e.values ?? []).join(', ')}]`).join(', ')}`);
  } else w.field(0, 'Node Affinity', '<none>');
  w.field(0, 'Message', o.status?.message ?? '');
  w.section(0, 'Source');
  if (s.hostPath) w.field(1, 'Type', 'HostPath (bare host directory volume)').field(1, 'Path', s.hostPath.path).field(1, 'HostPathType', s.hostPath.type ?? '');
  if (s.local) w.field(1, 'Type', 'LocalVolume (a persistent volume backed by local storage on a node)').field(1, 'Path', s.local.path);
}
