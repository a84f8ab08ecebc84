/**
 * Work deferred out of the broker's read of a socket, done in time-bounded slices (issue 16, API latency in a
 * rollout). The master reads every ready socket in one poll phase of the event loop; when a thousand agents answer a
 * burst of desired-set deltas at once, handling each of their pod reports as it is read made a poll phase of 20–40 ms,
 * and an API request read in that phase waited for all of it. Queued here, a report costs its parse at read time, and
 * the handling runs in turns of at most `sliceMs`, each after a `setImmediate`, so timers and I/O (the next API
 * request) come in between.
 *
 * Order: one FIFO, so messages are handled in the order they were read. A message that is handled at once (a lease, an
 * API request) but shares an order key with queued work (the same node) waits behind it instead (`pending`).
 * Bounds: past `maxWaiting` items a turn runs until the queue is back under it, whatever the time — the loop is
 * saturated then, and handling at read time (what it did before) is the most it can do; memory stays bounded.
 */
import type { Logger } from '../../protocol/index.js';
import { Fifo } from './emitter.js';
import { loopBudget } from '../loop-budget.js';

/** How long one turn handles queued work at most, in ms (less when the iteration's shared budget is mostly spent: ../loop-budget.ts). */
export const inboundSliceMs = 4;

/** Items waiting past which a turn ignores its time budget. */
export const inboundMaxWaiting = 20_000;

interface Item {
  key: string | undefined;
  run: () => void;
}

/** A FIFO of deferred work, run in time-bounded turns. */
export class SlicedQueue {
  private readonly items = new Fifo<Item>();
  /** Order key → items of it still waiting. */
  private readonly waitingByKey = new Map<string, number>();
  private scheduled: NodeJS.Immediate | undefined;
  /** Items run so far, and turns that ran them (telemetry and tests). */
  ran = 0;
  turns = 0;
  /** The most items that waited at once. */
  peak = 0;

  constructor(
    private readonly log: Logger,
    private readonly sliceMs = inboundSliceMs,
    private readonly maxWaiting = inboundMaxWaiting,
    private readonly now: () => number = () => performance.now(),
    /** A turn's length given its cap: by default what the iteration's shared budget leaves (tests pass their own). */
    private readonly turnMs: (capMs: number) => number = (capMs) => loopBudget.turn('inbound', capMs),
    /** True when the turn should end now (a request was read: loopBudget.interrupted; tests pass their own). */
    private readonly interrupted: () => boolean = () => loopBudget.interrupted(),
  ) {}

  /** Items waiting. */
  get length(): number {
    return this.items.length;
  }

  /** True while an item with this order key waits: later work of the key must queue behind it. */
  pending(key: string): boolean {
    return this.waitingByKey.has(key);
  }

  /** Queues `run` (with the order key it must keep its place among). */
  push(key: string | undefined, run: () => void): void {
    this.items.push({ key, run });
    if (key !== undefined) this.waitingByKey.set(key, (this.waitingByKey.get(key) ?? 0) + 1);
    this.peak = Math.max(this.peak, this.items.length);
    this.scheduled ??= setImmediate(() => this.turn());
  }

  /** Runs `run` now, unless work of `key` waits: then behind it. */
  runInOrder(key: string | undefined, run: () => void): void {
    if (key !== undefined && this.pending(key)) this.push(key, run);
    else this.safely(run);
  }

  /** Drops everything waiting (shutdown). */
  clear(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    while (this.items.shift());
    this.waitingByKey.clear();
  }

  private turn(): void {
    this.scheduled = undefined;
    this.turns++;
    const began = this.now();
    const sliceMs = this.turnMs(this.sliceMs);
    for (let item = this.items.shift(); item; item = this.items.shift()) {
      if (item.key !== undefined) {
        const left = this.waitingByKey.get(item.key)! - 1;
        if (left > 0) this.waitingByKey.set(item.key, left);
        else this.waitingByKey.delete(item.key);
      }
      this.ran++;
      this.safely(item.run);
      if (this.items.length <= this.maxWaiting && (this.now() - began >= sliceMs || this.interrupted())) break;
    }
    if (this.items.length > 0) this.scheduled = setImmediate(() => this.turn());
  }

  private safely(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.log.error('message handler failed', { err });
    }
  }
}
