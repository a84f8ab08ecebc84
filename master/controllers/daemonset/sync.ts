/**
 * The DaemonSet controller (apps/v1): one pod on each node that should run it (eligibility.ts),
 * following nodes as they join, leave or change labels and taints. Pods are pinned by required node
 * affinity and placed by the scheduler, as Kubernetes ≥ 1.12 does, so a misfit is explained on the pod.
 * Template changes roll out node by node within maxUnavailable (RollingUpdate) or wait for the user to
 * delete pods (OnDelete). Status: desired/current/misscheduled/ready/available/updated counts.
 */
import { readyStatus, type DaemonSet, type Node, type Pod } from '../../../protocol/index.js';
import { realClock } from '../../clock.js';
import { cacheKey, keyOf } from '../../informer.js';
import { templateHash } from '../deployment/hash.js';
import { WorkQueue } from '../queue.js';
import { createPods, deletePods } from '../podcontrol.js';
import { controllerOf, controllerRef, isActive, isAvailable, isFinished, isTerminating } from '../pods.js';
import type { ControllerContext, SyncController } from '../types.js';
import { pinnedTo, shouldRun, targetNode, withDaemonTolerations } from './eligibility.js';

/** The label carrying the template hash of a daemon pod (Kubernetes: controller-revision-hash). */
export const revisionHashLabel = 'controller-revision-hash';

/** The pod a DaemonSet runs on `node`. */
export function daemonPod(ds: DaemonSet, node: string, hash: string): Pod {
  const t = ds.spec.template;
  const spec = structuredClone(t.spec);
  spec.affinity = { ...(spec.affinity ?? {}), nodeAffinity: { ...(spec.affinity?.nodeAffinity ?? {}), ...pinnedTo(node) } };
  spec.tolerations = withDaemonTolerations(spec.tolerations);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: '',
      generateName: `${ds.metadata.name}-`,
      namespace: ds.metadata.namespace,
      labels: { ...(t.metadata?.labels ?? {}), [revisionHashLabel]: hash },
      ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
      ownerReferences: [controllerRef(ds)],
    },
    spec,
    status: { phase: 'Pending' },
  };
}

/** An int or a percentage of `total`, rounded up as Kubernetes does for a DaemonSet's maxUnavailable (at least 1). */
export function scaledValue(v: number | string | undefined, total: number): number {
  if (v === undefined) return 1;
  const n = typeof v === 'number' ? v : Math.ceil((Number.parseInt(v, 10) * total) / 100);
  return Math.max(1, n);
}

/** The node facts a DaemonSet's eligibility depends on (other node updates, e.g. heartbeats, are ignored). */
function nodeShape(n: Node | undefined): string {
  return n ? JSON.stringify([n.metadata.labels, n.spec?.taints, n.spec?.unschedulable, readyStatus(n)]) : '';
}

