/** `skiff get` columns of PersistentVolumeClaims, PersistentVolumes, StorageClasses, ResourceQuotas and LimitRanges, as kubectl prints them. */
import type { KObject, PersistentVolume, PersistentVolumeClaim, ResourceQuota } from '../../protocol/index.js';
import { age } from './age.js';
import type { Printers } from './types.js';

const created = (o: KObject, now: number) => age(o.metadata.creationTimestamp, now);
const modeNames: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

/** ACCESS MODES as kubectl abbreviates them: RWO,ROX,RWX,RWOP. */
export function accessModesText(modes: unknown): string {
  return (Array.isArray(modes) ? modes : []).map((m) => (Object.hasOwn(modeNames, m) ? modeNames[m] : String(m))).join(',');
}

/** A claim's STATUS: its phase, Terminating while it is being deleted. */
function phase(o: PersistentVolumeClaim): string {
  return o.metadata.deletionTimestamp ? 'Terminating' : String(o.status?.phase ?? 'Pending');
}

/** REQUEST or LIMIT of a quota: `requests.cpu: 500m/2, pods: 3/10`, sorted by resource. */
function quotaColumn(o: ResourceQuota, limits: boolean): string {
  const hard: Record<string, unknown> = o.status?.hard ?? o.spec?.hard ?? {};
  const used: Record<string, unknown> = o.status?.used ?? {};
  return Object.keys(hard)
    .filter((r) => r.startsWith('limits.') === limits)
    .sort()
    .map((r) => `${r}: ${used[r] ?? '0'}/${hard[r]}`)
    .join(', ');
}

/** Printers of the kinds this file covers. */
export const storagePrinters: Printers = {
  PersistentVolumeClaim: {
    headers: ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'AGE'],
    row: (o, now) => [
      o.metadata.name,
      phase(o),
      String(o.spec?.volumeName ?? ''),
      String(o.status?.capacity?.storage ?? ''),
      accessModesText(o.status?.accessModes),
      String(o.spec?.storageClassName ?? ''),
      created(o, now),
    ],
    wideHeaders: ['VOLUMEMODE'],
    wideRow: (o) => [String(o.spec?.volumeMode ?? 'Filesystem')],
  },
  PersistentVolume: {
    headers: ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'REASON', 'AGE'],
    row: (o, now) => {
      const ref = o.spec?.claimRef;
      return [
        o.metadata.name,
        String(o.spec?.capacity?.storage ?? ''),
        accessModesText(o.spec?.accessModes),
        String(o.spec?.persistentVolumeReclaimPolicy ?? 'Retain'),
        o.metadata.deletionTimestamp ? 'Terminating' : String(o.status?.phase ?? 'Available'),
        ref ? `${ref.namespace}/${ref.name}` : '',
        String(o.spec?.storageClassName ?? ''),
        String(o.status?.reason ?? ''),
        created(o, now),
      ];
    },
    wideHeaders: ['VOLUMEMODE'],
    wideRow: (o) => [String(o.spec?.volumeMode ?? 'Filesystem')],
  },
  StorageClass: {
    headers: ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE'],
    row: (o, now) => [
      o.metadata.name + (o.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true' ? ' (default)' : ''),
      String(o.provisioner ?? ''),
      String(o.reclaimPolicy ?? 'Delete'),
      String(o.volumeBindingMode ?? 'Immediate'),
      o.allowVolumeExpansion === true ? 'true' : 'false',
      created(o, now),
    ],
  },
  ResourceQuota: {
    headers: ['NAME', 'AGE', 'REQUEST', 'LIMIT'],
    row: (o, now) => [o.metadata.name, created(o, now), quotaColumn(o, false), quotaColumn(o, true)],
  },
  LimitRange: {
    headers: ['NAME', 'CREATED AT'],
    row: (o) => [o.metadata.name, String(o.metadata.creationTimestamp ?? '')],
  },
};
