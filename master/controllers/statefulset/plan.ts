/**
 * What a StatefulSet sync does next (Kubernetes' updateStatefulSet, stateful_set_control.go), as a pure plan
 * over the set's pods and claims, table-tested in test/unit/statefulset.test.ts:
 *
 * 1. Every ordinal in [start, start+replicas), lowest first: a Failed or Succeeded pod is deleted (it comes
 *    back); a missing pod gets its missing claims, then is created — at the current revision below the
 *    partition, else at the update revision. With OrderedReady the walk stops at the first ordinal that is
 *    not Running and Ready (for minReadySeconds): pods start one after another.
 * 2. Pods outside the range go, highest ordinal first: OrderedReady removes one at a time, and only while
 *    every other pod is healthy; Parallel removes them all at once.
 * 3. RollingUpdate: from the highest ordinal down to the partition, a pod of an older revision is deleted
 *    (and comes back at the update revision) while fewer than maxUnavailable (default 1) pods are unavailable;
 *    OnDelete leaves that to the user.
 */
import type { PersistentVolumeClaim, Pod, StatefulSet } from '../../../protocol/index.js';
import { isAvailable, isFinished, isTerminating } from '../pods.js';
import { claimName, ordinalOf, podName, revisionLabel, startOrdinal } from './identity.js';

/** One step of a sync. */
export type Step =
  | { kind: 'createClaims'; ordinal: number; names: string[] }
  | { kind: 'createPod'; ordinal: number; revision: 'current' | 'update' }
  | { kind: 'deletePod'; pod: Pod; why: 'failed' | 'condemned' | 'update' };

/** The plan of one sync: the steps, in order, and what the set waits for, if anything. */
export interface Plan {
  steps: Step[];
  waiting?: string;
}

/** What the plan reads. */
export interface SetState {
  set: StatefulSet;
  /** The set's pods (controlled by it), terminating ones included. */
  pods: Pod[];
  /** The set's namespace's claims, by name. */
  claims: Map<string, PersistentVolumeClaim>;
  updateRevision: string;
  now: number;
}

/** Running, Ready, and ready for minReadySeconds: what OrderedReady waits for. */
export function healthy(p: Pod, minReadySeconds: number, now: number): boolean {
  return p.status?.phase === 'Running' && !isTerminating(p) && isAvailable(p, minReadySeconds, now);
}

/** An int or a percentage of `total`, rounded down, at least 1 (StatefulSet maxUnavailable). */
function maxUnavailableOf(set: StatefulSet): number {
  const v = set.spec.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  const n = typeof v === 'number' ? v : Math.floor((Number.parseInt(v, 10) * (set.spec.replicas ?? 1)) / 100);
  return Math.max(1, n);
}

/** The pods of the range by ordinal, and the others (condemned), highest ordinal first. */
export function partitionPods(set: StatefulSet, pods: Pod[]): { byOrdinal: Map<number, Pod>; condemned: Pod[] } {
  const start = startOrdinal(set);
  const end = start + (set.spec.replicas ?? 1);
  const byOrdinal = new Map<number, Pod>();
  const condemned: Pod[] = [];
  for (const p of pods) {
    const ord = ordinalOf(set, p);
    if (ord !== undefined && ord >= start && ord < end && !byOrdinal.has(ord)) byOrdinal.set(ord, p);
    else condemned.push(p);
  }
  condemned.sort((a, b) => (ordinalOf(set, b) ?? -1) - (ordinalOf(set, a) ?? -1));
  return { byOrdinal, condemned };
}

/** Plans one sync of a StatefulSet. */
export function planSet(s: SetState): Plan {
  const { set } = s;
  const monotonic = set.spec.podManagementPolicy !== 'Parallel';
  const minReady = set.spec.minReadySeconds ?? 0;
  const { byOrdinal, condemned } = partitionPods(set, s.pods);
  const steps: Step[] = [];
  const start = startOrdinal(set);
  const replicas = set.spec.replicas ?? 1;
  const rolling = set.spec.updateStrategy?.type !== 'OnDelete';
  const partition = rolling ? (set.spec.updateStrategy?.rollingUpdate?.partition ?? 0) : 0;

  for (let ord = start; ord < start + replicas; ord++) {
    const pod = byOrdinal.get(ord);
    const name = podName(set, ord);
    const missing = (set.spec.volumeClaimTemplates ?? []).map((t) => claimName(t.metadata.name, set, ord)).filter((c) => !s.claims.has(c));
    const dying = (set.spec.volumeClaimTemplates ?? []).map((t) => claimName(t.metadata.name, set, ord)).find((c) => s.claims.get(c)?.metadata.deletionTimestamp);
    if (pod && isFinished(pod) && !isTerminating(pod)) {
      steps.push({ kind: 'deletePod', pod, why: 'failed' });
      if (monotonic) return { steps, waiting: `pod ${name} to be replaced (${pod.status?.phase})` };
      continue;
    }
    if (!pod) {
      if (dying) {
        if (monotonic) return { steps, waiting: `claim ${dying} to be deleted before pod ${name} can be created` };
        continue;
      }
      if (missing.length) steps.push({ kind: 'createClaims', ordinal: ord, names: missing });
      steps.push({ kind: 'createPod', ordinal: ord, revision: rolling && ord - start < partition ? 'current' : 'update' });
      if (monotonic) return { steps, waiting: `pod ${name} to be Running and Ready` };
      continue;
    }
    if (missing.length) steps.push({ kind: 'createClaims', ordinal: ord, names: missing });
    if (monotonic && !healthy(pod, minReady, s.now)) return { steps, waiting: `pod ${name} to be ${isTerminating(pod) ? 'deleted' : 'Running and Ready'}` };
  }

  if (condemned.length) {
    const live = condemned.filter((p) => !isTerminating(p));
    if (!monotonic) return { steps: [...steps, ...live.map((pod) => ({ kind: 'deletePod' as const, pod, why: 'condemned' as const }))] };
    if (live.length < condemned.length) return { steps, waiting: `pod ${condemned.find(isTerminating)!.metadata.name} to be deleted` };
    const target = condemned[0]!;
    const unhealthy = [...byOrdinal.values(), ...condemned.slice(1)].find((p) => !healthy(p, minReady, s.now));
    if (unhealthy) return { steps, waiting: `pod ${unhealthy.metadata.name} to be Running and Ready before ${target.metadata.name} is removed` };
    return { steps: [...steps, { kind: 'deletePod', pod: target, why: 'condemned' }] };
  }

  if (!rolling) return { steps };
  let unavailable = [...byOrdinal.values()].filter((p) => !healthy(p, minReady, s.now)).length + (replicas - byOrdinal.size);
  const budget = maxUnavailableOf(set);
  for (let ord = start + replicas - 1; ord >= start + partition; ord--) {
    const pod = byOrdinal.get(ord);
    if (!pod || isTerminating(pod) || pod.metadata.labels?.[revisionLabel] === s.updateRevision) continue;
    if (unavailable >= budget) return { steps, waiting: `pods to be Running and Ready before ${pod.metadata.name} is updated` };
    steps.push({ kind: 'deletePod', pod, why: 'update' });
    if (healthy(pod, minReady, s.now)) unavailable++;
  }
  return { steps };
}
