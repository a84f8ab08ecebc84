/** What the fields of StatefulSets, the storage kinds, ResourceQuotas and LimitRanges mean (`skiff explain`); kinds.ts merges them in. */
import { labelSelector, objectMeta, typeMeta } from './meta.js';
import { podTemplate } from './podspec.js';
import { leaf, node, type KindDoc } from './types.js';

const quantities = (d: string) => leaf('map[string]Quantity', d);
const term = node('[]NodeSelectorTerm', 'A list of node selector terms. The terms are ORed.', {
  matchExpressions: node('[]NodeSelectorRequirement', 'A list of node selector requirements by node\'s labels.', {
    key: leaf('string', 'The label key that the selector applies to.', true),
    operator: leaf('string', 'In, NotIn, Exists, DoesNotExist, Gt or Lt.', true),
    values: leaf('[]string', 'An array of string values.'),
  }),
}, true);

/** The spec of a claim, also inside a StatefulSet's volumeClaimTemplates. */
const claimSpec = node('PersistentVolumeClaimSpec', 'The desired characteristics of a volume requested by a pod author.', {
  accessModes: leaf('[]string', 'The desired access modes: ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod (matched against the volume\'s; a local volume is on one node).', true),
  resources: node('VolumeResourceRequirements', 'The minimum resources the volume should have.', {
    requests: node('map[string]Quantity', 'Minimum amount of storage.', { storage: leaf('Quantity', 'The storage the claim asks for (e.g. 1Gi): counted by quotas (requests.storage), recorded on the volume; a local-path directory is not size-limited.', true) }, true),
    limits: node('map[string]Quantity', 'Maximum amount of storage (recorded only).', { storage: leaf('Quantity', 'Maximum storage.') }),
  }, true),
  storageClassName: leaf('string', 'The name of the StorageClass required by the claim. Absent: the default class (local-path) at creation; "" asks for a volume without a class.'),
  volumeName: leaf('string', 'The binding reference to the PersistentVolume backing this claim (set when bound; set it to ask for one volume).'),
  volumeMode: leaf('string', 'Filesystem (the only mode Skiff offers).'),
  selector: labelSelector('A label query over volumes to consider for binding (static volumes only).'),
}, true);

const claimStatus = leaf('PersistentVolumeClaimStatus', 'The current state of the claim: phase (Pending, Bound, Lost), accessModes, capacity. Read-only.');

