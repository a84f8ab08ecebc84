/** instrumentStore: each write counted by op and outcome and timed, whether it resolves, rejects or throws at once. */
import { describe, expect, it } from 'vitest';
import { SkiffError } from '../../protocol/errors.js';
import { Telemetry } from '../../master/telemetry/registry.js';
import { instrumentStore } from '../../master/telemetry/store.js';
import type { Store } from '../../master/store/types.js';

describe('store metrics', () => {
  it('counts and times writes that resolve, reject, and throw before returning a promise', async () => {
    const t = new Telemetry();
    const fake = {
      create: async (k: string) => ({ key: k }),
      update: async () => {
        throw new SkiffError('SKIFF_ERR_CONFLICT', 'stale');
      },
      delete: () => {
        throw new SkiffError('SKIFF_ERR_NOT_FOUND', 'gone');
      },
      revision: async () => 7,
    } as unknown as Store;
    const store = instrumentStore(fake, t, 'sqlite');
    expect(await store.create('/a', {})).toEqual({ key: '/a' });
    expect(await store.create('/b', {})).toEqual({ key: '/b' });
    await expect(store.update('/a', {})).rejects.toMatchObject({ code: 'SKIFF_ERR_CONFLICT' });
    // A method that throws synchronously still gives the caller a rejected promise, as an async write does.
    const deleted = store.delete('/a');
    expect(deleted).toBeInstanceOf(Promise);
    await expect(deleted).rejects.toMatchObject({ code: 'SKIFF_ERR_NOT_FOUND' });
    const writes = (await t.storeWrites.get()).values.map((v) => [v.labels.op, v.labels.outcome, v.value]);
    expect(writes).toEqual(expect.arrayContaining([
      ['create', 'ok', 2],
      ['update', 'SKIFF_ERR_CONFLICT', 1],
      ['delete', 'SKIFF_ERR_NOT_FOUND', 1],
    ]));
    const counts = (await t.storeWriteDuration.get()).values.filter((v) => v.metricName === 'skiff_store_write_duration_seconds_count');
    expect(Object.fromEntries(counts.map((v) => [v.labels.op, v.value]))).toEqual({ create: 2, update: 1, delete: 1 });
  });
});
