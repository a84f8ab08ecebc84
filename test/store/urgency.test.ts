/**
 * A request that waits for the informers (api/cache-wait.ts) first applies their queued changes itself; only when that
 * leaves some does it wait, marking delivery as hurried for exactly as long as it waits: until its wait ends (the cache
 * reached its revision, or a second passed).
 */
import { describe, expect, it } from 'vitest';
import { deliveryHurried, hurryDelivery } from '../../master/store/urgency.js';
import { catchUpMs, waitForCache } from '../../master/api/cache-wait.js';
import type { ApiContext } from '../../master/api/types.js';

describe('delivery urgency', () => {
  it('counts waiting requests; a second call of the same done does nothing', () => {
    expect(deliveryHurried()).toBe(false);
    const a = hurryDelivery();
    const b = hurryDelivery();
    a();
    a();
    expect(deliveryHurried()).toBe(true);
    b();
    expect(deliveryHurried()).toBe(false);
  });

  it('a request waiting for the cache hurries delivery until its wait ends', async () => {
    let release!: () => void;
    const waits: [number, number][] = [];
    const catchUps: [number, number][] = [];
    const ctx = {
      informers: {
        revision: 40,
        catchUp: (revision: number, maxMs: number) => void catchUps.push([revision, maxMs]), // a backlog it cannot apply
        waitForRevision: (revision: number, timeoutMs: number) => {
          waits.push([revision, timeoutMs]);
          return new Promise<void>((r) => (release = r));
        },
      },
    } as unknown as ApiContext;
    const waiting = waitForCache(ctx, 42);
    expect(catchUps).toEqual([[42, catchUpMs]]);
    expect(waits).toEqual([[42, 1000]]);
    expect(deliveryHurried()).toBe(true);
    // The informers resolve the wait on reaching the revision and on timeout alike (the caller checks the revision).
    release();
    await waiting;
    expect(deliveryHurried()).toBe(false);
  });

  it('a request whose catch-up reaches the revision neither hurries delivery nor waits', async () => {
    const informers = {
      revision: 40,
      catchUp(revision: number) {
        this.revision = revision;
      },
      waitForRevision: () => {
        throw new Error('waited');
      },
    };
    const waiting = waitForCache({ informers } as unknown as ApiContext, 42);
    expect(deliveryHurried()).toBe(false);
    await waiting;
    expect(informers.revision).toBe(42);
  });
});
