/**
 * Garbage collection: when an owner is deleted, its dependents go too (background cascade), as the
 * Kubernetes garbage collector does with ownerReferences; a deleted Namespace takes every object in
 * it. At start it sweeps dependents whose owner vanished while the master was down, and a dependent
 * written after its owner was deleted (a controller's create racing the delete) is collected too.
 * Dependents are found through the cache's owner index, and each deletion is one sync behind the
 * queue's time-slice gate: 100,000 pods of a deleted ReplicaSet go a slice at a time.
 */
import { kinds, type KObject } from '../../protocol/index.js';
import { realClock } from '../clock.js';
import { WorkQueue } from './queue.js';
import type { ControllerContext, SyncController } from './types.js';

/** Kinds that can be dependents (have ownerReferences). */
const dependentKinds = ['Pod', 'ReplicaSet', 'Job', 'ControllerRevision', 'PersistentVolumeClaim'];

/** Starts the garbage collector. */
export function startGarbageCollector(ctx: ControllerContext): SyncController {
  const { informers, objects } = ctx;
  // Keys are `kind|namespace|name` of dependents whose owner may be gone.
  const queue = new WorkQueue('gc', sync, ctx.log, ctx.clock ?? realClock);

  const ownerExists = (uid: string) => informers.hasUid(uid);

  const orphaned = (d: KObject) => !!d.metadata.ownerReferences?.length && d.metadata.ownerReferences.every((r) => !ownerExists(r.uid));
  const queueDependent = (kind: string, d: KObject) => queue.add(`${kind}|${d.metadata.namespace ?? ''}|${d.metadata.name}`);

  for (const kind of Object.keys(kinds)) {
    // `on` replays the cache as adds: that is the start-up sweep of dependents whose owners went while the master was down.
    informers.on(kind, (obj, old) => {
      if (obj && dependentKinds.includes(kind) && orphaned(obj)) queueDependent(kind, obj);
      if (obj || !old) return;
      // An owner was deleted: queue every dependent that points at it.
      for (const dk of dependentKinds) for (const d of informers.dependents(dk, old.metadata.uid!)) queueDependent(dk, d);
      if (kind === 'Namespace')
        for (const k of Object.values(kinds))
          if (k.namespaced) for (const o of informers.list(k.kind, old.metadata.name)) queue.add(`${k.kind}|${o.metadata.namespace}|${o.metadata.name}|ns`);
    });
  }

  async function sync(key: string): Promise<void> {
    const [kind, ns, name, why] = key.split('|');
    const o = informers.get(kind, ns || undefined, name);
    if (!o) return;
    if (why === 'ns') {
      if (informers.get('Namespace', undefined, ns)) return; // recreated meanwhile
    } else {
      const refs = o.metadata.ownerReferences ?? [];
      if (refs.length === 0 || refs.some((r) => ownerExists(r.uid))) return;
    }
    await objects.delete(kind, ns || undefined, name).catch((err) => {
      if (err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
    });
  }

  return { name: 'gc', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}
