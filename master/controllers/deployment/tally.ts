/**
 * Pod counts per controlling ReplicaSet, kept up to date from the pod cache's change events, so a
 * Deployment sync reads its ReplicaSets' counts in time proportional to the number of ReplicaSets, not
 * of pods (a 10k-pod rollout syncs the Deployment on nearly every pod event: a scan per sync made the
 * rollout quadratic). Kubernetes reads the ReplicaSets' status counts for the same reason; Skiff counts
 * from the pods themselves so a rolling update moves on a pod's readiness at once (state.ts availableOf).
 */
import { readyCondition, type Pod } from '../../../protocol/index.js';
import type { Informers } from '../../informer.js';
import { cacheKey } from '../../informer.js';
import { controllerOf, isActive, isFinished } from '../pods.js';

/** Counts of one ReplicaSet's pods at one moment. */
export interface PodCounts {
  /** Active pods (neither terminating nor finished). */
  active: number;
  /** Active and Ready. */
  ready: number;
  /** Active and available at `now` (Ready for minReadySeconds). */
  available: number;
  /** Not finished, terminating ones included (Recreate waits for these to be gone). */
  unfinished: number;
  /** When each Ready pod that is not yet available becomes so (ms since epoch), for follow-up syncs. */
  availableAt: number[];
}

interface Bucket {
  active: Set<string>;
  unfinished: Set<string>;
  /** Active and Ready pods → when they turned Ready (ms; NaN when unknown: available at once). */
  ready: Map<string, number>;
}

/** The pod counts of every controlling owner, maintained from the Pod informer. */
export class PodTally {
  private readonly byOwner = new Map<string, Bucket>();

  constructor(informers: Informers) {
    informers.on('Pod', (p, old) => {
      if (p && old && this.update(old, p)) return;
      if (old) this.remove(old);
      if (p) this.add(p);
    });
  }

  /** The counts of the pods controlled by `ownerUid`, availability judged at `now`. */
  of(ownerUid: string, minReadySeconds: number, now: number): PodCounts {
    const b = this.byOwner.get(ownerUid);
    if (!b) return { active: 0, ready: 0, available: 0, unfinished: 0, availableAt: [] };
    let available = b.ready.size;
    const availableAt: number[] = [];
    // Only with minReadySeconds does availability depend on time: then the ready pods are looked at.
    if (minReadySeconds > 0) {
      for (const since of b.ready.values()) {
        const at = since + minReadySeconds * 1000;
        if (at > now) {
          available--;
          availableAt.push(at);
        }
      }
    }
    return { active: b.active.size, ready: b.ready.size, available, unfinished: b.unfinished.size, availableAt };
  }

  private add(p: Pod): void {
    const uid = controllerOf(p)?.uid;
    if (!uid) return;
    let b = this.byOwner.get(uid);
    if (!b) this.byOwner.set(uid, (b = { active: new Set(), unfinished: new Set(), ready: new Map() }));
    const key = cacheKey(p.metadata.namespace, p.metadata.name);
    if (!isFinished(p)) b.unfinished.add(key);
    if (!isActive(p)) return;
    b.active.add(key);
    const ready = readyCondition(p);
    if (ready?.status === 'True') b.ready.set(key, ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN);
  }

  /**
   * A pod that changed but kept its owner and its place among the active and the unfinished (the scheduler's bind, the
   * agent's reports: most events of a rollout): only its readiness is looked at, without taking it out of every set
   * and putting it back. False when it moved otherwise (then it is removed and added).
   */
  private update(old: Pod, p: Pod): boolean {
    const uid = controllerOf(p)?.uid;
    if (uid === undefined || controllerOf(old)?.uid !== uid || p.metadata.name !== old.metadata.name || p.metadata.namespace !== old.metadata.namespace) return false;
    const active = isActive(p);
    if (isFinished(p) !== isFinished(old) || active !== isActive(old)) return false;
    const b = this.byOwner.get(uid);
    if (!b) return false;
    if (!active) return true;
    const ready = readyCondition(p);
    const was = readyCondition(old);
    if (ready === was || (ready?.status === was?.status && ready?.lastTransitionTime === was?.lastTransitionTime)) return true;
    const key = cacheKey(p.metadata.namespace, p.metadata.name);
    if (ready?.status === 'True') b.ready.set(key, ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN);
    else b.ready.delete(key);
    return true;
  }

  private remove(p: Pod): void {
    const uid = controllerOf(p)?.uid;
    const b = uid === undefined ? undefined : this.byOwner.get(uid);
    if (!b) return;
    const key = cacheKey(p.metadata.namespace, p.metadata.name);
    b.active.delete(key);
    b.unfinished.delete(key);
    b.ready.delete(key);
    if (b.unfinished.size === 0 && b.active.size === 0) this.byOwner.delete(uid!);
  }
}

const shared = new WeakMap<Informers, PodTally>();

/** The one tally of `informers`' pods, shared by the Deployment and ReplicaSet controllers (made on first use). */
export function podTally(informers: Informers): PodTally {
  let t = shared.get(informers);
  if (!t) shared.set(informers, (t = new PodTally(informers)));
  return t;
}
