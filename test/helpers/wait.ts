/** Waiting on real state with a deadline, instead of sleeping. */

import { waitFor } from '../../bench/cluster-selfheal.js';

/** T without its falsy members (what `eventually` returns once the condition holds). */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `fn` until it returns a truthy value (returned) or the deadline passes (throws with `what`). */
export function eventually<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15_000, intervalMs = 25): Promise<Truthy<T>> {
  return waitFor(fn, what, timeoutMs, intervalMs);
}

/** A fresh temporary directory under the OS temp dir. */
export async function tempDir(prefix = 'skiff-test-'): Promise<string> {
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  return mkdtemp(join(tmpdir(), prefix));
}
