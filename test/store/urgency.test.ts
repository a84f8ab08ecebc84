/**
 * A request that waits for the informers (api/cache-wait.ts) marks delivery as hurried for exactly as long as it waits:
 * until its wait ends (the cache reached its revision, or a second passed).
 */
import { describe, expect, it } from 'vitest';
import { deliveryHurried, hurryDelivery } from '../../master/store/urgency.js';
import { waitForCache } from '../../master/api/cache-wait.js';
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
    const ctx = {
      informers: {
        waitForRevision: (revision: number, timeoutMs: number) => {
          waits.push([revision, timeoutMs]);
          return new Promise<void>((r) => (release = r));
        },
      },
    } as unknown as ApiContext;
    const waiting = waitForCache(ctx, 42);
    expect(waits).toEqual([[42, 1000]]);
    expect(deliveryHurried()).toBe(true);
    // The informers resolve the wait on reaching the revision and on timeout alike (the caller checks the revision).
    release();
    await waiting;
    expect(deliveryHurried()).toBe(false);
  });
});
