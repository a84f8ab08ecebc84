/**
 * The Deployment controller: finds or creates the ReplicaSet of the current template (labelled with
 * its pod-template-hash, annotated with the revision), sizes it and retires the old ones, and keeps
 * the Deployment's status and conditions. Strategy-specific rollout steps live beside this file.
 */
import type { Deployment, Pod, ReplicaSet } from '../../../protocol/index.js';
import { cacheKey } from '../../informer.js';
import { WorkQueue } from '../queue.js';
import { controllerOf, controllerRef, isActive, isAvailable, isReady, isTerminating } from '../pods.js';
import type { Controller, ControllerContext } from '../types.js';
import { sameTemplate, templateHash, templateHashLabel } from './hash.js';

/** The annotation carrying a ReplicaSet's revision number (as Kubernetes). */
export const revisionAnnotation = 'deployment.kubernetes.io/revision';

/** Revision number of a ReplicaSet (0 when unset). */
export function revisionOf(rs: ReplicaSet): number {
  return Number(rs.metadata.annotations?.[revisionAnnotation] ?? 0) || 0;
}

/** Starts the Deployment controller. */
export function startDeploymentController(ctx: ControllerContext): Controller {
  const { informers, objects, events } = ctx;
  const queue = new WorkQueue('deployment', sync);

  informers.on('Deployment', (d, old) => {
    const o = d ?? old!;
    queue.add(cacheKey(o.metadata.namespace, o.metadata.name));
  });
  informers.on('ReplicaSet', (rs, old) => {
    const ref = controllerOf(rs ?? old!);
    if (ref?.kind === 'Deployment') queue.add(cacheKey((rs ?? old!).metadata.namespace, ref.name));
  });

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const d = informers.get<Deployment>('Deployment', ns, name);
    if (!d || isTerminating(d)) return;
    const owned = informers.list<ReplicaSet>('ReplicaSet', ns).filter((rs) => controllerOf(rs)?.uid === d.metadata.uid);
    let current = owned.find((rs) => sameTemplate(rs.spec.template, d.spec.template));
    const old = owned.filter((rs) => rs !== current);
    const want = d.spec.replicas ?? 1;
    if (d.spec.paused) return updateStatus(d, owned);
    if (!current) {
      current = await createReplicaSet(d, old, want);
      await informers.waitForRevision(Number(current.metadata.resourceVersion));
    } else if ((current.spec.replicas ?? 0) !== want) {
      await scale(current, want);
      events.object('Deployment', ns, name, 'Normal', 'ScalingReplicaSet', `Scaled ${want > (current.spec.replicas ?? 0) ? 'up' : 'down'} replica set ${current.metadata.name} to ${want}`);
    }
    for (const rs of old) {
      if ((rs.spec.replicas ?? 0) === 0) continue;
      await scale(rs, 0);
      events.object('Deployment', ns, name, 'Normal', 'ScalingReplicaSet', `Scaled down replica set ${rs.metadata.name} to 0`);
    }
    await pruneHistory(d, old);
    await updateStatus(d, informers.list<ReplicaSet>('ReplicaSet', ns).filter((rs) => controllerOf(rs)?.uid === d.metadata.uid));
  }

  async function createReplicaSet(d: Deployment, old: ReplicaSet[], replicas: number): Promise<ReplicaSet> {
    const hash = templateHash(d.spec.template);
    const revision = Math.max(0, ...old.map(revisionOf)) + 1;
    const template = structuredClone(d.spec.template);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [templateHashLabel]: hash } };
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        labels: { ...(template.metadata.labels ?? {}) },
        annotations: { [revisionAnnotation]: String(revision) },
        ownerReferences: [controllerRef(d)],
      },
      spec: {
        replicas,
        minReadySeconds: d.spec.minReadySeconds ?? 0,
        selector: {
          matchLabels: { ...(d.spec.selector.matchLabels ?? {}), [templateHashLabel]: hash },
          ...(d.spec.selector.matchExpressions ? { matchExpressions: d.spec.selector.matchExpressions } : {}),
        },
        template,
      },
    };
    const created = await objects.create(rs);
    events.object('Deployment', d.metadata.namespace, d.metadata.name, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rs.metadata.name} to ${replicas}`);
    return created;
  }

  async function scale(rs: ReplicaSet, replicas: number): Promise<void> {
    await objects.mutate<ReplicaSet>('ReplicaSet', rs.metadata.namespace, rs.metadata.name, (cur) => {
      if ((cur.spec.replicas ?? 0) === replicas) return undefined;
      cur.spec.replicas = replicas;
      return cur;
    });
  }

  /** Keeps at most revisionHistoryLimit old ReplicaSets that are scaled to zero (oldest go first). */
  async function pruneHistory(d: Deployment, old: ReplicaSet[]): Promise<void> {
    const limit = d.spec.revisionHistoryLimit ?? 10;
    const idle = old.filter((rs) => (rs.spec.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0).sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit)))
      await objects.delete('ReplicaSet', rs.metadata.namespace, rs.metadata.name).catch(() => undefined);
  }

  async function updateStatus(d: Deployment, owned: ReplicaSet[]): Promise<void> {
    const uids = new Set(owned.map((rs) => rs.metadata.uid));
    const current = owned.find((rs) => sameTemplate(rs.spec.template, d.spec.template));
    const pods = informers.list<Pod>('Pod', d.metadata.namespace).filter((p) => uids.has(controllerOf(p)?.uid ?? '') && isActive(p));
    const updated = current ? pods.filter((p) => controllerOf(p)?.uid === current.metadata.uid) : [];
    const want = d.spec.replicas ?? 1;
    const available = pods.filter((p) => isAvailable(p, d.spec.minReadySeconds ?? 0)).length;
    const now = new Date().toISOString();
    const complete = updated.length === want && pods.length === want && available >= want;
    await objects.mutate<Deployment>('Deployment', d.metadata.namespace, d.metadata.name, (cur) => {
      if (cur.metadata.uid !== d.metadata.uid) return undefined;
      const conditions = cur.status?.conditions ?? [];
      const setCondition = (type: string, status: 'True' | 'False', reason: string, message: string) => {
        const prev = conditions.find((c) => c.type === type);
        if (prev && prev.status === status && prev.reason === reason) return;
        const c = { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime : now };
        conditions.splice(prev ? conditions.indexOf(prev) : conditions.length, prev ? 1 : 0, c);
      };
      setCondition('Available', available >= want ? 'True' : 'False', available >= want ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        available >= want ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.');
      if (current)
        setCondition('Progressing', 'True', complete ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          complete ? `ReplicaSet "${current.metadata.name}" has successfully progressed.` : `ReplicaSet "${current.metadata.name}" is progressing.`);
      cur.status = {
        observedGeneration: cur.metadata.generation,
        replicas: pods.length,
        updatedReplicas: updated.length,
        readyReplicas: pods.filter(isReady).length,
        availableReplicas: available,
        unavailableReplicas: Math.max(0, want - available),
        conditions,
      };
      return cur;
    });
  }

  return { name: 'deployment', idle: () => queue.idle(), stop: () => queue.stop() };
}
