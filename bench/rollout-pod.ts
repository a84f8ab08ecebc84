/** A pod as the ReplicaSet controller asks for it, owned by `owner`, with the bench's own `spec`. */
export function replicaSetPod(owner: { name: string; uid: string }, spec: object): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-5d8f9-',
      namespace: 'default',
      labels: { app: 'web', 'pod-template-hash': '5d8f9' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec,
  };
}
