/** Small helpers for the store tests: wait for watch events with a deadline, check error codes, crash a writer. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
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

/** What a crash child acknowledged before it died. */
export interface CrashResult {
  /** How many writes were acknowledged. */
  count: number;
  /** The indices of the acknowledged writes. */
  acked: number[];
  /** The SQLite store's commit count at the last ack (0 on etcd). */
  batches: number;
  killedBy: NodeJS.Signals | null;
}

/**
 * Spawns crash-child.mjs on a store (`where`: a SQLite file or a store URL) with `lanes` writes in
 * flight, SIGKILLs it after `killAfter` acknowledged writes, and records every ack it printed. With
 * one lane the acks must come in order.
 */
export function runAndKill(where: string, killAfter: number, lanes = 1): Promise<CrashResult> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const child = spawn(process.execPath, ['--import', join(here, 'register-ts.mjs'), join(here, 'crash-child.mjs'), where, String(lanes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const acked: number[] = [];
  let batches = 0;
  let outOfOrder: string | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('ack ')) return;
    const [i, b] = line.slice(4).split(' ').map(Number);
    if (lanes === 1 && i !== acked.length) outOfOrder ??= `expected "ack ${acked.length}", got "${line}"`;
    acked.push(i!);
    batches = b!;
    if (acked.length === killAfter) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`crash child: no ${killAfter} acks within 60 s (got ${acked.length})`));
    }, 60_000); // each ack is an fsync: a loaded machine's disk makes them slow
    child.on('error', reject);
    // 'close' fires after stdout is drained, so acks still in the pipe when the kill landed are counted.
    child.on('close', (_code, signal) => {
      clearTimeout(deadline);
      if (outOfOrder) reject(new Error(`crash child: acks out of order: ${outOfOrder}`));
      else resolve({ count: acked.length, acked, batches, killedBy: signal });
    });
  });
}
