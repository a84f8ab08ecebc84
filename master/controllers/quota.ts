/**
 * The resource quota controller (kube-controller-manager's): keeps every ResourceQuota's `status.used` equal to
 * what the objects of its namespace use (admission/usage.ts), so usage freed by a deletion or a finished pod
 * is given back, and usage admission could not see (objects made before the quota) is counted. It writes only
 * at the quota's revision it read, after the cache holds every write up to it: admission charges a quota in
 * the same transaction as the object it admits, so a charge the cache has not seen yet makes the write
 * conflict, and the next event recomputes — the count is never lowered under a charge.
 */
import { isDeepStrictEqual } from 'node:util';
import { kinds, type ResourceQuota } from '../../protocol/index.js';
import { quotaKinds, quotaStatusOf } from '../admission/usage.js';
import { realClock } from '../clock.js';
import { cacheKey, keyOf } from '../informer.js';
import { WorkQueue } from './queue.js';
import type { ControllerContext, SyncController } from './types.js';

/** Starts the quota controller. */
export function startQuotaController(ctx: ControllerContext): SyncController {
  const { informers, objects } = ctx;
  const queue = new WorkQueue('quota', sync, ctx.log, ctx.clock ?? realClock);
  const quotasOf = (ns: string | undefined) => (ns ? informers.list('ResourceQuota', ns) : []);

  informers.on('ResourceQuota', (_q, _old, q) => queue.add(keyOf(q)));
  // Any namespaced object may count toward a quota (count/<resource>): its namespace's quotas look again.
  for (const k of Object.values(kinds))
    if (k.namespaced && k.kind !== 'ResourceQuota')
      informers.on(k.kind, (_o, _old, o) => {
        for (const q of quotasOf(o.metadata.namespace)) queue.add(cacheKey(q.metadata.namespace, q.metadata.name));
      });

  async function sync(key: string): Promise<void> {
    const [ns, name] = key.split('/') as [string, string];
    const q = informers.get('ResourceQuota', ns, name);
    if (!q || q.metadata.deletionTimestamp) return;
    // The cache holds every write up to the quota's revision (the cache applies the store's changes in order).
    await informers.waitForRevision(Number(q.metadata.resourceVersion));
    const status = quotaStatusOf(q.spec.hard, quotaKinds(q.spec.hard).flatMap((k) => informers.list(k, ns)));
    if (isDeepStrictEqual(q.status, status)) return;
    await objects.update({ ...q, status }).catch((err) => {
      // Charged (or changed) since it was read: its event queues it again.
      if (err?.code !== 'SKIFF_ERR_CONFLICT' && err?.code !== 'SKIFF_ERR_NOT_FOUND') throw err;
    });
  }

  return { name: 'quota', sync, idle: () => queue.idle(), stop: () => queue.stop() };
}
