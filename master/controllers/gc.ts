/**
 * Garbage collection: when an owner is deleted, its dependents go too (background cascade), as the
 * Kubernetes garbage collector does with ownerReferences; a deleted Namespace takes every object in
 * it. At start it sweeps dependents whose owner vanished while the master was down.
 */
import { kinds, type KObject } from '../../protocol/index.js';
import { WorkQueue } from './queue.js';
import type { Controller, ControllerContext } from './types.js';

/** Kinds that can be dependents (have ownerReferences). */
const dependentKinds = ['Pod', 'ReplicaSet', 'Job'];

/** Starts the garbage collector. */
export function startGarbageCollector(ctx: ControllerContext): Controller {
  const { informers, objects } = ctx;
  // Keys are `kind|namespace|name` of dependents whose owner may be gone.
  const queue = new WorkQueue('gc', sync, ctx.log);

  const ownerExists = (uid: string) => informers.hasUid(uid);

  for (const kind of Object.keys(kinds)) {
    informers.on(kind, (obj, old) => {
      if (obj || !old) return;
      // An owner was deleted: queue every dependent that points at it.
      for (const dk of dependentKinds)
        for (const d of informers.list(dk, kinds[kind as keyof typeof kinds].namespaced ? old.metadata.namespace : undefined))
          if (d.metadata.ownerReferences?.some((r) => r.uid === old.metadata.uid)) queue.add(`${dk}|${d.metadata.namespace}|${d.metadata.name}`);
      if (kind === 'Namespace')
        for (const k of Object.values(kinds))
          if (k.namespaced) for (const o of informers.list(k.kind, old.metadata.name)) queue.add(`${k.kind}|${o.metadata.namespace}|${o.metadata.name}|ns`);
    });
  }
  // Start-up sweep: dependents whose owners are already gone.
  for (const dk of dependentKinds)
    for (const d of informers.list(dk))
      if (d.metadata.ownerReferences?.length && d.metadata.ownerReferences.every((r) => !ownerExists(r.uid))) queue.add(`${dk}|${d.metadata.namespace}|${d.metadata.name}`);

  async function sync(key: string): Promise<void> {
    const [kind, ns, name, why] = key.split('|');
    const o = informers.get<KObject>(kind, ns || undefined, name);
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

  return { name: 'gc', idle: () => queue.idle(), stop: () => queue.stop() };
}
