/** Validation of a controller's selector + pod template pair, shared by DaemonSet and Job (apps/v1, batch/v1). */
import type { Checker } from '../check.js';
import { isObject } from '../check.js';
import { checkSelector, isEmptySelector, matchesSelector } from '../selector.js';
import type { PodSpec } from '../types.js';
import { checkPodSpec } from './podspec.js';

/**
 * Checks `spec.template` (and `spec.selector` when `selectorRequired`): the template's labels must
 * match the selector and its restartPolicy must be one of `policies`. Kubernetes rejects an absent
 * restartPolicy for a Job because the default (Always) is not allowed there: `policyRequired` does that.
 */
export function checkPodTemplate(
  c: Checker,
  spec: Record<string, any>,
  opts: { selectorRequired: boolean; policies: readonly NonNullable<PodSpec['restartPolicy']>[]; policyRequired?: boolean; why: string; prefix?: string; claimTemplates?: readonly string[] },
): void {
  const f = opts.prefix ?? 'spec';
  const selOk = checkSelector(c, spec.selector, `${f}.selector`, opts.selectorRequired);
  if (selOk && isEmptySelector(spec.selector)) c.fail(`${f}.selector`, 'must not be empty');
  if (!c.object(spec.template, `${f}.template`, true)) return;
  if (c.object(spec.template.metadata, `${f}.template.metadata`)) {
    c.labels(spec.template.metadata.labels, `${f}.template.metadata.labels`);
    c.stringMap(spec.template.metadata.annotations, `${f}.template.metadata.annotations`);
  }
  checkPodSpec(c, spec.template.spec, `${f}.template.spec`, opts.claimTemplates);
  const policy = isObject(spec.template.spec) ? spec.template.spec.restartPolicy : undefined;
  if (policy === undefined ? opts.policyRequired : !opts.policies.includes(policy))
    c.fail(`${f}.template.spec.restartPolicy`, `must be ${opts.policies.join(' or ')} ${opts.why}`, policy);
  if (selOk && !isEmptySelector(spec.selector) && !matchesSelector(spec.selector, spec.template.metadata?.labels))
    c.fail(`${f}.template.metadata.labels`, 'must match spec.selector');
}
