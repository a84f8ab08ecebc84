import { hurryDelivery } from '../store/urgency.js';
import type { ApiContext } from './types.js';

/**
 * How long a request may apply the informers' queued changes in its own task, ms (Informers.catchUp). In a 10,000-pod
 * rollout over TLS a consistent list found the cache 60–100 revisions behind at the median and up to ~240 (~70–90 µs
 * each to apply there, the handlers and the API watch stream behind the informers included), and waiting for the watch
 * hub's turns to deliver them took 18 ms at the median and up to 48 — a loop iteration or more (docs/scale.md, session
 * 30). 8 ms covers the median backlog; beyond it the request waits for the turns as before.
 */
export const catchUpMs = 8;

/**
 * Brings the informers to `revision`: first by applying their queued changes now (up to `catchUpMs`), then, if any are
 * left (a backlog longer than that, or a store whose watch cannot: etcd), by waiting up to a second for the watch hub
 * to deliver them, in its longer turns meanwhile (store/urgency.ts). A request reads the cache only once it has every
 * change up to the store's revision.
 */
export async function waitForCache(ctx: ApiContext, revision: number): Promise<CacheWait> {
  const began = performance.now();
  ctx.informers.catchUp(revision, catchUpMs);
  const caught = { catchUpMs: performance.now() - began, left: Math.max(0, revision - ctx.informers.revision) };
  if (caught.left === 0) return caught;
  const done = hurryDelivery();
  try {
    await ctx.informers.waitForRevision(revision, 1000);
  } finally {
    done();
  }
  return caught;
}

/** How a wait went: the catch-up's time, ms, and how many revisions it left to wait for. */
export interface CacheWait {
  catchUpMs: number;
  left: number;
}
