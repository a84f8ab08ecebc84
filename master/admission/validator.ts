/**
 * Pod Security as a validating admission step of the object layer (Objects.addValidator): objects with a pod spec
 * are checked against their namespace's levels; a Namespace's level labels must name a level, and raising its
 * enforce level warns about the pods already there that would not be admitted now (as Kubernetes does, without
 * touching them).
 */
import { isDeepStrictEqual } from 'node:util';
import { Checker, type KObject, type Pod } from '../../protocol/index.js';
import type { AdmissionNotes, Validator } from '../objects.js';
import { levels, modeLabels, namespaceLevels, podSpecOf, admitPodSecurity, violations, type Level } from './podsecurity.js';

/** How the validator reads the cluster. */
export interface PodSecurityReads {
  /** A Namespace by name. */
  namespace(name: string): Promise<KObject | undefined>;
  /** The pods of a namespace. */
  pods(namespace: string): Promise<Pod[]>;
}

/** At most this many existing pods are named in the warnings after a level change (Kubernetes names a few too). */
const maxNamedPods = 10;

/** The Pod Security validating admission. */
export class PodSecurityAdmission implements Validator {
  constructor(
    private readonly reads: PodSecurityReads,
    /** The enforce level of namespaces without the label (`--pod-security-default`). */
    private readonly defaultLevel: Level,
  ) {}

  async validate(next: KObject, current: KObject | undefined): Promise<AdmissionNotes | undefined> {
    if (next.kind === 'Namespace') return this.namespaceChange(next, current);
    const spec = podSpecOf(next);
    // An update that leaves the pod spec as it was (labels, replicas, status) is not checked again, as in Kubernetes.
    if (!spec || (current && isDeepStrictEqual(podSpecOf(current), spec))) return undefined;
    const ns = await this.reads.namespace(next.metadata.namespace ?? 'default');
    const verdict = admitPodSecurity(next, namespaceLevels(ns?.metadata.labels, this.defaultLevel));
    return { warnings: verdict.warnings, audit: verdict.audit };
  }

  /** A Namespace's level labels are levels; a raised enforce level warns about the pods it would refuse now. */
  private async namespaceChange(next: KObject, current: KObject | undefined): Promise<AdmissionNotes | undefined> {
    const c = new Checker(`Namespace/${next.metadata.name}`);
    for (const label of Object.values(modeLabels)) {
      const v = next.metadata.labels?.[label];
      if (v !== undefined) c.oneOf(v, `metadata.labels[${label}]`, levels);
    }
    c.throwIfAny();
    const after = namespaceLevels(next.metadata.labels, this.defaultLevel).enforce!;
    const before = current ? namespaceLevels(current.metadata.labels, this.defaultLevel).enforce : undefined;
    if (!current || after === before || after === 'privileged') return undefined;
    const bad: string[] = [];
    for (const p of await this.reads.pods(next.metadata.name)) {
      const found = violations(p.spec, after);
      if (found.length) bad.push(`${p.metadata.name}: ${found.join(', ')}`);
    }
    if (bad.length === 0) return undefined;
    const more = bad.length > maxNamedPods ? [`(and ${bad.length - maxNamedPods} other pods)`] : [];
    return { warnings: [`existing pods in namespace "${next.metadata.name}" violate the new PodSecurity enforce level "${after}:latest"`, ...bad.slice(0, maxNamedPods), ...more] };
  }
}
