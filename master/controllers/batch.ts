/**
 * Bounded work: controllers share the master's one event loop with the MQTT API and /healthz, and the
 * SQLite store writes synchronously (one fsync each), so a loop of writes never lets I/O in unless it
 * yields. `nextSlice` is the gate every unit of controller work passes: it resolves at once while the
 * current slice is young, and after a `setImmediate` (I/O first) once the slice has held the loop
 * for `sliceMs` — less when the iteration's shared budget (../loop-budget.ts) is mostly spent, the other turns of
 * this check phase and the writers' continuations counted: the slice is what the budget gives the gate's turn.
 * `slowStartBatch` is Kubernetes' slow start for pod creation and deletion.
 */
import { loopBudget } from '../loop-budget.js';

/** How long controller work may hold the event loop before I/O gets a turn: 10 ms at most (less as the iteration's budget allows). */
export const sliceMs = 10;

let sliceStart = performance.now();
/** The current slice's length: what the shared budget gave the controllers' turn. */
let sliceLen = sliceMs;
let gate: Promise<void> = Promise.resolve();

function pass(): Promise<void> | undefined {
  if (performance.now() - sliceStart < sliceLen && !loopBudget.interrupted()) return undefined;
  return new Promise<void>((resolve) =>
    setImmediate(() => {
      sliceLen = loopBudget.turn('controllers', sliceMs);
      sliceStart = performance.now();
      resolve();
    }),
  );
}

/**
 * Resolves when the caller may do its next unit of work (one store write, one sync). Callers pass
 * one at a time, in call order; with an asynchronous store their writes still overlap.
 */
export function nextSlice(): Promise<void> {
  gate = gate.then(pass);
  return gate;
}

/** The outcome of a slow-start run: how many calls succeeded, and the error that stopped it. */
export interface BatchResult<T> {
  done: T[];
  error?: unknown;
}

/**
 * Calls `fn` up to `count` times in batches of 1, 2, 4, ... (Kubernetes' slowStartBatch with
 * SlowStartInitialBatchSize 1): a batch starts only if the one before succeeded entirely, so a
 * failing create (a terminating namespace, a full disk) costs one call, not `count`. Every call passes
 * the time-slice gate, so the API answers while a controller works through a large batch. `proceed`
 * is asked before each batch (the owner may be gone meanwhile).
 */
export async function slowStartBatch<T>(count: number, fn: (i: number) => Promise<T>, proceed: () => boolean = () => true): Promise<BatchResult<T>> {
  const done: T[] = [];
  let size = 1;
  for (let start = 0; start < count && proceed(); start += size, size *= 2) {
    const n = Math.min(size, count - start);
    const results = await Promise.allSettled(
      Array.from({ length: n }, async (_, j) => {
        await nextSlice();
        return fn(start + j);
      }),
    );
    let error: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') done.push(r.value);
      else error ??= r.reason;
    }
    if (error !== undefined) return { done, error };
  }
  return { done };
}
