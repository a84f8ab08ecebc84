/**
 * The scheduler driver: keeps the engine's node table and bound pods in step with the cache, and
 * places pending pods in batches (one engine call per batch). A placed pod gets spec.nodeName and
 * PodScheduled=True; a pod that fits nowhere gets PodScheduled=False with the engine's explanation
 * (`0/3 nodes are available: ...`) and is retried when the cluster changes.
 */
import type { Engine, Placement } from '../../core-wasm/types.js';
import type { Pod } from '../../protocol/index.js';
import type { ControllerContext, Controller } from '../controllers/types.js';
import { isFinished, isTerminating } from '../controllers/pods.js';
import { enginePod, engineNode } from './convert.js';
import { nextSlice } from '../controllers/batch.js';

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
  const pending = new Set<string>();
  const unschedulable = new Set<string>();
  let scheduled: Promise<void> | undefined;
  let stopped = false;

  const podKey = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;

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
      const isNew = !engine.nodeNames().includes(n.metadata.name);
      engine.upsertNode(engineNode(n));
      // Pods bound to a node the engine did not know yet (master restart, node re-created) count now.
      if (isNew)
        for (const p of informers.list('Pod'))
          if (p.spec.nodeName === n.metadata.name && !isFinished(p) && !bound.has(podKey(p))) {
            engine.bindPod(n.metadata.name, enginePod(p));
            bound.set(podKey(p), n.metadata.name);
          }
    } else if (old) {
      engine.removeNode(old.metadata.name);
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
      if (engine.nodeNames().includes(p.spec.nodeName)) {
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

  const retryTimer = setInterval(retryUnschedulable, retryMs);
  retryTimer.unref();

  async function runBatch(): Promise<void> {
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
    let placements: Placement[];
    const began = performance.now();
    try {
      placements = engine.schedule(pods.map(enginePod));
    } catch (err) {
      ctx.log.error('engine failed', { component: 'scheduler', pods: pods.length, err });
      for (const p of pods) unschedulable.add(podKey(p));
      telemetry?.scheduleAttempts.inc({ result: 'error' }, pods.length);
      return gauge();
    } finally {
      telemetry?.scheduleBatch.observe((performance.now() - began) / 1000);
    }
    await Promise.all(placements.map((pl, i) => nextSlice().then(() => (pl.node ? bind(pods[i], pl) : markUnschedulable(pods[i], pl)))));
    gauge();
  }

  async function bind(p: Pod, pl: Placement): Promise<void> {
    const key = podKey(p);
    bound.set(key, pl.node!);
    const now = new Date().toISOString();
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
