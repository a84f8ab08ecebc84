/**
 * Pod Security admission, as Kubernetes' PodSecurity admission plugin: each namespace has a level for each mode,
 * from its labels —
 *   pod-security.kubernetes.io/enforce: privileged | baseline | restricted   a violating object is refused
 *   pod-security.kubernetes.io/warn: ...                                     the client is warned (`Warning: ...`)
 *   pod-security.kubernetes.io/audit: ...                                    the audit log records it
 * — and a namespace without the enforce label gets the cluster default (`skiff master --pod-security-default`,
 * baseline). Pods are checked, and so is the pod template of every workload kind (Kubernetes only warns on
 * templates and refuses the pods later; Skiff refuses the template at apply, where the person applying sees it).
 * Pods created by controllers are checked again on create, so a namespace whose level was raised gets no new
 * violating pods (the controller records FailedCreate). Messages are Kubernetes':
 *   violates PodSecurity "baseline:latest": hostPath volumes (volume "root")
 */
import { SkiffError, type KObject, type PodSpec } from '../../protocol/index.js';
import { checksOf } from './checks.js';

/** The Pod Security levels, least restrictive first. */
export const levels = ['privileged', 'baseline', 'restricted'] as const;
/** A Pod Security level. */
export type Level = (typeof levels)[number];
/** The three modes and their labels. */
export const modeLabels = {
  enforce: 'pod-security.kubernetes.io/enforce',
  warn: 'pod-security.kubernetes.io/warn',
  audit: 'pod-security.kubernetes.io/audit',
} as const;
/** A mode of the admission. */
export type Mode = keyof typeof modeLabels;

/** The levels of a namespace, per mode (undefined: that mode checks nothing). */
export type NamespaceLevels = Record<Mode, Level | undefined>;

function isLevel(v: unknown): v is Level {
  return typeof v === 'string' && (levels as readonly string[]).includes(v);
}

/**
 * The levels a namespace's labels set. A value that is not a level (which apply refuses, but an old store may hold)
 * counts as restricted: fail closed. A namespace without an enforce label gets `defaultLevel`.
 */
export function namespaceLevels(labels: Record<string, string> | undefined, defaultLevel: Level): NamespaceLevels {
  const read = (mode: Mode): Level | undefined => {
    const v = labels && Object.prototype.hasOwnProperty.call(labels, modeLabels[mode]) ? labels[modeLabels[mode]] : undefined;
    if (v === undefined) return undefined;
    return isLevel(v) ? v : 'restricted';
  };
  return { enforce: read('enforce') ?? defaultLevel, warn: read('warn'), audit: read('audit') };
}

/** What a pod spec breaks at a level: `check (detail)` strings, in the checks' order. */
export function violations(spec: PodSpec, level: Level): string[] {
  const out: string[] = [];
  for (const check of checksOf(level)) {
    const found = check.find(spec);
    if (found !== undefined) out.push(`${check.name} (${found})`);
  }
  return out;
}

/** `violates PodSecurity "baseline:latest": a, b` (`would violate` for warnings about what is admitted anyway). */
export function message(level: Level, found: string[], would = false): string {
  return `${would ? 'would violate' : 'violates'} PodSecurity "${level}:latest": ${found.join(', ')}`;
}

/** The pod spec of a Pod or of a workload's pod template; undefined for other kinds. */
export function podSpecOf(o: KObject): PodSpec | undefined {
  const spec = o.spec as Record<string, any> | undefined;
  switch (o.kind) {
    case 'Pod':
      return spec as PodSpec | undefined;
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
    case 'StatefulSet':
    case 'Job':
      return spec?.template?.spec;
    case 'CronJob':
      return spec?.jobTemplate?.spec?.template?.spec;
    default:
      return undefined;
  }
}

/** What admission says of one object: warnings for the client, notes for the audit log. */
export interface PodSecurityVerdict {
  warnings: string[];
  audit: string[];
}

/**
 * Checks an object with a pod spec against its namespace's levels: throws SKIFF_ERR_FORBIDDEN (naming the object)
 * when enforce refuses it; otherwise returns the warn and audit findings.
 */
export function admitPodSecurity(o: KObject, ns: NamespaceLevels): PodSecurityVerdict {
  const spec = podSpecOf(o);
  const verdict: PodSecurityVerdict = { warnings: [], audit: [] };
  if (!spec) return verdict;
  const enforced = ns.enforce ? violations(spec, ns.enforce) : [];
  if (enforced.length) {
    const why = message(ns.enforce!, enforced);
    const field = o.kind === 'CronJob' ? 'spec.jobTemplate.spec.template' : 'spec.template';
    throw new SkiffError('SKIFF_ERR_FORBIDDEN', o.kind === 'Pod' ? `pods "${o.metadata.name}" is forbidden: ${why}` : `${o.kind}/${o.metadata.name}: ${field}: ${why}`);
  }
  if (ns.warn) {
    const found = violations(spec, ns.warn);
    if (found.length) verdict.warnings.push(message(ns.warn, found, true));
  }
  if (ns.audit) {
    const found = violations(spec, ns.audit);
    if (found.length) verdict.audit.push(message(ns.audit, found));
  }
  return verdict;
}
