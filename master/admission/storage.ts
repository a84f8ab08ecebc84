/**
 * Storage admission: a new claim without a class gets the default StorageClass (kube-apiserver's
 * DefaultStorageClass plugin) and the pvc-protection finalizer; a claim's spec is immutable once created,
 * except a larger storage request when its class allows expansion (Kubernetes' rule); what the binder wrote
 * (spec.volumeName, a volume's spec.claimRef) survives a re-apply of the manifest that lacks it. A new
 * volume gets the pv-protection finalizer.
 */
import { isDeepStrictEqual } from 'node:util';
import { SkiffError, defaultClassAnnotation, type KObject, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '../../protocol/index.js';
import type { Objects } from '../objects.js';
import { pvcProtection, pvProtection } from '../controllers/volumes/names.js';
import type { AdmissionBatch } from './batch.js';
import type { AdmissionPlugin } from './types.js';
import { amount } from './usage.js';

function invalid(o: KObject, field: string, rule: string): SkiffError {
  return new SkiffError('SKIFF_ERR_VALIDATION', `${o.kind}/${o.metadata.name}: ${field}: ${rule}`, [{ field, rule }]);
}

/** Adds a finalizer once. */
export function withFinalizer(o: KObject, f: string): void {
  const list = o.metadata.finalizers ?? [];
  if (!list.includes(f)) o.metadata.finalizers = [...list, f];
}

/** The default StorageClass: the newest of those annotated as default (Kubernetes picks the newest too). */
export function defaultClass(classes: StorageClass[]): StorageClass | undefined {
  return classes
    .filter((c) => c.metadata.annotations?.[defaultClassAnnotation] === 'true')
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''))[0];
}

/** The storage admission plugin. */
export class StorageAdmission implements AdmissionPlugin {
  readonly name = 'Storage';

  constructor(private readonly objects: Objects) {}

  async admit(obj: KObject, current: KObject | undefined, batch: AdmissionBatch): Promise<void> {
    if (obj.kind === 'PersistentVolumeClaim') return this.claim(obj as PersistentVolumeClaim, current as PersistentVolumeClaim | undefined, batch);
    if (obj.kind !== 'PersistentVolume') return;
    const pv = obj as PersistentVolume;
    if (!current) return withFinalizer(pv, pvProtection);
    const cur = current as PersistentVolume;
    if (pv.spec.claimRef === undefined && cur.spec.claimRef) pv.spec.claimRef = cur.spec.claimRef;
  }

  private async claim(pvc: PersistentVolumeClaim, cur: PersistentVolumeClaim | undefined, batch: AdmissionBatch): Promise<void> {
    if (!cur) {
      if (pvc.spec.storageClassName === undefined) {
        const classes = [...(await this.objects.list('StorageClass')).items, ...(batch.pendingOf('StorageClass') as StorageClass[])];
        const d = defaultClass(classes);
        if (d) pvc.spec.storageClassName = d.metadata.name;
      }
      return withFinalizer(pvc, pvcProtection);
    }
    // What the server filled in stays when the manifest leaves it out.
    if (pvc.spec.storageClassName === undefined && cur.spec.storageClassName !== undefined) pvc.spec.storageClassName = cur.spec.storageClassName;
    if (pvc.spec.volumeName === undefined && cur.spec.volumeName !== undefined) pvc.spec.volumeName = cur.spec.volumeName;
    const strip = (s: PersistentVolumeClaim['spec']) => ({ ...s, resources: { ...s.resources, requests: { ...s.resources?.requests, storage: 0 } } });
    if (!isDeepStrictEqual(strip(pvc.spec), strip(cur.spec))) throw invalid(pvc, 'spec', 'is immutable after creation except resources.requests.storage');
    const before = amount('requests.storage', cur.spec.resources.requests.storage) ?? 0;
    const after = amount('requests.storage', pvc.spec.resources.requests.storage) ?? 0;
    if (after < before) throw invalid(pvc, 'spec.resources.requests.storage', `must not be less than the current request (${cur.spec.resources.requests.storage})`);
    if (after > before) {
      const sc = pvc.spec.storageClassName ? await this.objects.get('StorageClass', undefined, pvc.spec.storageClassName) : undefined;
      if (!sc?.allowVolumeExpansion) throw invalid(pvc, 'spec.resources.requests.storage', 'can grow only when the claim\'s StorageClass has allowVolumeExpansion: true');
    }
  }
}
