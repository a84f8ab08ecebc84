/**
 * Store metrics: every write (create, update, delete) is timed until the store acknowledged it — on
 * SQLite that is the commit and the fsync of the WAL after it (run off the loop, master/store/durability.ts), the figure that tells an
 * operator how the SD card is doing; on etcd the quorum round trip. The write methods of the store
 * instance are wrapped in place, so the object stays the one the backup verb reads whole.
 */
import { Gauge } from 'prom-client';
import type { Store } from '../store/types.js';
import { codeLabel, type Telemetry } from './registry.js';

const ops = ['create', 'update', 'delete'] as const;

/** Times the writes of `store` into `t` and exposes its revision and backend; returns the same store. */
export function instrumentStore<S extends Store>(store: S, t: Telemetry, backend: string): S {
  for (const op of ops) {
    const write = (store[op] as (...a: unknown[]) => Promise<unknown>).bind(store);
    // Children bound once per op (prom-client hashes a label object on every observe and inc otherwise), and a `then`
    // rather than an async frame: a write is timed tens of thousands of times a second in a rollout.
    const duration = t.storeWriteDuration.labels({ op });
    const ok = t.storeWrites.labels({ op, outcome: 'ok' });
    const failed = (began: number, err: unknown): never => {
      duration.observe((performance.now() - began) / 1000);
      t.storeWrites.inc({ op, outcome: codeLabel(err) });
      throw err;
    };
    const timed = (...args: unknown[]): Promise<unknown> => {
      const began = performance.now();
      let written: Promise<unknown>;
      try {
        written = write(...args);
      } catch (err) {
        return Promise.reject(err).catch((e: unknown) => failed(began, e));
      }
      return written.then(
        (v) => {
          duration.observe((performance.now() - began) / 1000);
          ok.inc();
          return v;
        },
        (err: unknown) => failed(began, err),
      );
    };
    Object.assign(store, { [op]: timed });
  }
  new Gauge({
    name: 'skiff_store_revision',
    help: 'The store revision (rises with every write).',
    registers: [t.registry],
    async collect() {
      this.set(await store.revision().catch(() => 0));
    },
  });
  new Gauge({ name: 'skiff_store_info', help: 'The store backend (1 for the one in use): sqlite or etcd.', labelNames: ['backend'], registers: [t.registry] }).set({ backend }, 1);
  return store;
}
