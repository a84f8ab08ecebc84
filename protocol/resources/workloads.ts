/** Validation and defaults of ReplicaSet and Deployment (apps/v1). */
import type { Checker } from '../check.js';
import { isObject } from '../check.js';
import { checkSelector, isEmptySelector, matchesSelector } from '../selector.js';
import type { Deployment, ReplicaSet } from '../types.js';
import { checkPodSpec, defaultPodSpec } from './podspec.js';

/** Checks spec.selector, spec.template and that the template's labels match the selector (apps/v1 rule). */
function checkTemplated(c: Checker, spec: Record<string, any>): void {
  c.int(spec.replicas, 'spec.replicas', 0);
  c.int(spec.minReadySeconds, 'spec.minReadySeconds', 0);
  const selOk = checkSelector(c, spec.selector, 'spec.selector', true);
  if (selOk && isEmptySelector(spec.selector)) c.fail('spec.selector', 'must not be empty');
  if (!c.object(spec.template, 'spec.template', true)) return;
  if (c.object(spec.template.metadata, 'spec.template.metadata')) c.labels(spec.template.metadata.labels, 'spec.template.metadata.labels');
  checkPodSpec(c, spec.template.spec, 'spec.template.spec');
  if (isObject(spec.template.spec) && spec.template.spec.restartPolicy !== undefined && spec.template.spec.restartPolicy !== 'Always')
    c.fail('spec.template.spec.restartPolicy', 'must be Always for a controller that keeps replicas running', spec.template.spec.restartPolicy);
  if (selOk && !isEmptySelector(spec.selector) && !matchesSelector(spec.selector, spec.template.metadata?.labels))
    c.fail('spec.template.metadata.labels', 'must match spec.selector');
}

/** Checks a ReplicaSet's spec. */
export function checkReplicaSet(c: Checker, o: Record<string, any>): void {
  if (c.object(o.spec, 'spec', true)) checkTemplated(c, o.spec);
}

/** Checks a Deployment's spec. */
export function checkDeployment(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  const s = o.spec;
  checkTemplated(c, s);
  c.int(s.revisionHistoryLimit, 'spec.revisionHistoryLimit', 0);
  c.int(s.progressDeadlineSeconds, 'spec.progressDeadlineSeconds', 1);
  c.bool(s.paused, 'spec.paused');
  if (c.object(s.strategy, 'spec.strategy')) {
    c.oneOf(s.strategy.type, 'spec.strategy.type', ['RollingUpdate', 'Recreate']);
    if (c.object(s.strategy.rollingUpdate, 'spec.strategy.rollingUpdate')) {
      if (s.strategy.type === 'Recreate') c.fail('spec.strategy.rollingUpdate', 'may not be set when type is Recreate');
      c.intOrPercent(s.strategy.rollingUpdate.maxSurge, 'spec.strategy.rollingUpdate.maxSurge');
      c.intOrPercent(s.strategy.rollingUpdate.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable');
      const zero = (v: unknown) => v === 0 || v === '0%';
      if (zero(s.strategy.rollingUpdate.maxSurge) && zero(s.strategy.rollingUpdate.maxUnavailable))
        c.fail('spec.strategy.rollingUpdate', 'maxSurge and maxUnavailable may not both be 0');
    }
  }
}

/** ReplicaSet defaults: replicas 1, template restartPolicy Always. */
export function defaultReplicaSet(o: ReplicaSet): void {
  o.spec.replicas ??= 1;
  o.spec.minReadySeconds ??= 0;
  defaultPodSpec(o.spec.template.spec);
}

/** Deployment defaults, as in apps/v1: replicas 1, RollingUpdate 25%/25%, history 10, deadline 600 s. */
export function defaultDeployment(o: Deployment): void {
  const s = o.spec;
  s.replicas ??= 1;
  s.minReadySeconds ??= 0;
  s.revisionHistoryLimit ??= 10;
  s.progressDeadlineSeconds ??= 600;
  s.strategy ??= {};
  s.strategy.type ??= 'RollingUpdate';
  if (s.strategy.type === 'RollingUpdate') {
    s.strategy.rollingUpdate ??= {};
    s.strategy.rollingUpdate.maxSurge ??= '25%';
    s.strategy.rollingUpdate.maxUnavailable ??= '25%';
  }
  defaultPodSpec(s.template.spec);
}
