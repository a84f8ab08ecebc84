/**
 * Fans durable changes out to watchers. Each watcher has its own FIFO queue (history first,
 * then live changes), drained from a `setImmediate` after the write was made durable: never inside the
 * writer's stack, always in revision order, each change once, and a watcher that throws neither stops
 * the store nor the other watchers (its error goes to `onError`). One turn delivers for at most
 * `sliceMs`; what is left goes on in the next turn (setImmediate), so a burst of changes delivered to
 * every watcher does not hold the event loop for long.
 */
import type { Watch, WatchEvent } from './types.js';
import { loopBudget } from '../loop-budget.js';
import { deliveryHurried } from './urgency.js';

/** One committed change as the store keeps it: values still as JSON text. */
export interface Change {
  revision: number;
  key: string;
  type: 'put' | 'delete';
  /** The new value (put); null on delete. */
  value: string | null;
  /** The value before the change; null on the put that created the key. Computed when first read (most watchers never read it). */
  prevValue: string | null | (() => string);
  /** When the hub queued it (performance.now(), set by `publish`; a watch's history has none): how far behind delivery is. */
  queuedAt?: number;
}

/**
 * How long one turn delivers events for, in ms, the watchers' callbacks included (they run inside the turn: the
 * informers' cache and every handler behind it). An API request read in the poll phase waits for the whole
 * event-loop iteration, and the hub's turn is one of several tasks of an iteration (the store's commit turn, agent
 * messages, controllers): a turn of 10 ms plus what the iteration's other tasks take made 30–50 ms iterations in a
 * 10,000-pod rollout (issue 16: API get p99 < 20 ms). One event costs ~30 µs to the informers, so a turn of 4 ms
 * still delivers ~130 events and the informers keep up; with 2 ms they fell behind (pods/s halved: docs/scale.md,
 * "Watch delivery in short turns").
 */
export const sliceMs = 4;

/**
 * A turn's length while delivery is behind: when the change a turn starts with has waited longer than `behindMs`, the
 * turn delivers for `behindSliceMs` (the length turns had before), so a flood the informers cannot keep up with in
 * 4 ms turns (a restart into a 50,000-pod backlog) does not leave consistent lists waiting for them (up to 1 s each,
 * api/handlers/objects.ts) for longer than it did.
 */
export const behindMs = 100;
/** See `behindMs`. */
export const behindSliceMs = 10;

interface Watcher {
  prefix: string;
  /** Live changes at or below this revision were already read as history (or predate the watch). */
  afterRevision: number;
  queue: Change[];
  /** The next change of `queue` to deliver. */
  head: number;
  onEvent: (e: WatchEvent<unknown>) => void;
  closed: boolean;
}

/** Called with whatever a watcher's callback threw. */
export type WatchErrorHandler = (err: unknown, event: WatchEvent<unknown>) => void;

