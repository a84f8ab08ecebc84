/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods matching the selector, adopting orphans
 * and creating or deleting pods in slow-start batches of at most burstReplicas per sync
 * (podcontrol.ts); keeps status (replicas, ready, available, observedGeneration). A ReplicaSet stored
 * above the master's --max-replicas (written before the limit, or the limit lowered since) is kept at
 * the limit, with a warning event.
 *
 * A sync costs O(1) in the ReplicaSet's pods when nothing is out of place (issue 16: one ReplicaSet of 20,000
 * pods is synced on nearly every pod event of its rollout, and each sync looked at every pod four times): the
 * counts come from the shared pod tally (deployment/tally.ts), and the owned pods are scanned for ones to release
 * only when one may be there (`suspect`: the selector changed, or a pod it controls was seen not matching it).
 * Scaling down still ranks the active pods (O(pods), as Kubernetes).
 */
import { SkiffError, matchesSelector, type Condition, type Pod, type ReplicaSet } from '../../protocol/index.js';
import { isoNow, realClock, type Clock } from '../clock.js';
import { cacheKey, keyOf } from '../informer.js';
import { jsonCopy } from '../json-value.js';
import { podTally } from './deployment/tally.js';
import { WorkQueue } from './queue.js';
import { createPods, deletePods, type PodWrites } from './podcontrol.js';
import { controllerOf, controllerRef, deletionOrder, isActive, isTerminating } from './pods.js';
import type { ControllerContext, SyncController } from './types.js';

/** The pod a ReplicaSet creates from its template. */
export function podFromTemplate(rs: ReplicaSet): Pod {
  const t = rs.spec.template;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: '',
      generateName: `${rs.metadata.name}-`,
      namespace: rs.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}) },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(rs)],
    },
    // A JSON copy (the template is a cached JSON value, the pod is stored as JSON): ~10× cheaper than structuredClone,
    // once per pod of a rollout.
    spec: jsonCopy(t.spec),
    status: { phase: 'Pending' },
  };
}

/** True when two controller references name the same owner (kind, name and uid; a pod and its new version share a namespace). */
function sameOwner(a: { kind: string; name: string; uid?: string } | undefined, b: { kind: string; name: string; uid?: string } | undefined): boolean {
  return !!a && !!b && a.kind === b.kind && a.name === b.name && a.uid === b.uid;
}

/** After a create refused by admission, the ReplicaSet looks again this much later: 10 s. */
const refusedRetryMs = 10_000;

/**
 * Kubernetes' ReplicaFailure condition: set (True, FailedCreate or FailedDelete, the error) when creating or
 * deleting pods failed and it is not set yet; removed once a sync manages its pods without an error.
 */
