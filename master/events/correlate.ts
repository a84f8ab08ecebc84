/**
 * Kubernetes' event correlator (client-go tools/record/events_cache.go), as pure rules:
 * - the **logger** folds an event identical to one already kept (same source, involved object, type,
 *   reason and message) into it: count + 1, lastTimestamp moves;
 * - the **aggregator** groups events that differ only in their message: once `maxSimilar` distinct
 *   messages arrived within `intervalMs` for one (source, object, type, reason), further ones are
 *   folded into one event whose message reads `(combined from similar events): <latest message>`.
 * Together they bound what one object can produce however fast a board misbehaves.
 */
import type { EventSource, ObjectReference } from '../../protocol/index.js';
import { LruMap } from './lru.js';

/** What the recorder is told: the event before correlation. */
export interface EventInput {
  involvedObject: ObjectReference;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  source: EventSource;
  /** Occurrences this input stands for (an agent folds repeats before sending); default 1. */
  count?: number;
}

/** client-go's defaults: 10 similar events within 10 minutes are combined. */
export const maxSimilar = 10;
export const aggregateIntervalMs = 10 * 60_000;

/** The prefix of a combined event's message, as client-go writes it. */
export const combinedPrefix = '(combined from similar events): ';

const sep = '\u0000';

/** The involved object's key: `Kind\0namespace\0name` (the uid is left out: describe finds events by name). */
export function objectKey(ref: Pick<ObjectReference, 'kind' | 'namespace' | 'name'>): string {
  // Concatenation, not [..].join: this runs for every event a rollout records.
  return ref.kind + sep + (ref.namespace ?? '') + sep + ref.name;
}

/** Everything but the message: events with equal aggregate keys are "similar". */
export function aggregateKey(e: EventInput): string {
  const r = e.involvedObject;
  return e.source.component + sep + (e.source.host ?? '') + sep + objectKey(r) + sep + (r.uid ?? '') + sep + (r.fieldPath ?? '') + sep + e.type + sep + e.reason;
}

/** Everything: events with equal keys are the same event seen again. */
export function eventKey(e: EventInput): string {
  return aggregateKey(e) + sep + e.message;
}

/**
 * The similar messages seen for one aggregate key within the interval: the one message itself until a second one
 * differs (most keys only ever see one — a rollout's SuccessfulCreate and Scheduled name a new pod each — and a Set
 * per key was most of what recording such an event allocated).
 */
interface Similar {
  messages: string | Set<string>;
  sinceMs: number;
}

/** The aggregator's memory: bounded like the events themselves (least recently used first out). */
export class Aggregator {
  private readonly seen = new LruMap<string, Similar>();

  constructor(private readonly maxKeys: number) {}

  /** The input as it should be recorded: itself, or folded into its aggregate (message combined, key = aggregate key). */
  apply(e: EventInput, nowMs: number): { input: EventInput; key: string } {
    const agg = aggregateKey(e);
    const key = agg + sep + e.message; // eventKey(e), without building the aggregate key twice
    let s = this.seen.get(agg);
    if (!s || nowMs - s.sinceMs > aggregateIntervalMs) s = { messages: e.message, sinceMs: nowMs };
    this.seen.set(agg, s);
    if (this.seen.size > this.maxKeys) this.seen.delete(this.seen.oldestKey()!);
    const m = s.messages;
    if (typeof m === 'string') {
      // One message so far (maxSimilar - 1 > 1): this one is kept apart too.
      if (m !== e.message) s.messages = new Set([m, e.message]);
      return { input: e, key };
    }
    if (m.has(e.message) || m.size < maxSimilar - 1) {
      m.add(e.message);
      return { input: e, key };
    }
    // The maxSimilar-th distinct message and every one after it: one combined event per aggregate key.
    return { input: { ...e, message: combinedPrefix + e.message }, key: agg };
  }
}