/** The watchers of one store. */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private scheduled: NodeJS.Immediate | undefined;
  /** The watcher the last turn stopped in. */
  private resumeAt: Watcher | undefined;

  constructor(private readonly onError: WatchErrorHandler) {}

  /** Adds a watcher that first receives `history` (already filtered, in order), then live changes after `afterRevision`. */
  add(prefix: string, afterRevision: number, history: Change[], onEvent: (e: WatchEvent<unknown>) => void): Watch {
    const w: Watcher = { prefix, afterRevision, queue: history, head: 0, onEvent, closed: false };
    this.watchers.add(w);
    if (history.length > 0) this.schedule();
    return {
      close: () => {
        w.closed = true;
        w.queue = [];
        this.watchers.delete(w);
      },
    };
  }

  /** Queues a change for every watcher whose prefix matches. Called once its batch is durable, in revision order. */
  publish(change: Change): void {
    change.queuedAt = performance.now();
    let queued = false;
    for (const w of this.watchers) {
      if (change.revision > w.afterRevision && change.key.startsWith(w.prefix)) {
        w.queue.push(change);
        queued = true;
      }
    }
    if (queued) this.schedule();
  }

  /** Stops every watcher; queued events are dropped. */
  closeAll(): void {
    for (const w of this.watchers) {
      w.closed = true;
      w.queue = [];
    }
    this.watchers.clear();
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }

  private schedule(): void {
    this.scheduled ??= setImmediate(() => this.flush());
  }

  // Delivers queued changes for up to sliceMs, watcher after watcher, each in its order; the next turn resumes
  // where this one stopped (the watcher it stopped in first, so none waits behind a busy one for good).
  private flush(): void {
    this.scheduled = undefined;
    const start = performance.now();
    const all = [...this.watchers];
    const first = Math.max(0, all.indexOf(this.resumeAt!));
    // Within the iteration's shared budget (../loop-budget.ts); behind, it still takes a whole normal slice; while a
    // request waits for delivery (urgency.ts), a whole behind slice.
    const hurried = deliveryHurried();
    const behind = hurried || all.some((w) => this.behind(w, start));
    const budget = loopBudget.turn('watch-hub', behind ? behindSliceMs : sliceMs, hurried ? behindSliceMs : behind ? sliceMs : undefined);
    for (let n = 0; n < all.length; n++) {
      const w = all[(first + n) % all.length]!;
      while (w.head < w.queue.length && !w.closed) {
        deliver(w, w.queue[w.head++]!, this.onError);
        if (performance.now() - start >= budget || loopBudget.interrupted()) {
          this.resumeAt = w;
          return this.schedule();
        }
      }
      w.queue = [];
      w.head = 0;
    }
    this.resumeAt = undefined;
  }

  // True when the next change `w` gets has waited longer than behindMs.
  private behind(w: Watcher, now: number): boolean {
    const next = w.queue[w.head];
    return next?.queuedAt !== undefined && now - next.queuedAt > behindMs;
  }
}

function deliver(w: Watcher, change: Change, onError: WatchErrorHandler): void {
  const event = toEvent(change);
  try {
    w.onEvent(event);
  } catch (err) {
    try {
      onError(err, event);
    } catch {
      // An error handler that throws must not break delivery either.
    }
  }
}

// Parsed per delivery, so one watcher mutating its event cannot change what another sees. A put's previous
// value is parsed (and decoded) only if the watcher reads `prevValue`.
function toEvent(c: Change): WatchEvent<unknown> {
  if (c.type === 'delete') {
    const gone = JSON.parse(textOf(c.prevValue)!);
    return { type: 'delete', key: c.key, value: gone, prevValue: JSON.parse(textOf(c.prevValue)!), revision: c.revision };
  }
  const value = JSON.parse(c.value!);
  if (c.prevValue === null) return { type: 'put', key: c.key, value, revision: c.revision, created: true };
  const event: WatchEvent<unknown> = { type: 'put', key: c.key, value, revision: c.revision };
  return lazyPrevValue(event, c.prevValue);
}

function textOf(prev: Change['prevValue']): string | null {
  return typeof prev === 'function' ? prev() : prev;
}

/**
 * Gives `event` a `prevValue` parsed from `prev` when first read: an own, enumerable property (a spread or a
 * deep-equal sees it); assigning it replaces it. Both stores' watches use it.
 */
export function lazyPrevValue(event: WatchEvent<unknown>, prev: string | (() => string)): WatchEvent<unknown> {
  let parsed: unknown;
  let done = false;
  return Object.defineProperty(event, 'prevValue', {
    enumerable: true,
    configurable: true,
    get: () => {
      if (!done) {
        parsed = JSON.parse(textOf(prev)!);
        done = true;
      }
      return parsed;
    },
    set: (v: unknown) => Object.defineProperty(event, 'prevValue', { value: v, writable: true, enumerable: true, configurable: true }),
  });
}
