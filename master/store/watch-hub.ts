/**
 * Fans committed changes out to watchers. Each watcher has its own FIFO queue (history first,
 * then live changes), drained from a `setImmediate` after the write committed: never inside the
 * writer's stack, always in revision order, and a watcher that throws neither stops the store nor
 * the other watchers (its error goes to `onError`).
 */
import type { Watch, WatchEvent } from './types.js';

/** One committed change as the store keeps it: values still as JSON text. */
export interface Change {
  revision: number;
  key: string;
  type: 'put' | 'delete';
  /** The new value (put); null on delete. */
  value: string | null;
  /** The value before the change; null on the put that created the key. */
  prevValue: string | null;
}

interface Watcher {
  prefix: string;
  /** Live changes at or below this revision were already read as history (or predate the watch). */
  afterRevision: number;
  queue: Change[];
  onEvent: (e: WatchEvent<unknown>) => void;
  closed: boolean;
}

/** Called with whatever a watcher's callback threw. */
export type WatchErrorHandler = (err: unknown, event: WatchEvent<unknown>) => void;

/** The watchers of one store. */
export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private scheduled: NodeJS.Immediate | undefined;

  constructor(private readonly onError: WatchErrorHandler) {}

  /** Adds a watcher that first receives `history` (already filtered, in order), then live changes after `afterRevision`. */
  add(prefix: string, afterRevision: number, history: Change[], onEvent: (e: WatchEvent<unknown>) => void): Watch {
    const w: Watcher = { prefix, afterRevision, queue: history, onEvent, closed: false };
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

  /** Queues a committed change for every watcher whose prefix matches. Called right after the commit. */
  publish(change: Change): void {
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

  // Delivers what is queued now; changes written by callbacks meanwhile wait for the next turn,
  // so a watcher that writes on every event cannot starve I/O.
  private flush(): void {
    this.scheduled = undefined;
    for (const w of [...this.watchers]) {
      const batch = w.queue;
      w.queue = [];
      for (const change of batch) {
        if (w.closed) break;
        deliver(w, change, this.onError);
      }
    }
    for (const w of this.watchers) if (w.queue.length > 0) return this.schedule();
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

// Parsed per delivery, so one watcher mutating its event cannot change what another sees.
function toEvent(c: Change): WatchEvent<unknown> {
  const prevValue = c.prevValue === null ? undefined : JSON.parse(c.prevValue);
  if (c.type === 'delete') return { type: 'delete', key: c.key, value: prevValue, prevValue, revision: c.revision };
  const value = JSON.parse(c.value!);
  if (c.prevValue === null) return { type: 'put', key: c.key, value, revision: c.revision, created: true };
  return { type: 'put', key: c.key, value, prevValue, revision: c.revision };
}
