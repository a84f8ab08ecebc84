/** The shape of an admission plugin (Kubernetes' admission controllers: mutate, then validate, before the write). */
import type { KObject } from '../../protocol/index.js';
import type { AdmissionBatch } from './batch.js';

/**
 * One admission step, run by Objects on every create (users' and controllers') and on every replacement an
 * apply makes, in the order registered: LimitRanger before ResourceQuota, as in kube-apiserver.
 */
export interface AdmissionPlugin {
  readonly name: string;
  /**
   * Sees `obj` about to be stored (`current`: the stored object it replaces, undefined on a create). May fill
   * fields in place (defaults); throws SKIFF_ERR_FORBIDDEN or SKIFF_ERR_VALIDATION to refuse; may add writes to
   * `batch` that commit with the object, or not at all (quota charges).
   */
  admit(obj: KObject, current: KObject | undefined, batch: AdmissionBatch): Promise<void>;
}
