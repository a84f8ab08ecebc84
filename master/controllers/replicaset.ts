/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods matching the selector, adopting orphans
 * and creating or deleting pods in slow-start batches of at most burstReplicas per sync
 * (podcontrol.ts); keeps status (replicas, ready, available, observedGeneration). A ReplicaSet stored
 * above the master's --max-replicas (written before the limit, or the limit lowered since) is kept at
 * the limit, with a warning event.
 */
import { SkiffError, isReady, matchesSelector, type Condition, type Pod, type ReplicaSet } from '../../protocol/index.js';
import { isoNow, realClock, type Clock } from '../clock.js';
import { cacheKey, keyOf } from '../informer.js';
import { WorkQueue } from './queue.js';
import { createPods, deletePods, type PodWrites } from './podcontrol.js';
import { controllerOf, controllerRef, deletionOrder, isActive, isAvailable, isTerminating } from './pods.js';
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
    spec: structuredClone(t.spec),
    status: { phase: 'Pending' },
  };
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

  informers.on('ReplicaSet', (_rs, _old, rs) => queue.add(keyOf(rs)));
  informers.on('Pod', (p, old) => {
    for (const pod of [p, old]) {
      if (!pod) continue;
      const ref = controllerOf(pod);
      if (ref?.kind === 'ReplicaSet') queue.add(cacheKey(pod.metadata.namespace, ref.name));
      else if (!ref && pod === p)
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
    const claimed = Math.max(await adoptOrphans(rs, owned(rs), want), await releaseMismatched(rs, owned(rs)));
    if (claimed) await informers.waitForRevision(claimed);
    const active = owned(rs).filter(isActive);
    let writes: PodWrites | undefined;
    if (active.length < want) writes = await createPods(ctx, rs, want - active.length, () => podFromTemplate(rs));
    else if (active.length > want) writes = await deletePods(ctx, rs, [...active].sort(deletionOrder).slice(0, active.length - want));
    // Expectations: wait until the cache has seen our own writes, so the next sync does not act twice.
    if (writes?.revision) await informers.waitForRevision(writes.revision);
    await updateStatus(rs, writes?.error, active.length < want);
    // The pods written meanwhile queued this key again: the next burst follows after the other keys' turn.
    if (!writes?.error) return;
    if (active.length < want) events.object('ReplicaSet', rs.metadata.namespace, rs.metadata.name, 'Warning', 'FailedCreate', `Error creating: ${(writes.error as Error).message}`);
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

  /** Takes active orphans the selector matches while short of replicas; returns the last write's revision (0: none). */
  async function adoptOrphans(rs: ReplicaSet, owned: Pod[], want: number): Promise<number> {
    if (owned.length >= want) return 0;
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
    const pods = owned(rs).filter(isActive);
    const minReady = rs.spec.minReadySeconds ?? 0;
    const status = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => matchesSelector(rs.spec.selector, p.metadata.labels)).length,
      readyReplicas: pods.filter(isReady).length,
      availableReplicas: pods.filter((p) => isAvailable(p, minReady, clock.now())).length,
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
