/**
 * Lease (coordination.k8s.io/v1): who holds a lock, until when. Skiff shows its controller leadership as
 * Kubernetes does — `skiff-system/skiff-controller`, `spec.holderIdentity` = the leading master's name — written
 * by the leader (master/ha/lease-object.ts). The lock itself is an etcd election; this object is its picture.
 */
import type { Checker } from '../check.js';
import type { KObject } from '../types.js';

/** A Lease. Times are RFC 3339 with microseconds in Kubernetes (MicroTime); Skiff writes milliseconds. */
export interface Lease extends KObject {
  kind: 'Lease';
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** Checks a Lease's spec: the fields Kubernetes has, with their types. */
export function checkLease(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  c.string(o.spec.holderIdentity, 'spec.holderIdentity');
  c.int(o.spec.leaseDurationSeconds, 'spec.leaseDurationSeconds', 1, 86_400);
  for (const f of ['acquireTime', 'renewTime'] as const)
    if (c.string(o.spec[f], `spec.${f}`) && Number.isNaN(Date.parse(o.spec[f]))) c.fail(`spec.${f}`, 'must be an RFC 3339 time', o.spec[f]);
  c.int(o.spec.leaseTransitions, 'spec.leaseTransitions', 0, Number.MAX_SAFE_INTEGER);
}