/** The documentation of the kinds of this file. */
export const storageKindDocs: Record<string, KindDoc> = {
  StatefulSet: {
    description: 'StatefulSet runs pods with stable names (web-0, web-1, ...), stable storage (a claim per pod from volumeClaimTemplates) and a stable DNS name through a headless Service; pods are created in order and removed in reverse.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('StatefulSetSpec', 'The desired identities of pods in this set.', {
        replicas: leaf('integer', 'The desired number of replicas of the given Template. Defaults to 1.'),
        selector: labelSelector("A label query over pods that should match the replica count. It must match the pod template's labels.", true),
        template: podTemplate,
        serviceName: leaf('string', 'The name of the headless Service (clusterIP: None) that governs this set: each pod is "<pod>.<serviceName>.<namespace>.svc.cluster.local".'),
        podManagementPolicy: leaf('string', 'OrderedReady (default: create pods in order, each Running and Ready before the next; remove in reverse order, one at a time) or Parallel (all at once).'),
        updateStrategy: node('StatefulSetUpdateStrategy', 'How pods are replaced when the template changes.', {
          type: leaf('string', 'RollingUpdate (default: replace pods from the highest ordinal down, one at a time) or OnDelete (replace a pod only when you delete it).'),
          rollingUpdate: node('RollingUpdateStatefulSetStrategy', 'Parameters of RollingUpdate.', {
            partition: leaf('integer', 'Only pods with an ordinal at or above partition are updated; the others keep the old template (a staged or canary rollout). Defaults to 0.'),
            maxUnavailable: leaf('IntOrString', 'The most pods that may be unavailable during the update (a number or a percentage). Defaults to 1.'),
          }),
        }),
        revisionHistoryLimit: leaf('integer', 'The number of ControllerRevisions kept for rollback. Defaults to 10.'),
        minReadySeconds: leaf('integer', 'Minimum number of seconds for which a newly created pod should be ready for it to be considered available. Defaults to 0.'),
        volumeClaimTemplates: node('[]PersistentVolumeClaim', 'Claims every pod gets, named "<template>-<set>-<ordinal>" and mounted as the volume of the template\'s name; they outlive their pods.', {
          apiVersion: leaf('string', 'v1 (optional).'),
          kind: leaf('string', 'PersistentVolumeClaim (optional).'),
          metadata: objectMeta,
          spec: claimSpec,
        }),
        persistentVolumeClaimRetentionPolicy: node('StatefulSetPersistentVolumeClaimRetentionPolicy', 'What happens to the claims of volumeClaimTemplates when the set is deleted or scaled down.', {
          whenDeleted: leaf('string', 'Retain (default: keep the claims) or Delete (delete them with the set).'),
          whenScaled: leaf('string', 'Retain (default) or Delete (delete the claims of pods removed by a scale-down).'),
        }),
        ordinals: node('StatefulSetOrdinals', 'The numbering of the pods.', { start: leaf('integer', 'The number of the first pod. Defaults to 0.') }),
      }, true),
      status: leaf('StatefulSetStatus', 'The current status: replicas, readyReplicas, currentReplicas, updatedReplicas, availableReplicas, currentRevision, updateRevision. Read-only.'),
    },
  },
  PersistentVolumeClaim: {
    description: "PersistentVolumeClaim is a user's request for storage: it binds to one PersistentVolume, which local-path provisions on the node of the first pod that uses it.",
    fields: { ...typeMeta, metadata: objectMeta, spec: claimSpec, status: claimStatus },
  },
  PersistentVolume: {
    description: 'PersistentVolume is a piece of storage: with local-path, a directory on one node (nodeAffinity pins the pods that use it there).',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('PersistentVolumeSpec', 'The specification of the volume.', {
        capacity: node('map[string]Quantity', "The volume's capacity.", { storage: leaf('Quantity', 'The size of the volume (recorded; a directory is not size-limited).', true) }, true),
        accessModes: leaf('[]string', 'ReadWriteOnce, ReadOnlyMany, ReadWriteMany or ReadWriteOncePod.', true),
        persistentVolumeReclaimPolicy: leaf('string', 'What happens when its claim is deleted: Retain (default for volumes you make: kept, phase Released) or Delete (the node deletes the directory, then the volume goes).'),
        storageClassName: leaf('string', 'The StorageClass this volume belongs to ("" for none).'),
        volumeMode: leaf('string', 'Filesystem.'),
        hostPath: node('HostPathVolumeSource', 'A directory on the node (what local-path provisions).', {
          path: leaf('string', 'Absolute path of the directory on the node.', true),
          type: leaf('string', '"", DirectoryOrCreate or Directory.'),
        }),
        local: node('LocalVolumeSource', 'A directory on the node that must exist; needs nodeAffinity.', { path: leaf('string', 'Absolute path of the directory on the node.', true) }),
        nodeAffinity: node('VolumeNodeAffinity', 'The nodes this volume can be used from: pods using it are scheduled there.', {
          required: node('NodeSelector', 'Required node selector.', { nodeSelectorTerms: term }, true),
        }),
        claimRef: node('ObjectReference', 'The claim bound to this volume (set by the binder; set it to reserve the volume for a claim).', {
          kind: leaf('string', 'PersistentVolumeClaim.'),
          apiVersion: leaf('string', 'v1.'),
          namespace: leaf('string', 'Namespace of the claim.', true),
          name: leaf('string', 'Name of the claim.', true),
          uid: leaf('string', 'UID of the claim.'),
        }),
      }, true),
      status: leaf('PersistentVolumeStatus', 'The current state: phase (Available, Bound, Released, Failed), message. Read-only.'),
    },
  },
  StorageClass: {
    description: 'StorageClass describes a class of storage and how its claims are provisioned. Skiff has local-path (the default), as K3s ships.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      provisioner: leaf('string', 'The provisioner: rancher.io/local-path (a directory on the node of the first pod). Claims of another provisioner bind only to volumes you make.', true),
      parameters: leaf('map[string]string', 'Parameters of the provisioner (none are read by local-path).'),
      reclaimPolicy: leaf('string', 'The reclaim policy of provisioned volumes: Delete (default) or Retain.'),
      volumeBindingMode: leaf('string', 'WaitForFirstConsumer (local-path: the claim binds when its first pod is scheduled, on that pod\'s node) or Immediate (default).'),
      allowVolumeExpansion: leaf('boolean', 'Accepted; local-path volumes are not resized.'),
    },
  },
  ResourceQuota: {
    description: "ResourceQuota sets aggregate limits on what a namespace may hold; a create that would exceed one is refused ('exceeded quota').",
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('ResourceQuotaSpec', 'The desired hard limits.', {
        hard: quantities('The hard limit per resource: pods, requests.cpu, requests.memory, limits.cpu, limits.memory (cpu and memory mean requests), requests.storage, persistentvolumeclaims, services, configmaps, secrets, count/<resource>[.<group>] (count/deployments.apps), <class>.storageclass.storage.k8s.io/requests.storage.'),
        scopes: leaf('[]string', 'Not supported by Skiff.'),
      }, true),
      status: leaf('ResourceQuotaStatus', 'hard and used (kept by the quota controller and by admission). Read-only.'),
    },
  },
  LimitRange: {
    description: 'LimitRange sets per-container, per-pod and per-claim bounds in a namespace, and the requests and limits a container gets when it sets none.',
    fields: {
      ...typeMeta,
      metadata: objectMeta,
      spec: node('LimitRangeSpec', 'The limits enforced.', {
        limits: node('[]LimitRangeItem', 'The list of limits.', {
          type: leaf('string', 'Container, Pod (the sum of its containers) or PersistentVolumeClaim.', true),
          max: quantities('Maximum usage (limit) per item of this type.'),
          min: quantities('Minimum usage (request) per item of this type.'),
          default: quantities('The limit a container gets for a resource it sets no limit for (Container only).'),
          defaultRequest: quantities('The request a container gets for a resource it sets no request for (Container only; defaults to default).'),
          maxLimitRequestRatio: quantities('The most a limit may be, as a multiple of the request.'),
        }, true),
      }, true),
    },
  },
};

