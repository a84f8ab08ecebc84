/** Job (batch/v1): its type, validation and defaults. */
import type { Checker } from '../check.js';
import type { Condition, KObject, LabelSelector, PodTemplateSpec } from '../types.js';
import { defaultPodSpec } from './podspec.js';
import { checkPodTemplate } from './template.js';

/** A Job: runs pods to `completions` successes, retrying failures up to `backoffLimit`. */
export interface Job extends KObject {
  kind: 'Job';
  spec: {
    /** Successful pods needed; absent with parallelism set: a work queue (done when any pod succeeds). */
    completions?: number;
    parallelism?: number;
    backoffLimit?: number;
    activeDeadlineSeconds?: number;
    ttlSecondsAfterFinished?: number;
    manualSelector?: boolean;
    selector?: LabelSelector;
    template: PodTemplateSpec;
  };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    ready?: number;
    startTime?: string;
    completionTime?: string;
    conditions?: (Condition & { lastProbeTime?: string })[];
    /** Finished pods not yet in succeeded / failed (the master counts each pod once: master/controllers/job/tracking.ts). */
    uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
  };
}

/** Checks a Job's spec, as batch/v1 does: counts ≥ 0, restartPolicy Never or OnFailure, selector only with manualSelector. */
export function checkJob(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  checkJobSpec(c, o.spec);
}

/** Checks a JobSpec at `spec` (a CronJob's jobTemplate.spec uses the same rules). */
export function checkJobSpec(c: Checker, s: Record<string, any>, prefix = 'spec'): void {
  c.int(s.completions, `${prefix}.completions`, 0);
  c.int(s.parallelism, `${prefix}.parallelism`, 0);
  c.int(s.backoffLimit, `${prefix}.backoffLimit`, 0);
  c.int(s.activeDeadlineSeconds, `${prefix}.activeDeadlineSeconds`, 1);
  c.int(s.ttlSecondsAfterFinished, `${prefix}.ttlSecondsAfterFinished`, 0);
  c.bool(s.manualSelector, `${prefix}.manualSelector`);
  if (s.selector !== undefined && s.manualSelector !== true)
    c.fail(`${prefix}.selector`, 'may be set only with manualSelector: true (the controller selects its pods by owner)');
  checkPodTemplate(c, s, {
    prefix,
    selectorRequired: false,
    policies: ['Never', 'OnFailure'],
    policyRequired: true,
    why: 'for a Job (a pod that always restarts never completes)',
  });
}

/** Job defaults, as in batch/v1: parallelism 1, completions 1 when neither is set, backoffLimit 6. */
export function defaultJob(o: Job): void {
  defaultJobSpec(o.spec);
}

/** Defaults of a JobSpec (also applied to a CronJob's jobTemplate). */
export function defaultJobSpec(s: Job['spec']): void {
  if (s.completions === undefined && s.parallelism === undefined) s.completions = 1;
  s.parallelism ??= 1;
  s.backoffLimit ??= 6;
  defaultPodSpec(s.template.spec, 'Never');
}
