/**
 * The local-path provisioner (rancher/local-path-provisioner, as K3s ships it): a claim of a class whose
 * provisioner is `rancher.io/local-path` gets a PersistentVolume that is a directory on the node its first
 * pod was scheduled to — `<node's volume dir>/pvc-<uid>_<namespace>_<claim>` (DATA/volumes by default, the
 * agent's --volume-dir), `hostPath` DirectoryOrCreate, pinned to that node by required node affinity. The
 * agent creates the directory when the pod starts and deletes it when the master asks (reclaim policy
 * Delete: reclaim.ts). The `local-path` class is the default, WaitForFirstConsumer, as in K3s.
 */
import { defaultClassAnnotation, localPathProvisioner, type Node, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '../../../protocol/index.js';
import type { Objects } from '../../objects.js';
import { claimRefTo, localPathClass, localPathFinalizer, provisionedByAnnotation, provisionedName } from './names.js';

/** The StorageClass K3s ships: local-path, the default, WaitForFirstConsumer, reclaim Delete. */
export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: localPathClass, annotations: { [defaultClassAnnotation]: 'true' } },
    provisioner: localPathProvisioner,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** Creates the local-path class when there is none (every start, as K3s re-deploys it; delete it and restart to get it back). */
export async function ensureLocalPathClass(objects: Objects): Promise<void> {
  if (await objects.get('StorageClass', undefined, localPathClass)) return;
  await objects.create(localPathStorageClass()).catch((err) => {
    if (err?.code !== 'SKIFF_ERR_ALREADY_EXISTS') throw err;
  });
}

/** Where a node keeps its local-path volumes (it says so in its status), or undefined for an agent that does not. */
export function volumeDirOf(node: Node | undefined): string | undefined {
  const dir = node?.status?.nodeInfo?.volumeDir;
  return typeof dir === 'string' && dir.startsWith('/') ? dir : undefined;
}

/** The node affinity that pins a volume to one node (the label every Skiff node carries). */
export function pinnedToNode(node: string): NonNullable<PersistentVolume['spec']['nodeAffinity']> {
  return { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } };
}

/** The volume local-path provisions for `claim` on `node` (whose volume dir is `dir`), pre-bound to the claim. */
export function provisionedVolume(claim: PersistentVolumeClaim, sc: StorageClass, node: string, dir: string): PersistentVolume {
  const name = provisionedName(claim.metadata.uid!);
  const reclaim = sc.reclaimPolicy ?? 'Delete';
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name,
      annotations: { [provisionedByAnnotation]: sc.provisioner },
      ...(reclaim === 'Delete' ? { finalizers: [localPathFinalizer] } : {}),
    },
    spec: {
      capacity: { storage: String(claim.spec.resources.requests.storage) },
      accessModes: [...claim.spec.accessModes],
      persistentVolumeReclaimPolicy: reclaim,
      storageClassName: sc.metadata.name,
      volumeMode: 'Filesystem',
      hostPath: { path: `${dir.replace(/\/+$/, '')}/${name}_${claim.metadata.namespace}_${claim.metadata.name}`, type: 'DirectoryOrCreate' },
      nodeAffinity: pinnedToNode(node),
      claimRef: claimRefTo(claim),
    },
  };
}