/** Starts the DaemonSet controller. */
export function startDaemonSetController(ctx: ControllerContext): SyncController {
  const { informers, objects, events } = ctx;
  const clock = ctx.clock ?? realClock;
  const queue = new WorkQueue('daemonset', sync, ctx.log, clock);
  const all = () => informers.list('DaemonSet').forEach((ds) => queue.add(cacheKey(ds.metadata.namespace, ds.metadata.name)));

  informers.on('DaemonSet', (_ds, _old, ds) => queue.add(keyOf(ds)));
  informers.on('Pod', (_p, _old, pod) => {
    const ref = controllerOf(pod);
    if (ref?.kind === 'DaemonSet') queue.add(cacheKey(pod.metadata.namespace, ref.name));
  });
  informers.on('Node', (n, old) => {
    if (nodeShape(n) !== nodeShape(old)) all();
  });

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/');
    const ds = informers.get('DaemonSet', ns, name);
    if (!ds || isTerminating(ds)) return;
    const hash = templateHash(ds.spec.template);
    const nodes = informers.list('Node');
    const byNode = new Map<string, Pod[]>();
    for (const p of ownedPods(ds)) {
      const n = targetNode(p) ?? '';
      const here = byNode.get(n);
      if (here) here.push(p);
      else byNode.set(n, [p]);
    }
    const eligible = new Set(nodes.filter((n) => shouldRun(ds, n)).map((n) => n.metadata.name));
    const create: string[] = [];
    const remove: Pod[] = [];
    for (const node of eligible) {
      const here = byNode.get(node) ?? [];
      // A failed daemon pod is deleted and replaced (Kubernetes does the same, with back-off by requeue).
      remove.push(...here.filter((p) => isFinished(p) && !isTerminating(p)));
      const running = here.filter(isActive).sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
      if (running.length === 0 && !here.some((p) => isTerminating(p) && !isFinished(p))) create.push(node);
      remove.push(...running.slice(1)); // one per node: keep the oldest
    }
    for (const [node, here] of byNode) if (!eligible.has(node)) remove.push(...here.filter((p) => !isTerminating(p)));
    if (ds.spec.updateStrategy?.type !== 'OnDelete') remove.push(...rollingVictims(ds, eligible, byNode, hash, new Set(remove)));

    const deleted = await deletePods(ctx, ds, remove);
    const created = deleted.error ? undefined : await createPods(ctx, ds, create.length, (i) => daemonPod(ds, create[i], hash), (i) => ` for node ${create[i]}`);
    const rev = Math.max(deleted.revision, created?.revision ?? 0);
    if (rev) await informers.waitForRevision(rev);
    await writeStatus(ds, eligible, hash);
    const error = deleted.error ?? created?.error;
    if (error) throw error;
  }

  /** The pods a DaemonSet controls (the owner index: proportional to them, not to every pod). */
  function ownedPods(ds: DaemonSet): Pod[] {
    return informers.dependents('Pod', ds.metadata.uid!).filter((p) => controllerOf(p)?.uid === ds.metadata.uid);
  }

  /**
   * Rolling update (Kubernetes' rollingUpdate with maxSurge 0): old-template pods that are not
   * available go at once; available ones only while fewer than maxUnavailable eligible nodes lack an
   * available pod.
   */
  function rollingVictims(ds: DaemonSet, eligible: Set<string>, byNode: Map<string, Pod[]>, hash: string, already: Set<Pod>): Pod[] {
    const minReady = ds.spec.minReadySeconds ?? 0;
    const now = clock.now();
    const maxUnavailable = scaledValue(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable, eligible.size);
    let unavailable = 0;
    const oldAvailable: Pod[] = [];
    const victims: Pod[] = [];
    for (const node of eligible) {
      const pod = (byNode.get(node) ?? []).find((p) => isActive(p) && !already.has(p));
      if (!pod || !isAvailable(pod, minReady, now)) unavailable++;
      if (!pod || pod.metadata.labels?.[revisionHashLabel] === hash) continue;
      if (isAvailable(pod, minReady, now)) oldAvailable.push(pod);
      else victims.push(pod);
    }
    const budget = Math.max(0, maxUnavailable - unavailable);
    return victims.concat(oldAvailable.sort((a, b) => a.spec.nodeName!.localeCompare(b.spec.nodeName!)).slice(0, budget));
  }

  async function writeStatus(ds: DaemonSet, eligible: Set<string>, hash: string): Promise<void> {
    const minReady = ds.spec.minReadySeconds ?? 0;
    const now = clock.now();
    const pods = ownedPods(ds).filter(isActive);
    const onEligible = pods.filter((p) => eligible.has(targetNode(p) ?? ''));
    const scheduled = new Set(onEligible.filter((p) => p.spec.nodeName).map((p) => p.spec.nodeName!));
    const available = onEligible.filter((p) => isAvailable(p, minReady, now)).length;
    const status: NonNullable<DaemonSet['status']> = {
      desiredNumberScheduled: eligible.size,
      currentNumberScheduled: scheduled.size,
      numberMisscheduled: new Set(pods.filter((p) => p.spec.nodeName && !eligible.has(p.spec.nodeName)).map((p) => p.spec.nodeName)).size,
      numberReady: onEligible.filter((p) => isAvailable(p, 0, now)).length,
      numberAvailable: available,
      numberUnavailable: Math.max(0, eligible.size - available),
      updatedNumberScheduled: onEligible.filter((p) => p.spec.nodeName && p.metadata.labels?.[revisionHashLabel] === hash).length,
      observedGeneration: ds.metadata.generation,
    };
    if (minReady > 0 && status.numberReady > available) queue.addAfter(cacheKey(ds.metadata.namespace, ds.metadata.name), 1000);
    await objects.mutate('DaemonSet', ds.metadata.namespace, ds.metadata.name, (cur) => {
      if (cur.metadata.uid !== ds.metadata.uid) return undefined;
      cur.status = { ...(cur.status ?? {}), ...status };
      return cur;
    });
  }

  return { name: 'daemonset', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}
