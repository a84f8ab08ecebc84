/**
 * The mutating admission of the object layer, in kube-apiserver's order: Service allocation (the kind's own
 * step), then storage defaults and protection, LimitRanger, ResourceQuota. Wired here once, for the master
 * (steps.ts) and the in-memory controller harness alike; the validating step (Pod Security) needs the cache
 * and is added by steps.ts.
 */
import type { Objects } from '../objects.js';
import { ServiceAdmission } from '../services/allocate.js';
import { LimitRangeAdmission } from './limitrange.js';
import { QuotaAdmission } from './quota.js';
import { StorageAdmission } from './storage.js';

/** Adds the master's mutating admission steps to `objects`. */
export function addAdmission(objects: Objects): void {
  objects.addAdmission(new ServiceAdmission(objects));
  objects.addPlugin(new StorageAdmission(objects));
  objects.addPlugin(new LimitRangeAdmission(objects));
  objects.addPlugin(new QuotaAdmission(objects));
}
