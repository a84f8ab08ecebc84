/** DaemonSet (apps/v1): its type, validation and defaults. */
import type { Checker } from '../check.js';
import type { Condition, KObject, LabelSelector, PodTemplateSpec } from '../types.js';
import { defaultPodSpec } from './podspec.js';
import { checkPodTemplate } from './template.js';

/** A DaemonSet: one pod on each node that its template's node selector and affinity admit. */
export interface DaemonSet extends KObject {
  kind: 'DaemonSet';
  spec: {
    selector: LabelSelector;
    template: PodTemplateSpec;
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    updateStrategy?: { type?: 'RollingUpdate' | 'OnDelete'; rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string } };
  };
  status?: {
    currentNumberScheduled: number;
    desiredNumberScheduled: number;
    numberMisscheduled: number;
    numberReady: number;
    numberAvailable?: number;
    numberUnavailable?: number;
    updatedNumberScheduled?: number;
    observedGeneration?: number;
    conditions?: Condition[];
  };
}

/** Checks a DaemonSet's spec: selector, template (restartPolicy Always), update strategy. */
export function checkDaemonSet(c: Checker, o: Record<string, any>): void {
  if (!c.object(o.spec, 'spec', true)) return;
  const s = o.spec;
  checkPodTemplate(c, s, { selectorRequired: true, policies: ['Always'], why: 'for a DaemonSet (its pods run for as long as the node is eligible)' });
  c.int(s.minReadySeconds, 'spec.minReadySeconds', 0);
  c.int(s.revisionHistoryLimit, 'spec.revisionHistoryLimit', 0);
  if (c.object(s.updateStrategy, 'spec.updateStrategy')) {
    c.oneOf(s.updateStrategy.type, 'spec.updateStrategy.type', ['RollingUpdate', 'OnDelete']);
    if (c.object(s.updateStrategy.rollingUpdate, 'spec.updateStrategy.rollingUpdate')) {
      if (s.updateStrategy.type === 'OnDelete') c.fail('spec.updateStrategy.rollingUpdate', 'may not be set when type is OnDelete');
      c.intOrPercent(s.updateStrategy.rollingUpdate.maxUnavailable, 'spec.updateStrategy.rollingUpdate.maxUnavailable');
      // Skiff replaces a node's pod delete-then-create; surge (two pods on one node) is not offered.
      if (s.updateStrategy.rollingUpdate.maxSurge !== undefined && s.updateStrategy.rollingUpdate.maxSurge !== 0 && s.updateStrategy.rollingUpdate.maxSurge !== '0%')
        c.fail('spec.updateStrategy.rollingUpdate.maxSurge', 'must be 0: Skiff replaces daemon pods delete-then-create', s.updateStrategy.rollingUpdate.maxSurge);
      const mu = s.updateStrategy.rollingUpdate.maxUnavailable;
      if (mu === 0 || mu === '0%') c.fail('spec.updateStrategy.rollingUpdate.maxUnavailable', 'must not be 0 when maxSurge is 0', mu);
    }
  }
}

/** DaemonSet defaults, as in apps/v1: RollingUpdate with maxUnavailable 1, history 10. */
export function defaultDaemonSet(o: DaemonSet): void {
  const s = o.spec;
  s.minReadySeconds ??= 0;
  s.revisionHistoryLimit ??= 10;
  s.updateStrategy ??= {};
  s.updateStrategy.type ??= 'RollingUpdate';
  if (s.updateStrategy.type === 'RollingUpdate') {
    s.updateStrategy.rollingUpdate ??= {};
    s.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
    s.updateStrategy.rollingUpdate.maxSurge ??= 0;
  }
  defaultPodSpec(s.template.spec);
}
