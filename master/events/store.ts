/**
 * The master's events: core/v1 Event objects kept in memory — never in the store, so an event storm
 * writes nothing to the SD card (docs/observability.md, "Events") — for `ttlMs` after they were last
 * seen (1 h by default, kube-apiserver's --event-ttl). Bounded: at most `maxEvents` overall and
 * `maxPerObject` per involved object; the least recently seen go first. Repeats are folded by the
 * correlator (correlate.ts). Served through the API like objects: list, get, watch, describe.
 */
import { randomBytes } from 'node:crypto';
import type { Event } from '../../protocol/index.js';
import { Aggregator, objectKey, type EventInput } from './correlate.js';
import { LruMap } from './lru.js';

/** Bounds and lifetime. */
export interface EventStoreOptions {
  /** Kept this long after the last occurrence. */
  ttlMs: number;
  /** Events kept overall. */
  maxEvents: number;
  /** Events kept per involved object. */
  maxPerObject: number;
}

/** A change to the kept events, for watchers. */
export type EventChange = (type: 'ADDED' | 'MODIFIED' | 'DELETED', e: Event) => void;

/** What `record` did. */
export interface Recorded {
  event: Event;
  /** True when the event is new (count 1), false when it folded into one already kept. */
  created: boolean;
}

/** Events in memory, keyed by their correlation key, least recently seen first. */
export class EventStore {
  private readonly byKey = new LruMap<string, Event>();
  /**
   * involved object → correlation keys of its events, least recently seen first: the one key itself while the object
   * has one event (most objects: a rollout's pods have one Scheduled each), a Set from the second on.
   */
  private readonly byObject = new Map<string, string | Set<string>>();
  /** `namespace/name` → correlation key. */
  private readonly byName = new Map<string, string>();
  private readonly watchers = new Set<EventChange>();
  private readonly aggregator: Aggregator;
  private version = 0;
  /** uids are this store's random prefix and a sequence: unique, without a random draw per event. */
  private readonly uidPrefix = randomBytes(8).toString('hex');
  private expiredAt = 0;
  /** The last timestamp written, and the millisecond it is of: events of one millisecond share one toISOString. */
  private isoMs = NaN;
  private iso = '';

  constructor(private readonly opts: EventStoreOptions) {
    this.aggregator = new Aggregator(opts.maxEvents);
  }

  /** The version of the latest change (the events' resourceVersion counter). */
  get resourceVersion(): number {
    return this.version;
  }

  /** How many events are kept. */
  get size(): number {
    return this.byKey.size;
  }

  /** Records one occurrence (or `input.count` of them): a new event, or a repeat folded into a kept one. */
  record(raw: EventInput, nowMs = Date.now()): Recorded {
    this.expire(nowMs);
    const { input, key } = this.aggregator.apply(raw, nowMs);
    const n = Math.max(1, Math.floor(input.count ?? 1));
    const now = this.isoOf(nowMs);
    const ok = objectKey(input.involvedObject);
    const kept = this.byKey.get(key);
    if (kept) {
      const event: Event = { ...kept, message: input.message, count: kept.count + n, lastTimestamp: now, metadata: { ...kept.metadata, resourceVersion: String(++this.version) } };
      this.touch(key, event, ok);
      this.notify('MODIFIED', event);
      return { event, created: false };
    }
    const event = this.make(input, n, now, nowMs);
    this.touch(key, event, ok);
    this.byName.set(nameKey(event), key);
    this.notify('ADDED', event);
    this.bound(ok);
    return { event, created: true };
  }

  /** Events, in one namespace or all, sorted by lastTimestamp (oldest first), as `kubectl get events` shows them. */
  list(namespace?: string, nowMs = Date.now()): Event[] {
    this.expire(nowMs);
    const all = [...this.byKey.values()].filter((e) => namespace === undefined || e.metadata.namespace === namespace);
    return all.sort(byLastSeen);
  }

  /** One event by namespace and name. */
  get(namespace: string, name: string, nowMs = Date.now()): Event | undefined {
    this.expire(nowMs);
    const key = this.byName.get(`${namespace}/${name}`);
    return key === undefined ? undefined : this.byKey.get(key);
  }

  /** The events of one object, oldest first (the Events section of describe). */
  of(kind: string, namespace: string | undefined, name: string, nowMs = Date.now()): Event[] {
    this.expire(nowMs);
    const keys = this.byObject.get(objectKey({ kind, namespace, name }));
    if (keys === undefined) return [];
    return (typeof keys === 'string' ? [keys] : [...keys]).map((k) => this.byKey.get(k)!).sort(byLastSeen);
  }

