/**
 * A work queue for level-triggered controllers: handlers `add(key)`; one worker loop per queue calls
 * `sync(key)`; a key is never synced twice at once, a key added while it syncs is synced again after,
 * and a failing sync is requeued with exponential back-off (5 ms doubling to 30 s), as client-go's
 * rate-limited queue does. Every sync starts behind the time-slice gate (batch.ts), so a queue of
 * 100,000 keys is worked off a slice at a time while the API keeps answering.
 */
import { nextSlice } from './batch.js';
import type { Logger } from '../../protocol/index.js';
import type { QueueMetrics } from '../telemetry/registry.js';
import { queueMetricsFor } from '../telemetry/scope.js';
import { realClock, type Clock, type Timer } from '../clock.js';

/** Back-off bounds for failed syncs. */
const baseDelayMs = 5;
const maxDelayMs = 30_000;

/** A de-duplicating, per-key-serialised work queue with retries. */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<Timer>();
  private running = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** client-go's workqueue metrics, when the queue was made inside a master's telemetry scope. */
  private readonly metrics: QueueMetrics | undefined;

  constructor(
    readonly name: string,
    private readonly sync: (key: string) => Promise<void>,
    private readonly log: Logger,
    /** Delays (addAfter, retry back-off) run on this clock. */
    private readonly clock: Clock = realClock,
    private readonly concurrency = 4,
  ) {
    this.metrics = queueMetricsFor(name);
  }

  /** Queues a key (no-op if already queued; re-run after if it is syncing now). */
  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (!this.queued.has(key)) {
      this.queued.add(key);
      this.metrics?.added(key, this.queued.size);
    }
    queueMicrotask(() => this.pump());
  }

  /** Queues a key after a delay (used for time-based conditions such as minReadySeconds). */
  addAfter(key: string, delayMs: number): void {
    const t = this.clock.after(delayMs, () => {
      this.timers.delete(t);
      this.add(key);
    });
    this.timers.add(t);
  }

  /** Stops the queue: no new work starts; pending timers are cleared. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.timers.clear();
  }

  /** Resolves when nothing is queued or running (tests and orderly shutdown). */
  idle(): Promise<void> {
    if (this.queued.size === 0 && this.running === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private pump(): void {
    while (!this.stopped && this.running < this.concurrency && this.queued.size > 0) {
      const key = this.queued.values().next().value as string;
      this.queued.delete(key);
      this.metrics?.started(key, this.queued.size);
      this.active.add(key);
      this.running++;
      let began = 0;
      nextSlice()
        .then(() => {
          began = performance.now();
          return this.stopped ? undefined : this.sync(key);
        })
        .then(
          () => this.failures.delete(key),
          (err) => {
            this.metrics?.retried();
            const n = (this.failures.get(key) ?? 0) + 1;
            this.failures.set(key, n);
            const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1));
            if (n <= 3 || n % 10 === 0) this.log.warn('sync failed', { component: this.name, key, attempt: n, retryMs: delay, err });
            this.addAfter(key, delay);
          },
        )
        .finally(() => {
          if (began) this.metrics?.done((performance.now() - began) / 1000);
          this.active.delete(key);
          this.running--;
          if (this.dirty.delete(key)) this.add(key);
          this.pump();
          if (this.queued.size === 0 && this.running === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }
}
