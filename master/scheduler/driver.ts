/**
 * The scheduler driver: keeps the engine's node table and bound pods in step with the cache, and
 * places pending pods in batches (one engine call per batch). A placed pod gets spec.nodeName and
 * PodScheduled=True; a pod that fits nowhere gets PodScheduled=False with the engine's explanation
 * (`0/3 nodes are available: ...`) and is retried when the cluster changes.
 */
import type { Engine, Placement } from '../../core-wasm/types.js';
import type { PersistentVolumeClaim, Pod } from '../../protocol/index.js';
import type { ControllerContext, Controller } from '../controllers/types.js';
import { isFinished, isTerminating } from '../controllers/pods.js';
import { enginePod, engineNode } from './convert.js';
import { nextSlice } from '../controllers/batch.js';
import { loopBudget } from '../loop-budget.js';
import { selectedNodeAnnotation } from '../controllers/volumes/names.js';
import { volumeFit, type VolumeFit } from './volumes.js';
import { podsByNode } from '../nodes/pods-by-node.js';

/** Unschedulable pods are retried at least this often even without cluster changes. */
const retryMs = 5000;

/**
 * Pods placed per engine call. A backlog of 100,000 pending pods is placed 500 at a time, each batch
 * on its own turn of the event loop and each write behind the time-slice gate, so the API answers
 * while the scheduler works.
 */
const maxBatch = 500;

