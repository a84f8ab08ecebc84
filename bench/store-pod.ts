/**
 * The Pod the store benches write (store-codec.ts, store-cpu.ts): a ReplicaSet's pod as the master stores it, ~1 KB
 * of JSON, in the phase asked for; bound to `node` when given, with a pod IP once Running.
 */
export function benchPod(i: number, phase: string, node?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `web-7d9f8c-${i}`,
      generateName: 'web-7d9f8c-',
      namespace: 'default',
      labels: { app: 'web', 'pod-template-hash': '7d9f8c' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9f8c', uid: '1b2c3d4e-aaaa-bbbb-cccc-1234567890ab', controller: true, blockOwnerDeletion: true }],
      uid: `9f8e7d6c-aaaa-bbbb-cccc-${String(i).padStart(12, '0')}`,
      creationTimestamp: '2026-12-02T02:10:00Z',
    },
    spec: { containers: [{ name: 'main', image: 'nginx:1.25', resources: { requests: { cpu: '100m', memory: '64Mi' } } }], restartPolicy: 'Always', ...(node ? { nodeName: node } : {}) },
    status: {
      phase,
      conditions: [{ type: 'Ready', status: phase === 'Running' ? 'True' : 'False', lastTransitionTime: '2026-12-02T02:10:01Z' }],
      hostIP: '10.0.0.42',
      ...(phase === 'Running' ? { podIP: `10.1.${i % 250}.7` } : {}),
      startTime: '2026-12-02T02:10:00Z',
    },
  };
}
