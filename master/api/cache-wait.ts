import { hurryDelivery } from '../store/urgency.js';
import type { ApiContext } from './types.js';

/**
 * Waits up to a second for the informers to reach `revision`, the watch hub delivering in its longer turns meanwhile
 * (store/urgency.ts): a request reads the cache only once it has every change up to the store's revision.
 */
export async function waitForCache(ctx: ApiContext, revision: number): Promise<void> {
  const done = hurryDelivery();
  try {
    await ctx.informers.waitForRevision(revision, 1000);
  } finally {
    done();
  }
}
