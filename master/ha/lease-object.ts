/**
 * The Lease object `skiff-system/skiff-controller` (coordination.k8s.io/v1): the leader's picture of its
 * leadership, as kube-controller-manager keeps `kube-system/kube-controller-manager`. Written by the leader
 * when it takes the lead and renewed while it leads (`renewTime`); fenced like every leader write, so a stale
 * leader cannot overwrite its successor's.
 */
import { SkiffError, type Lease, type Namespace } from '../../protocol/index.js';
import type { Objects } from '../objects.js';

/** Where the Lease lives. */
export const LEASE_NAMESPACE = 'skiff-system';
export const LEASE_NAME = 'skiff-controller';

/** Writes the Lease with `holder` as holder: acquireTime and leaseTransitions change when the holder does. */
export async function writeLease(objects: Objects, holder: string, leaseSeconds: number, now = new Date()): Promise<Lease> {
  if (!(await objects.get('Namespace', undefined, LEASE_NAMESPACE)))
    await objects.create<Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: LEASE_NAMESPACE }, status: { phase: 'Active' } } as Namespace).catch(ignoreExists);
  const at = now.toISOString();
  const cur = await objects.get('Lease', LEASE_NAMESPACE, LEASE_NAME);
  if (!cur) {
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: LEASE_NAME, namespace: LEASE_NAMESPACE },
      spec: { holderIdentity: holder, leaseDurationSeconds: leaseSeconds, acquireTime: at, renewTime: at, leaseTransitions: 0 },
    };
    return objects.create(lease);
  }
  const changed = cur.spec.holderIdentity !== holder;
  const spec: Lease['spec'] = {
    ...cur.spec,
    holderIdentity: holder,
    leaseDurationSeconds: leaseSeconds,
    renewTime: at,
    ...(changed ? { acquireTime: at, leaseTransitions: (cur.spec.leaseTransitions ?? 0) + 1 } : {}),
  };
  return objects.update({ ...cur, spec });
}

function ignoreExists(err: unknown): void {
  if (!(err instanceof SkiffError && err.code === 'SKIFF_ERR_ALREADY_EXISTS')) throw err;
}