  /** Calls `fn` on every change until the returned function is called. */
  watch(fn: EventChange): () => void {
    this.watchers.add(fn);
    return () => this.watchers.delete(fn);
  }

  /** Drops the events last seen more than ttlMs ago (looked at once a second at most; the oldest is first). */
  expire(nowMs = Date.now()): void {
    if (nowMs - this.expiredAt < 1000 && nowMs >= this.expiredAt) return;
    this.expiredAt = nowMs;
    const cutoff = nowMs - this.opts.ttlMs;
    for (let e = this.byKey.oldestValue(); e && Date.parse(e.lastTimestamp) < cutoff; e = this.byKey.oldestValue()) this.drop(this.byKey.oldestKey()!);
  }

  /** `nowMs` as an ISO timestamp (a rollout records many events in one millisecond). */
  private isoOf(nowMs: number): string {
    if (nowMs !== this.isoMs) {
      this.isoMs = nowMs;
      this.iso = new Date(nowMs).toISOString();
    }
    return this.iso;
  }

  private make(input: EventInput, count: number, now: string, nowMs: number): Event {
    const r = input.involvedObject;
    this.version++;
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        // Kubernetes names events `<object>.<unix nanoseconds in hex>`; here µs, the version keeps two in one ms apart.
        name: `${r.name}.${(Math.trunc(nowMs) * 1000 + (this.version % 1000)).toString(16)}`,
        namespace: r.namespace ?? 'default',
        uid: `${this.uidPrefix}-${this.version.toString(16)}`,
        resourceVersion: String(this.version),
        creationTimestamp: now,
      },
      involvedObject: { ...r },
      reason: input.reason,
      message: input.message,
      type: input.type,
      count,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { ...input.source },
      reportingComponent: input.source.component,
      ...(input.source.host ? { reportingInstance: input.source.host } : {}),
    };
  }

  /** Stores the event as the most recently seen, overall and for its object. */
  private touch(key: string, e: Event, ok: string): void {
    this.byKey.set(key, e);
    const keys = this.byObject.get(ok);
    if (keys === undefined) this.byObject.set(ok, key);
    else if (typeof keys === 'string') {
      if (keys !== key) this.byObject.set(ok, new Set([keys, key]));
    } else {
      keys.delete(key);
      keys.add(key);
    }
  }

  /** Enforces the per-object and overall bounds after an insert. */
  private bound(ok: string): void {
    for (let keys = this.byObject.get(ok); keys !== undefined && sizeOf(keys) > this.opts.maxPerObject; keys = this.byObject.get(ok))
      this.drop(typeof keys === 'string' ? keys : (keys.values().next().value as string));
    while (this.byKey.size > this.opts.maxEvents) this.drop(this.byKey.oldestKey()!);
  }

  private drop(key: string): void {
    const e = this.byKey.get(key);
    if (!e) return;
    this.byKey.delete(key);
    this.byName.delete(nameKey(e));
    const ok = objectKey(e.involvedObject);
    const keys = this.byObject.get(ok);
    if (keys === key) this.byObject.delete(ok);
    else if (typeof keys === 'object') {
      keys.delete(key);
      if (keys.size === 0) this.byObject.delete(ok);
    }
    this.version++;
    // The copy a watcher is told of is only made when someone watches (a rollout drops one event per event it records).
    if (this.watchers.size > 0) this.notify('DELETED', { ...e, metadata: { ...e.metadata, resourceVersion: String(this.version) } });
  }

  private notify(type: 'ADDED' | 'MODIFIED' | 'DELETED', e: Event): void {
    for (const w of this.watchers) {
      try {
        w(type, e);
      } catch {
        // a watcher's failure is its own; the others still hear of the change
      }
    }
  }
}

function sizeOf(keys: string | Set<string>): number {
  return typeof keys === 'string' ? 1 : keys.size;
}

function nameKey(e: Event): string {
  return `${e.metadata.namespace}/${e.metadata.name}`;
}

/** kubectl's order for events: by lastTimestamp, then firstTimestamp, then name. */
export function byLastSeen(a: Event, b: Event): number {
  return a.lastTimestamp.localeCompare(b.lastTimestamp) || a.firstTimestamp.localeCompare(b.firstTimestamp) || a.metadata.name.localeCompare(b.metadata.name);
}
