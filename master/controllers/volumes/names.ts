/** The finalizers, annotations and names the volume binder, the local-path provisioner and storage admission share (Kubernetes' own where it has one). */

/** A claim in use by a pod is not removed until no pod uses it (kube-controller-manager's pvc-protection). */
export const pvcProtection = 'kubernetes.io/pvc-protection';
/** A volume bound to a claim is not removed until it is released (pv-protection). */
export const pvProtection = 'kubernetes.io/pv-protection';
/** A provisioned volume with reclaim policy Delete goes only after its node deleted the directory. */
export const localPathFinalizer = 'skiff.io/local-path';
/** Set on a WaitForFirstConsumer claim when its first pod is scheduled: the node to provision on (kube-scheduler's). */
export const selectedNodeAnnotation = 'volume.kubernetes.io/selected-node';
/** The provisioner a claim waits for (set by the binder), as Kubernetes' PV controller sets it. */
export const storageProvisionerAnnotation = 'volume.kubernetes.io/storage-provisioner';
/** Who provisioned a volume. */
export const provisionedByAnnotation = 'pv.kubernetes.io/provisioned-by';
/** The binding of claim and volume is complete. */
export const bindCompletedAnnotation = 'pv.kubernetes.io/bind-completed';
/** The name of the StorageClass Skiff creates at first start, as K3s does. */
export const localPathClass = 'local-path';
/** The volume a claim gets from local-path: `pvc-<claim uid>`, as Kubernetes names provisioned volumes. */
export function provisionedName(claimUid: string): string {
  return `pvc-${claimUid}`;
}

/** A volume's claimRef to `claim` (kind, apiVersion, namespace, name, uid). */
export function claimRefTo(claim: { metadata: { namespace?: string; name: string; uid?: string } }): { kind: string; apiVersion: string; namespace: string; name: string; uid?: string } {
  return { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace ?? 'default', name: claim.metadata.name, ...(claim.metadata.uid ? { uid: claim.metadata.uid } : {}) };
}
