/**
 * The Namespace controller (Kubernetes' namespace lifecycle): a namespace marked for deletion
 * (Terminating) has every object in it deleted — workloads first, so nothing recreates pods, and no
 * new object may be created there meanwhile — and is removed itself once nothing is left, which waits
 * for pods to be confirmed stopped by their agents.
 */
import { kinds, type KindInfo } from '../../protocol/index.js';
import { nextSlice } from './batch.js';
import { realClock } from '../clock.js';
import { WorkQueue } from './queue.js';
import { isTerminating } from './pods.js';
import type { ControllerContext, SyncController } from './types.js';

/** Controllers go before what they manage; pods and the rest after. */
const order = ['HorizontalPodAutoscaler', 'CronJob', 'Job', 'Deployment', 'DaemonSet', 'ReplicaSet'];

/** How often a Terminating namespace is looked at again while objects remain. */
const recheckMs = 250;

/** Starts the namespace controller. */
export function startNamespaceController(ctx: ControllerContext): SyncController {
  const { informers, objects } = ctx;
  const queue = new WorkQueue('namespace', sync, ctx.log, ctx.clock ?? realClock);
  informers.on('Namespace', (n) => {
    if (n && isTerminating(n)) queue.add(n.metadata.name);
  });

  async function sync(name: string): Promise<void> {
    const ns = informers.get('Namespace', undefined, name);
    if (!ns || !isTerminating(ns)) return;
    const namespaced = (Object.values(kinds) as KindInfo[]).filter((k) => k.namespaced).sort((a, b) => rank(a.kind) - rank(b.kind));
    let remaining = 0;
    for (const k of namespaced)
      for (const o of informers.list(k.kind, name)) {
        remaining++;
        if (isTerminating(o)) continue;
        await nextSlice(); // a namespace of 100,000 pods goes a slice at a time
        await objects.delete(k.kind, name, o.metadata.name).catch((err) => {
          if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
        });
      }
    if (remaining === 0) await objects.finishNamespaceDeletion(name);
    else queue.addAfter(name, recheckMs);
  }

  return { name: 'namespace', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}

function rank(kind: string): number {
  const i = order.indexOf(kind);
  return i < 0 ? order.length : i;
}
