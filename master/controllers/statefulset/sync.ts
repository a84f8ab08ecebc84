/**
 * The StatefulSet controller (apps/v1): pods with stable names and storage, created and removed in order
 * (plan.ts), their claims made from volumeClaimTemplates before them and kept after them (retention policy),
 * rolled from the highest ordinal down to the partition, with revision history in ControllerRevisions (the
 * history controller, master/controllers/history.ts, makes them; pods carry the revision's name in
 * `controller-revision-hash`). Status: replicas, ready, available, current and updated counts and revisions.
 */
import { isDeepStrictEqual } from 'node:util';
import { SkiffError, matchesSelector, type ControllerRevision, type KObject, type OwnerReference, type PersistentVolumeClaim, type Pod, type PodTemplateSpec, type StatefulSet } from '../../../protocol/index.js';
import { realClock } from '../../clock.js';
import { cacheKey, keyOf } from '../../informer.js';
import { templateHash } from '../deployment/hash.js';
import { WorkQueue } from '../queue.js';
import { controllerOf, controllerRef, isActive, isTerminating } from '../pods.js';
import type { ControllerContext, SyncController } from '../types.js';
import { claimName, ordinalOf, podName, startOrdinal, statefulClaims, statefulPod } from './identity.js';
import { planSet, type Step } from './plan.js';
import { setStatus } from './status.js';

/** After a create refused by admission (a quota), the set looks again this much later: 10 s. */
const refusedRetryMs = 10_000;

/** The update revision of a set: `<set>-<template hash>`, the name the history controller gives its ControllerRevision. */
export function updateRevisionOf(set: StatefulSet): string {
  return `${set.metadata.name}-${templateHash(set.spec.template)}`;
}

