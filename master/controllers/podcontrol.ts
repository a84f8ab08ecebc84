/**
 * Creating and deleting a controller's pods (Kubernetes' PodControl): in slow-start batches that stop
 * at the first error or once the owner is gone, at most `burstReplicas` per sync, each write behind
 * the time-slice gate (batch.ts), with a SuccessfulCreate / SuccessfulDelete event on the owner.
 */
import type { KObject, Pod } from '../../protocol/index.js';
import { slowStartBatch } from './batch.js';
import { createDependent } from './pods.js';
import type { ControllerContext } from './types.js';

/** At most this many pod creations or deletions per sync of one owner (Kubernetes' burstReplicas). */
export const burstReplicas = 500;

/** What a batch of pod writes did: the highest store revision written (to wait for), and what stopped it. */
export interface PodWrites {
  revision: number;
  count: number;
  error?: unknown;
}

/** True while `owner` (the same object, by uid) is in the cache and not being deleted. */
export function ownerLives(ctx: ControllerContext, owner: KObject): () => boolean {
  return () => {
    const cur = ctx.informers.get(owner.kind, owner.metadata.namespace, owner.metadata.name);
    return !!cur && cur.metadata.uid === owner.metadata.uid && !cur.metadata.deletionTimestamp;
  };
}

/** Creates up to min(n, burstReplicas) pods made by `make`; `note` is appended to each event (e.g. the node). */
export async function createPods(ctx: ControllerContext, owner: KObject, n: number, make: (i: number) => Pod, note: (i: number) => string = () => ''): Promise<PodWrites> {
  const { events } = ctx;
  const { done, error } = await slowStartBatch(
    Math.min(n, burstReplicas),
    async (i) => {
      const p = await createDependent(ctx, owner, make(i));
      events.object(owner.kind, owner.metadata.namespace, owner.metadata.name, 'Normal', 'SuccessfulCreate', `Created pod: ${p.metadata.name}${note(i)}`);
      return Number(p.metadata.resourceVersion);
    },
    ownerLives(ctx, owner),
  );
  return { revision: Math.max(0, ...done), count: done.length, error };
}

/** Deletes up to burstReplicas of `pods` (already gone is fine); `why` is appended to each event. */
export async function deletePods(ctx: ControllerContext, owner: KObject, pods: Pod[], why = ''): Promise<PodWrites> {
  const { objects, events } = ctx;
  const victims = pods.slice(0, burstReplicas);
  const { done, error } = await slowStartBatch(victims.length, async (i) => {
    const p = victims[i];
    const d = await objects.delete('Pod', p.metadata.namespace, p.metadata.name).catch((err) => {
      if (err?.code === 'SKIFF_ERR_NOT_FOUND') return undefined;
      throw err;
    });
    events.object(owner.kind, owner.metadata.namespace, owner.metadata.name, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}${why}`);
    return d ? Number(d.metadata.resourceVersion) : 0;
  });
  return { revision: Math.max(0, ...done), count: done.length, error };
}
