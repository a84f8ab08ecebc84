/**
 * The ReplicaSet controller: keeps `spec.replicas` active pods matching the selector, adopting orphans
 * and creating or deleting pods; keeps status (replicas, ready, available, observedGeneration).
 */
import { isReady, matchesSelector, type KObject, type Pod, type ReplicaSet } from '../../protocol/index.js';
import { cacheKey } from '../informer.js';
import { WorkQueue } from './queue.js';
import { controllerOf, controllerRef, deletionOrder, isActive, isAvailable, isTerminating } from './pods.js';
import type { Controller, ControllerContext } from './types.js';

/** At most this many pod creations or deletions per sync (Kubernetes' burstReplicas). */
const burstReplicas = 500;

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

/** Starts the ReplicaSet controller. */
export function startReplicaSetController(ctx: ControllerContext): Controller {
  const { informers, objects, events } = ctx;
  const queue = new WorkQueue('replicaset', sync, ctx.log);

  informers.on('ReplicaSet', (rs, old) => {
    const o = rs ?? old!;
    queue.add(cacheKey(o.metadata.namespace, o.metadata.name));
  });
  informers.on('Pod', (p, old) => {
    for (const pod of [p, old]) {
      if (!pod) continue;
      const ref = controllerOf(pod);
      if (ref?.kind === 'ReplicaSet') queue.add(cacheKey(pod.metadata.namespace, ref.name));
      else if (!ref && pod === p)
        for (const rs of informers.list<ReplicaSet>('ReplicaSet', pod.metadata.namespace))
          if (matchesSelector(rs.spec.selector, pod.metadata.labels)) queue.add(cacheKey(rs.metadata.namespace, rs.metadata.name));
    }
  });

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const rs = informers.get<ReplicaSet>('ReplicaSet', ns, name);
    if (!rs || isTerminating(rs)) return;
    const uid = rs.metadata.uid;
    let pods = informers.list<Pod>('Pod', ns).filter((p) => controllerOf(p)?.uid === uid);
    await adoptOrphans(rs, pods);
    pods = informers.list<Pod>('Pod', ns).filter((p) => controllerOf(p)?.uid === uid);
    const active = pods.filter(isActive);
    const want = rs.spec.replicas ?? 1;
    let lastRevision = 0;
    if (active.length < want) {
      const n = Math.min(want - active.length, burstReplicas);
      const created = await Promise.all(Array.from({ length: n }, () => objects.create(podFromTemplate(rs))));
      for (const p of created) {
        lastRevision = Math.max(lastRevision, Number(p.metadata.resourceVersion));
        events.object('ReplicaSet', ns, name, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}`);
      }
    } else if (active.length > want) {
      const victims = [...active].sort(deletionOrder).slice(0, Math.min(active.length - want, burstReplicas));
      for (const p of victims) {
        const d = await objects.delete('Pod', ns, p.metadata.name).catch((err) => {
          if (err?.code === 'SKIFF_ERR_NOT_FOUND') return undefined;
          throw err;
        });
        if (d) lastRevision = Math.max(lastRevision, Number(d.metadata.resourceVersion));
        events.object('ReplicaSet', ns, name, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      }
    }
    // Expectations: wait until the cache has seen our own writes, so the next sync does not act twice.
    if (lastRevision) await informers.waitForRevision(lastRevision);
    await updateStatus(rs);
  }

  async function adoptOrphans(rs: ReplicaSet, owned: Pod[]): Promise<void> {
    if (owned.length >= (rs.spec.replicas ?? 1)) return;
    for (const p of informers.list<Pod>('Pod', rs.metadata.namespace)) {
      if (controllerOf(p) || !isActive(p) || !matchesSelector(rs.spec.selector, p.metadata.labels)) continue;
      await objects.mutate<KObject>('Pod', p.metadata.namespace, p.metadata.name, (cur) => {
        if (controllerOf(cur)) return undefined;
        cur.metadata.ownerReferences = [...(cur.metadata.ownerReferences ?? []), controllerRef(rs)];
        return cur;
      });
    }
  }

  async function updateStatus(rs: ReplicaSet): Promise<void> {
    const pods = informers.list<Pod>('Pod', rs.metadata.namespace).filter((p) => controllerOf(p)?.uid === rs.metadata.uid && isActive(p));
    const minReady = rs.spec.minReadySeconds ?? 0;
    const status = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => matchesSelector(rs.spec.selector, p.metadata.labels)).length,
      readyReplicas: pods.filter(isReady).length,
      availableReplicas: pods.filter((p) => isAvailable(p, minReady)).length,
      observedGeneration: rs.metadata.generation,
    };
    // A pod becomes available minReadySeconds after Ready: look again then.
    if (minReady > 0 && status.readyReplicas > status.availableReplicas) queue.addAfter(cacheKey(rs.metadata.namespace, rs.metadata.name), 1000);
    await objects.mutate<ReplicaSet>('ReplicaSet', rs.metadata.namespace, rs.metadata.name, (cur) => {
      if (cur.metadata.uid !== rs.metadata.uid) return undefined;
      cur.status = status;
      return cur;
    });
  }

  return { name: 'replicaset', idle: () => queue.idle(), stop: () => queue.stop() };
}