/** Starts the StatefulSet controller. */
export function startStatefulSetController(ctx: ControllerContext): SyncController {
  const { informers, objects, events } = ctx;
  const clock = ctx.clock ?? realClock;
  const queue = new WorkQueue('statefulset', sync, ctx.log, clock);
  const queueSets = (ns: string | undefined) => informers.list('StatefulSet', ns).forEach((s) => queue.add(cacheKey(s.metadata.namespace, s.metadata.name)));

  informers.on('StatefulSet', (_s, _old, s) => queue.add(keyOf(s)));
  informers.on('Pod', (p, _old, pod) => {
    const ref = controllerOf(pod);
    if (ref?.kind === 'StatefulSet') queue.add(cacheKey(pod.metadata.namespace, ref.name));
    else if (!ref && p) queueSets(pod.metadata.namespace);
  });
  // A claim deleted (or made) may unblock a pod that waits for it.
  informers.on('PersistentVolumeClaim', (_c, _old, c) => queueSets(c.metadata.namespace));
  informers.on('ControllerRevision', (_r, _old, r) => {
    const ref = controllerOf(r);
    if (ref?.kind === 'StatefulSet') queue.add(cacheKey(r.metadata.namespace, ref.name));
  });

  const owned = (set: StatefulSet) => informers.dependents('Pod', set.metadata.uid!).filter((p) => controllerOf(p)?.uid === set.metadata.uid);

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const set = informers.get('StatefulSet', ns, name);
    if (!set || isTerminating(set)) return;
    const update = updateRevisionOf(set);
    const current = set.status?.currentRevision ?? update;
    await adoptOrphans(set);
    const claims = new Map(informers.list('PersistentVolumeClaim', ns).map((c) => [c.metadata.name, c]));
    const plan = planSet({ set, pods: owned(set), claims, updateRevision: update, now: clock.now() });
    let revision = 0;
    let refused: SkiffError | undefined;
    for (const step of plan.steps) {
      try {
        revision = Math.max(revision, await run(set, step, current, update));
      } catch (err) {
        if (!(err instanceof SkiffError && err.code === 'SKIFF_ERR_FORBIDDEN')) throw err;
        refused = err;
        break;
      }
    }
    revision = Math.max(revision, await claimOwners(set, claims));
    if (revision) await informers.waitForRevision(revision);
    await writeStatus(set, current, update);
    // Availability comes minReadySeconds after Ready: look again then.
    if (plan.waiting && (set.spec.minReadySeconds ?? 0) > 0) queue.addAfter(key, 1000);
    if (refused) queue.addAfter(key, refusedRetryMs);
  }

  /** Runs one step; returns the store revision it wrote (0: none). */
  async function run(set: StatefulSet, step: Step, current: string, update: string): Promise<number> {
    const where = `StatefulSet ${set.metadata.name}`;
    const say = (type: 'Normal' | 'Warning', reason: string, message: string) => events.object('StatefulSet', set.metadata.namespace, set.metadata.name, type, reason, message);
    if (step.kind === 'createClaims') {
      let rev = 0;
      for (const claim of statefulClaims(set, step.ordinal).filter((c) => step.names.includes(c.metadata.name))) {
        const made = await objects.create(claim).catch((err) => {
          if (err?.code === 'SKIFF_ERR_ALREADY_EXISTS') return undefined;
          say('Warning', 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${podName(set, step.ordinal)} in ${where} failed error: ${err?.message}`);
          throw err;
        });
        if (made) say('Normal', 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${podName(set, step.ordinal)} in ${where} success`);
        rev = Math.max(rev, Number(made?.metadata.resourceVersion ?? 0));
      }
      return rev;
    }
    if (step.kind === 'createPod') {
      const useCurrent = step.revision === 'current' && current !== update ? templateOf(set, current) : undefined;
      const pod = statefulPod(set, step.ordinal, useCurrent ?? set.spec.template, useCurrent ? current : update);
      const made = await objects.create(pod).catch((err) => {
        if (err?.code === 'SKIFF_ERR_ALREADY_EXISTS') return undefined; // the old pod is still going away
        say('Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in ${where} failed error: ${err?.message}`);
        throw err;
      });
      if (made) say('Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in ${where} successful`);
      return Number(made?.metadata.resourceVersion ?? 0);
    }
    if (step.why === 'condemned' && set.spec.persistentVolumeClaimRetentionPolicy?.whenScaled === 'Delete') await claimsOwnedBy(set, step.pod);
    const gone = await objects.delete('Pod', step.pod.metadata.namespace, step.pod.metadata.name).catch((err) => {
      if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
      return undefined;
    });
    say('Normal', 'SuccessfulDelete', `delete Pod ${step.pod.metadata.name} in ${where} successful`);
    return Number(gone?.metadata.resourceVersion ?? 0);
  }

  /** The template of a revision of the set, from its ControllerRevision (undefined when it is gone). */
  function templateOf(set: StatefulSet, revision: string): PodTemplateSpec | undefined {
    const r = informers.get('ControllerRevision', set.metadata.namespace, revision);
    return r && controllerOf(r)?.uid === set.metadata.uid ? r.data.spec.template : undefined;
  }

  /** whenScaled: Delete — the claims of a removed pod get the pod as owner, so they go with it (the garbage collector). */
  async function claimsOwnedBy(set: StatefulSet, pod: Pod): Promise<void> {
    const ord = ordinalOf(set, pod);
    if (ord === undefined) return;
    for (const t of set.spec.volumeClaimTemplates ?? [])
      await objects.mutate('PersistentVolumeClaim', set.metadata.namespace, claimName(t.metadata.name, set, ord), (c) => {
        if (c.metadata.ownerReferences?.some((r) => r.uid === pod.metadata.uid)) return undefined;
        c.metadata.ownerReferences = [...(c.metadata.ownerReferences ?? []), { apiVersion: 'v1', kind: 'Pod', name: pod.metadata.name, uid: pod.metadata.uid!, controller: false, blockOwnerDeletion: true }];
        return c;
      });
  }

  /** whenDeleted: the claims of the set's ordinals are owned by the set (Delete) or by nothing of it (Retain). */
  async function claimOwners(set: StatefulSet, claims: Map<string, PersistentVolumeClaim>): Promise<number> {
    const byDelete = set.spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
    const start = startOrdinal(set);
    let rev = 0;
    for (let ord = start; ord < start + (set.spec.replicas ?? 1); ord++)
      for (const t of set.spec.volumeClaimTemplates ?? []) {
        const c = claims.get(claimName(t.metadata.name, set, ord));
        if (!c || c.metadata.deletionTimestamp) continue;
        const others = (c.metadata.ownerReferences ?? []).filter((r) => r.uid !== set.metadata.uid);
        const want: OwnerReference[] = byDelete ? [...others, { ...controllerRef(set), controller: false }] : others;
        if (isDeepStrictEqual(c.metadata.ownerReferences ?? [], want)) continue;
        const res = await objects.mutate('PersistentVolumeClaim', c.metadata.namespace, c.metadata.name, (cur) => {
          if (cur.metadata.uid !== c.metadata.uid) return undefined;
          cur.metadata.ownerReferences = want.length ? want : undefined;
          if (!want.length) delete cur.metadata.ownerReferences;
          return cur;
        });
        rev = Math.max(rev, Number(res?.metadata.resourceVersion ?? 0));
      }
    return rev;
  }

  /** Orphaned pods named `<set>-<n>` that the selector matches become the set's (Kubernetes' ClaimPods). */
  async function adoptOrphans(set: StatefulSet): Promise<void> {
    for (const p of informers.orphans('Pod', set.metadata.namespace)) {
      if (!isActive(p) || ordinalOf(set, p) === undefined || !matchesSelector(set.spec.selector, p.metadata.labels)) continue;
      await objects.mutate('Pod', p.metadata.namespace, p.metadata.name, (cur) => {
        if (controllerOf(cur)) return undefined;
        cur.metadata.ownerReferences = [...(cur.metadata.ownerReferences ?? []), controllerRef(set)];
        return cur;
      });
    }
  }

  async function writeStatus(set: StatefulSet, current: string, update: string): Promise<void> {
    const status = setStatus(set, owned(set), current, update, clock.now());
    if (isDeepStrictEqual(set.status, status)) return;
    await objects.mutate('StatefulSet', set.metadata.namespace, set.metadata.name, (cur) => {
      if (cur.metadata.uid !== set.metadata.uid) return undefined;
      cur.status = { ...(cur.status ?? {}), ...status };
      return cur;
    });
  }

  return { name: 'statefulset', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}
