/** Types the CronJob controller uses. */
export type { CronJob, Job } from '../../../protocol/index.js';

/** A reference to a Job in a CronJob's status.active (core/v1 ObjectReference, the fields Skiff fills). */
export interface ObjectReference {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid: string;
}
