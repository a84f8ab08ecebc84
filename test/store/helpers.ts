/** Small helpers for the store tests: wait for watch events with a deadline, check error codes. */
import { expect } from 'vitest';
import type { Store, Watch, WatchEvent } from '../../master/store/types.js';
import type { ErrorCode } from '../../protocol/errors.js';

/** A watch that records its events; `until(n)` resolves with the first n events or fails after a deadline. */
export interface RecordedWatch {
  events: WatchEvent[];
  watch: Watch;
  until(n: number, deadlineMs?: number): Promise<WatchEvent[]>;
}

/** Starts a watch that records every event it gets. */
export function watchInto(store: Store, prefix: string, fromRevision: number | undefined): RecordedWatch {
  const events: WatchEvent[] = [];
  const waiters = new Set<() => void>();
  const watch = store.watch(prefix, fromRevision, (e) => {
    events.push(e);
    for (const wake of waiters) wake();
  });
  return {
    events,
    watch,
    until(n, deadlineMs = 5_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (events.length < n) return;
          finish();
          resolve(events.slice(0, n));
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`watch ${JSON.stringify(prefix)}: expected ${n} events within ${deadlineMs} ms, got ${events.length}: ${JSON.stringify(events)}`));
        }, deadlineMs);
        const finish = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Expects `p` to reject with a SkiffError carrying `code`. */
export async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<void> {
  await expect(p).rejects.toMatchObject({ name: 'SkiffError', code });
}

/** Sorts strings by Unicode code point (UTF-8 byte order), the order of SQLite's BINARY collation. */
export function codePointOrder(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0)!);
  const y = Array.from(b, (c) => c.codePointAt(0)!);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