export function replicaFailure(conditions: Condition[] | undefined, failure: unknown, creating: boolean, clock: Clock = realClock): Condition[] {
  const others = (conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
  const had = (conditions ?? []).find((c) => c.type === 'ReplicaFailure');
  if (!failure) return others;
  if (had) return conditions!;
  const reason = creating ? 'FailedCreate' : 'FailedDelete';
  return [...others, { type: 'ReplicaFailure', status: 'True', reason, message: (failure as Error).message ?? String(failure), lastTransitionTime: isoNow(clock) }];
}

/** Starts the ReplicaSet controller. */
export function startReplicaSetController(ctx: ControllerContext): SyncController {
  const { informers, objects, events } = ctx;
  const clock = ctx.clock ?? realClock;
  const queue = new WorkQueue('replicaset', sync, ctx.log, clock);
  const tally = podTally(informers);
  /** ReplicaSets (uids) that may control a pod their selector no longer matches: the next sync scans for it. */
  const suspect = new Set<string>();

  informers.on('ReplicaSet', (rs, old, latest) => {
    if (!rs) suspect.delete(latest.metadata.uid!);
    else if (!old || JSON.stringify(old.spec.selector) !== JSON.stringify(rs.spec.selector)) suspect.add(rs.metadata.uid!);
    queue.add(keyOf(latest));
  });
  informers.on('Pod', (p, old) => {
    // Most pod events of a rollout are status writes: the same controller before and after, the labels untouched (the
    // cache hands a new version the old one's unchanged subtrees, so the same labels object). Then the old version's
    // owner was queued just now as the new one's, and its selector check would answer as it did for the old version —
    // a selector changed since made the ReplicaSet suspect already (the handler above).
    const oldRef = old && p ? controllerOf(old) : undefined;
    for (const pod of [p, old]) {
      if (!pod) continue;
      const ref = pod === old && oldRef ? oldRef : controllerOf(pod);
      if (pod === old && p && ref && sameOwner(ref, controllerOf(p))) continue;
      if (ref?.kind === 'ReplicaSet') {
        queue.add(cacheKey(pod.metadata.namespace, ref.name));
        const unchanged = pod === p && oldRef?.uid === ref.uid && old!.metadata.labels === p.metadata.labels;
        const rs = pod === p && !unchanged ? informers.get('ReplicaSet', pod.metadata.namespace, ref.name) : undefined;
        if (rs?.metadata.uid === ref.uid && !matchesSelector(rs.spec.selector, pod.metadata.labels)) suspect.add(ref.uid);
      } else if (!ref && pod === p)
        for (const rs of informers.list('ReplicaSet', pod.metadata.namespace))
          if (matchesSelector(rs.spec.selector, pod.metadata.labels)) queue.add(cacheKey(rs.metadata.namespace, rs.metadata.name));
    }
  });

  /** ReplicaSets (uid/replicas) already warned about exceeding --max-replicas. */
  const warned = new Set<string>();
  const owned = (rs: ReplicaSet) => informers.dependents('Pod', rs.metadata.uid!).filter((p) => controllerOf(p)?.uid === rs.metadata.uid);

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const rs = informers.get('ReplicaSet', ns, name);
    if (!rs || isTerminating(rs)) return;
    const want = wanted(rs);
    const uid = rs.metadata.uid!;
    const count = () => tally.of(uid, rs.spec.minReadySeconds ?? 0, clock.now());
    // Scans of the owned pods only when there may be something to claim or release (the module comment).
    const scan = suspect.delete(uid);
    const adopt = count().active < want ? await adoptOrphans(rs) : 0;
    const claimed = Math.max(adopt, scan ? await releaseMismatched(rs, owned(rs)) : 0);
    if (claimed) await informers.waitForRevision(claimed);
    const active = count().active;
    let writes: PodWrites | undefined;
    if (active < want) writes = await createPods(ctx, rs, want - active, () => podFromTemplate(rs));
    else if (active > want) writes = await deletePods(ctx, rs, owned(rs).filter(isActive).sort(deletionOrder).slice(0, active - want));
    // Expectations: wait until the cache has seen our own writes, so the next sync does not act twice.
    if (writes?.revision) await informers.waitForRevision(writes.revision);
    await updateStatus(rs, writes?.error, active < want);
    // The pods written meanwhile queued this key again: the next burst follows after the other keys' turn.
    if (!writes?.error) return;
    if (active < want) events.object('ReplicaSet', rs.metadata.namespace, rs.metadata.name, 'Warning', 'FailedCreate', `Error creating: ${(writes.error as Error).message}`);
    // Refused by admission (a quota, a LimitRange): no failure to log, only a later look — when the quota has room.
    if (writes.error instanceof SkiffError && writes.error.code === 'SKIFF_ERR_FORBIDDEN') return queue.addAfter(key, refusedRetryMs);
    throw writes.error;
  }

  /** spec.replicas, held at the master's --max-replicas (with a warning) should the stored object exceed it. */
  function wanted(rs: ReplicaSet): number {
    const want = rs.spec.replicas ?? 1;
    if (want <= objects.maxReplicas) return want;
    const warning = `${rs.metadata.uid}/${want}`;
    if (!warned.has(warning)) {
      warned.add(warning);
      const msg = `spec.replicas ${want} is above the master's --max-replicas ${objects.maxReplicas}: keeping ${objects.maxReplicas}`;
      events.object('ReplicaSet', rs.metadata.namespace, rs.metadata.name, 'Warning', 'TooManyReplicas', msg);
    }
    return objects.maxReplicas;
  }

  /** Takes active orphans the selector matches (the caller is short of replicas); returns the last write's revision (0: none). */
  async function adoptOrphans(rs: ReplicaSet): Promise<number> {
    let rev = 0;
    for (const p of informers.orphans('Pod', rs.metadata.namespace)) {
      if (!isActive(p) || !matchesSelector(rs.spec.selector, p.metadata.labels)) continue;
      const res = await objects.mutate('Pod', p.metadata.namespace, p.metadata.name, (cur) => {
        if (controllerOf(cur)) return undefined;
        cur.metadata.ownerReferences = [...(cur.metadata.ownerReferences ?? []), controllerRef(rs)];
        return cur;
      });
      rev = Math.max(rev, Number(res?.metadata.resourceVersion ?? 0));
    }
    return rev;
  }

  /**
   * Lets go of owned pods whose labels no longer match the selector (ClaimPods' release): relabelling a
   * pod takes it out of the set, and the ReplicaSet replaces it. Returns the last write's revision.
   */
  async function releaseMismatched(rs: ReplicaSet, owned: Pod[]): Promise<number> {
    let rev = 0;
    for (const p of owned) {
      if (matchesSelector(rs.spec.selector, p.metadata.labels)) continue;
      const res = await objects.mutate('Pod', p.metadata.namespace, p.metadata.name, (cur) => {
        if (controllerOf(cur)?.uid !== rs.metadata.uid || matchesSelector(rs.spec.selector, cur.metadata.labels)) return undefined;
        const refs = (cur.metadata.ownerReferences ?? []).filter((r) => r.uid !== rs.metadata.uid);
        if (refs.length) cur.metadata.ownerReferences = refs;
        else delete cur.metadata.ownerReferences;
        return cur;
      });
      rev = Math.max(rev, Number(res?.metadata.resourceVersion ?? 0));
    }
    return rev;
  }

  async function updateStatus(rs: ReplicaSet, failure: unknown, creating: boolean): Promise<void> {
    const minReady = rs.spec.minReadySeconds ?? 0;
    const c = tally.of(rs.metadata.uid!, minReady, clock.now());
    // Owned pods match the selector unless one was seen not to (then count them).
    const fullyLabeled = suspect.has(rs.metadata.uid!) ? owned(rs).filter((p) => isActive(p) && matchesSelector(rs.spec.selector, p.metadata.labels)).length : c.active;
    const status = {
      replicas: c.active,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: c.ready,
      availableReplicas: c.available,
      observedGeneration: rs.metadata.generation,
    };
    // A pod becomes available minReadySeconds after Ready: look again then.
    if (minReady > 0 && status.readyReplicas > status.availableReplicas) queue.addAfter(cacheKey(rs.metadata.namespace, rs.metadata.name), 1000);
    await objects.mutate('ReplicaSet', rs.metadata.namespace, rs.metadata.name, (cur) => {
      if (cur.metadata.uid !== rs.metadata.uid) return undefined;
      const conditions = replicaFailure(cur.status?.conditions, failure, creating, clock);
      cur.status = { ...status, ...(conditions.length ? { conditions } : {}) };
      return cur;
    });
  }

  return { name: 'replicaset', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}