/** Starts the scheduler on an engine. */
export function startScheduler(ctx: ControllerContext, engine: Engine): Controller & { flush(): Promise<void> } {
  const { informers, objects, events, telemetry } = ctx;
  /** podKey → node the engine has it bound to. */
  const bound = new Map<string, string>();
  /** The nodes the engine knows (engine.nodeNames() copies its list: too dear on every bind of a rollout). */
  const known = new Set<string>();
  const pending = new Set<string>();
  const unschedulable = new Set<string>();
  let scheduled: Promise<void> | undefined;
  let stopped = false;

  const podKey = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
  /** Now as an ISO timestamp: a batch binds hundreds of pods in one millisecond, and they share one toISOString. */
  let isoMs = NaN;
  let iso = '';
  const isoNow = () => {
    const ms = Date.now();
    if (ms !== isoMs) (isoMs = ms), (iso = new Date(ms).toISOString());
    return iso;
  };

  /** kube-scheduler's pending_pods gauge: queued for the next batch, or waiting for the cluster to change. */
  function gauge(): void {
    telemetry?.pendingPods.set({ queue: 'active' }, pending.size);
    telemetry?.pendingPods.set({ queue: 'unschedulable' }, unschedulable.size);
  }

  function kick(): void {
    gauge();
    if (stopped || scheduled) return;
    scheduled = new Promise<void>((resolve) => setImmediate(() => runBatch().finally(() => {
      scheduled = undefined;
      resolve();
      if (pending.size > 0) kick();
    })));
  }

  function retryUnschedulable(): void {
    for (const k of unschedulable) pending.add(k);
    unschedulable.clear();
    if (pending.size > 0) kick();
  }

  informers.on('Node', (n, old) => {
    if (n) {
      const isNew = !known.has(n.metadata.name);
      engine.upsertNode(engineNode(n));
      known.add(n.metadata.name);
      // Pods bound to a node the engine did not know yet (master restart, node re-created) count now.
      if (isNew)
        for (const p of podsByNode(informers).of(n.metadata.name))
          if (p.spec.nodeName === n.metadata.name && !isFinished(p) && !bound.has(podKey(p))) {
            engine.bindPod(n.metadata.name, enginePod(p));
            bound.set(podKey(p), n.metadata.name);
          }
    } else if (old) {
      engine.removeNode(old.metadata.name);
      known.delete(old.metadata.name);
      for (const [k, node] of bound) if (node === old.metadata.name) bound.delete(k);
    }
    retryUnschedulable();
  });

  informers.on('Pod', (p, _old, latest) => {
    const key = podKey(latest);
    const gone = !p || isFinished(p) || (isTerminating(p) && !p.spec.nodeName);
    if (gone) {
      pending.delete(key);
      unschedulable.delete(key);
      const node = bound.get(key);
      if (node) {
        engine.unbindPod(node, key);
        bound.delete(key);
        retryUnschedulable(); // freed capacity
      }
      return;
    }
    if (p.spec.nodeName) {
      pending.delete(key);
      unschedulable.delete(key);
      if (bound.get(key) === p.spec.nodeName) return;
      if (bound.has(key)) engine.unbindPod(bound.get(key)!, key);
      if (known.has(p.spec.nodeName)) {
        engine.bindPod(p.spec.nodeName, enginePod(p));
        bound.set(key, p.spec.nodeName);
      }
      return;
    }
    if (!isTerminating(p) && !unschedulable.has(key)) {
      pending.add(key);
      kick();
    }
  });

  // A claim bound, a volume provisioned, a class added: pods waiting on their volumes may fit now.
  for (const kind of ['PersistentVolumeClaim', 'PersistentVolume', 'StorageClass']) informers.on(kind, () => retryUnschedulable());

  const retryTimer = setInterval(retryUnschedulable, retryMs);
  retryTimer.unref();

  async function runBatch(): Promise<void> {
    loopBudget.enter(); // the engine call is one task: the turns after it in this check phase count it
    const keys: string[] = [];
    // The set keeps insertion order, so the oldest pending pods go first.
    for (const k of pending) {
      if (keys.length >= maxBatch) break;
      keys.push(k);
    }
    for (const k of keys) pending.delete(k);
    const pods = keys
      .map((k) => {
        const [ns, name] = k.split('/');
        return informers.get('Pod', ns, name);
      })
      .filter((p): p is Pod => !!p && !p.spec.nodeName && !isTerminating(p))
      // FIFO: older pods first, as the kube-scheduler's active queue orders by creation.
      .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
    if (pods.length === 0) return gauge();
    const { ready, fits } = await withVolumes(pods);
    if (ready.length === 0) return gauge();
    let placements: Placement[];
    const began = performance.now();
    try {
      placements = engine.schedule(ready.map((p) => enginePod(p, fits.get(p)!.terms)));
    } catch (err) {
      ctx.log.error('engine failed', { component: 'scheduler', pods: ready.length, err });
      for (const p of ready) unschedulable.add(podKey(p));
      telemetry?.scheduleAttempts.inc({ result: 'error' }, ready.length);
      return gauge();
    } finally {
      telemetry?.scheduleBatch.observe((performance.now() - began) / 1000);
    }
    await Promise.all(
      placements.map((pl, i) =>
        nextSlice().then(() => {
          const p = ready[i]!;
          const fit = fits.get(p)!;
          if (pl.node) return bind(p, pl, fit);
          // The engine only sees node affinity: say that it came from the volumes.
          const where = [...new Set(fit.nodes)];
          return markUnschedulable(p, where.length ? { ...pl, message: `${pl.message.replace(/\.$/, '')} (its volumes are on node ${where.join(', ')}).` } : pl);
        }),
      ),
    );
    gauge();
  }

  /**
   * The pods of a batch whose volumes allow scheduling now, with what their volumes add. A pod whose claim is
   * missing (or unbound without WaitForFirstConsumer) is marked unschedulable with the reason; of pods sharing
   * an unbound claim only the first goes in this batch (its node becomes the claim's), the others wait for the next.
   */
  async function withVolumes(pods: Pod[]): Promise<{ ready: Pod[]; fits: Map<Pod, VolumeFit> }> {
    const fits = new Map<Pod, VolumeFit>();
    const ready: Pod[] = [];
    const claimed = new Set<string>();
    for (const p of pods) {
      const fit = volumeFit(p, informers);
      if (fit.blocked) {
        await markUnschedulable(p, { pod: podKey(p), node: null, score: 0, reasons: {}, message: `0/${engine.nodeNames().length} nodes are available: ${fit.blocked}.` });
        continue;
      }
      const keys = fit.select.map((c) => `${p.metadata.namespace}/${c}`);
      if (keys.some((k) => claimed.has(k))) {
        pending.add(podKey(p));
        continue;
      }
      for (const k of keys) claimed.add(k);
      fits.set(p, fit);
      ready.push(p);
    }
    return { ready, fits };
  }

  /** Writes the node on the pod's unbound WaitForFirstConsumer claims (kube-scheduler's PreBind); false when one already names another node. */
  async function selectNode(p: Pod, node: string, fit: VolumeFit): Promise<boolean> {
    for (const name of fit.select) {
      const res = await objects.mutate('PersistentVolumeClaim', p.metadata.namespace, name, (cur) => {
        if (cur.spec.volumeName || cur.metadata.annotations?.[selectedNodeAnnotation]) return undefined;
        cur.metadata.annotations = { ...(cur.metadata.annotations ?? {}), [selectedNodeAnnotation]: node };
        return cur;
      });
      const chosen = res?.metadata.annotations?.[selectedNodeAnnotation];
      if (!res || (!res.spec.volumeName && chosen !== node)) return false;
    }
    return true;
  }

  async function bind(p: Pod, pl: Placement, fit: VolumeFit): Promise<void> {
    const key = podKey(p);
    bound.set(key, pl.node!);
    if (fit.select.length && !(await selectNode(p, pl.node!, fit).catch(() => false))) {
      // Another pod's node was written on a shared claim meanwhile: place this one again, with that constraint.
      engine.unbindPod(pl.node!, key);
      bound.delete(key);
      pending.add(key);
      kick();
      return;
    }
    const now = isoNow();
    const res = await objects
      .mutate('Pod', p.metadata.namespace, p.metadata.name, (cur) => {
        if (cur.metadata.uid !== p.metadata.uid || cur.spec.nodeName || cur.metadata.deletionTimestamp) return undefined;
        cur.spec.nodeName = pl.node!;
        cur.status = { ...(cur.status ?? {}), phase: cur.status?.phase ?? 'Pending' };
        cur.status.conditions = [...(cur.status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'), { type: 'PodScheduled', status: 'True', lastTransitionTime: now }];
        return cur;
      })
      .catch((err) => {
        ctx.log.error('binding failed', { component: 'scheduler', pod: key, node: pl.node, err });
        return undefined;
      });
    if (!res || res.spec.nodeName !== pl.node) {
      engine.unbindPod(pl.node!, key);
      bound.delete(key);
      if (res && !res.spec.nodeName) pending.add(key);
      telemetry?.scheduleAttempts.inc({ result: 'error' });
      return;
    }
    telemetry?.scheduleAttempts.inc({ result: 'scheduled' });
    const created = Date.parse(p.metadata.creationTimestamp ?? '');
    if (!Number.isNaN(created)) telemetry?.podSchedulingDuration.observe(Math.max(0, Date.now() - created) / 1000);
    events.object('Pod', p.metadata.namespace, p.metadata.name, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${pl.node}`);
  }

  async function markUnschedulable(p: Pod, pl: Placement): Promise<void> {
    unschedulable.add(podKey(p));
    telemetry?.scheduleAttempts.inc({ result: 'unschedulable' });
    const prev = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
    // An event when the reason changes, not on every retry: 50,000 pending pods retried every 5 s would be
    // 10,000 events a second (kube-scheduler backs off per pod and its recorder drops spam for the same reason).
    if (prev?.status === 'False' && prev.message === pl.message) return;
    events.object('Pod', p.metadata.namespace, p.metadata.name, 'Warning', 'FailedScheduling', pl.message);
    await objects
      .mutate('Pod', p.metadata.namespace, p.metadata.name, (cur) => {
        if (cur.metadata.uid !== p.metadata.uid || cur.spec.nodeName) return undefined;
        cur.status = { ...(cur.status ?? {}), phase: 'Pending' };
        cur.status.conditions = [
          ...(cur.status.conditions ?? []).filter((c) => c.type !== 'PodScheduled'),
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: pl.message, lastTransitionTime: new Date().toISOString() },
        ];
        return cur;
      })
      .catch(() => undefined);
  }

  return {
    name: 'scheduler',
    async idle() {
      while (scheduled) await scheduled;
    },
    flush: async () => {
      kick();
      while (scheduled) await scheduled;
    },
    stop() {
      stopped = true;
      clearInterval(retryTimer);
    },
  };
}
