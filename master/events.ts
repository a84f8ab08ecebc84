/**
 * Cluster events. An event about an object becomes a core/v1 Event in the EventStore (events/store.ts:
 * in memory, correlated, bounded, expiring after --event-ttl), served by the API like an object
 * (`skiff get events`, the Events of `skiff describe`, the dashboard); every event, apply outcomes
 * included, is also published on `skiff/v1/events` (QoS 0) for MQTT watchers, and again on `skiff/v1/events/{ns}` when
 * it belongs to one namespace (what a namespaced token may read).
 *
 * A new event about an object is also a log line (Warning → warn, Normal → info), as Kubernetes' event
 * broadcaster logs what it records: joins, Ready/NotReady, evictions, FailedScheduling with the
 * engine's explanation all reach the log from the one place that words them. Repeats only raise the
 * event's count (no line), and lines beyond a budget are summed up, so a storm cannot fill the log
 * (on a board, journald's disk) either. Apply outcomes (no involved object) are logged by the API,
 * which knows who asked.
 */
import { encode, isTopicLevel, topics, type Codec, type Event, type EventMessage, type EventSource, type Logger, type ObjectReference } from '../protocol/index.js';
import type { EventInput } from './events/correlate.js';
import { EventStore, type Recorded } from './events/store.js';

/** Where events go: the broker's publish. */
export type EventSink = (topic: string, payload: Buffer) => void;

/** Whether a topic has a subscriber now (the broker's subscriptions); a publish nobody would receive is skipped, encoding included. */
export type EventWanted = (topic: string) => boolean;

/** Events kept per involved object. */
const perObject = 100;
/** Log lines for new events: a burst of this many, refilled at `logPerSecond`. */
const logBurst = 100;
const logPerSecond = 20;
/** The storm's summary line ("suppressed") at most this often, ms: a long storm is not one summary per line logged. */
const summaryEveryMs = 10_000;

/** Bounds and lifetime of the kept events (MasterConfig eventTtlMs, maxEvents). */
export interface EventRecorderOptions {
  ttlMs?: number;
  maxEvents?: number;
  /** Told of every recorded occurrence (the Prometheus counters). */
  onRecorded?: (type: Event['type'], reason: string, count: number) => void;
}

/** Records, keeps and publishes events. */
export class EventRecorder {
  /** The kept Event objects. */
  readonly store: EventStore;
  private sink?: EventSink;
  private wanted: EventWanted = () => true;
  private tokens = logBurst;
  private refilledAt = Date.now();
  private suppressed = 0;
  private summarizedAt = 0;
  /** Namespace → its events' topic (`skiff/v1/events/{ns}`), or null when the name is no topic level. */
  private readonly nsTopics = new Map<string, string | null>();

  constructor(
    private readonly log: Logger,
    private readonly opts: EventRecorderOptions = {},
  ) {
    this.store = new EventStore({ ttlMs: opts.ttlMs ?? 3_600_000, maxEvents: opts.maxEvents ?? 10_000, maxPerObject: perObject });
  }

  /** Connects the recorder to the broker once it runs; with `wanted`, only topics someone subscribes to are published. */
  attach(sink: EventSink, wanted?: EventWanted): void {
    this.sink = sink;
    if (wanted) this.wanted = wanted;
  }

  /**
   * Records one event: kept (when it is about an object), logged when new, and published — in msgpack, or
   * (`codec` json) as JSON for the outcome of an apply that came as text over MQTT, so a plain client
   * (mosquitto_sub) that sent YAML can read the answer.
   */
  emit(e: Omit<EventMessage, 'ts'> & { ts?: number }, source?: EventSource, codec: Codec = 'msgpack'): void {
    const ev: EventMessage = { ...e, ts: e.ts ?? Date.now() };
    if (ev.involvedObject) this.keep({ involvedObject: ev.involvedObject, type: ev.type, reason: ev.reason, message: ev.message, source: source ?? { component: ev.source ?? 'skiff-master' } });
    this.publish(ev, codec);
  }

  /**
   * A shorthand for an event about an object, reported by the master: what `emit` does with such an event, without
   * the copies — a rollout records two per pod (SuccessfulCreate, Scheduled), and the message published only when
   * someone reads its topic is only built then.
   */
  object(kind: string, namespace: string | undefined, name: string, type: EventMessage['type'], reason: string, message: string): void {
    const involvedObject = { kind, namespace, name };
    this.keep({ involvedObject, type, reason, message, source: masterSource });
    if (!this.sink) return;
    const to = this.topicsOf(namespace);
    if (to) this.send({ type, reason, message, involvedObject, source: 'skiff-master', ts: Date.now(), ...(namespace ? { namespace } : {}) }, to);
  }

  /** An event reported by an agent (or another component): `count` occurrences folded into one input. */
  report(input: EventInput): void {
    const r = this.keep(input);
    const { kind, namespace, name, uid } = input.involvedObject;
    this.publish({ type: input.type, reason: input.reason, message: r.event.message, involvedObject: { kind, namespace, name, uid }, source: input.source.host ?? input.source.component, ts: Date.now() });
  }

  /** The kept events of an object, oldest first (describe). */
  of(kind: string, namespace: string | undefined, name: string): Event[] {
    return this.store.of(kind, namespace, name);
  }

  private keep(input: EventInput): Recorded {
    const r = this.store.record(input);
    this.opts.onRecorded?.(input.type, input.reason, Math.max(1, Math.floor(input.count ?? 1)));
    if (r.created) this.logNew(r.event.involvedObject, input.type, input.reason, r.event.message);
    return r;
  }

  private logNew(ref: ObjectReference, type: Event['type'], reason: string, message: string): void {
    const now = Date.now();
    this.tokens = Math.min(logBurst, this.tokens + ((now - this.refilledAt) / 1000) * logPerSecond);
    this.refilledAt = now;
    if (this.tokens < 1) {
      this.suppressed++;
      return;
    }
    this.tokens--;
    if (this.suppressed > 0 && now - this.summarizedAt >= summaryEveryMs) {
      this.summarizedAt = now;
      this.log.warn('event log lines suppressed (an event storm); the events are kept: skiff get events -A', { suppressed: this.suppressed });
      this.suppressed = 0;
    }
    const fields = { reason, object: ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}` };
    if (type === 'Warning') this.log.warn(message, fields);
    else this.log.info(message, fields);
  }

  private publish(ev: EventMessage, codec: Codec = 'msgpack'): void {
    if (!this.sink) return;
    const ns = namespaceOfEvent(ev);
    if (ns && !ev.namespace) ev.namespace = ns;
    const to = this.topicsOf(ns);
    if (to) this.send(ev, to, codec);
  }

  /**
   * The topics an event of namespace `ns` goes to now: `skiff/v1/events` and the namespace's own copy, each only while
   * someone reads it (namespaced tokens read only their namespace's copy: broker/acl.ts); undefined when no one does.
   */
  private topicsOf(ns: string | undefined): { all: boolean; own?: string } | undefined {
    const all = this.wanted(topics.events);
    let nsTopic: string | null | undefined;
    if (ns) {
      nsTopic = this.nsTopics.get(ns);
      if (nsTopic === undefined) {
        if (this.nsTopics.size >= maxNamespaceTopics) this.nsTopics.clear();
        this.nsTopics.set(ns, (nsTopic = isTopicLevel(ns) ? topics.namespaceEvents(ns) : null));
      }
    }
    const own = nsTopic && this.wanted(nsTopic) ? nsTopic : undefined;
    return all || own ? { all, own } : undefined;
  }

  /** Encodes once, for the topics someone reads. */
  private send(ev: EventMessage, to: { all: boolean; own?: string }, codec: Codec = 'msgpack'): void {
    try {
      const payload = encode(ev, codec);
      if (to.all) this.sink!(topics.events, payload);
      if (to.own) this.sink!(to.own, payload);
    } catch {
      // the broker is closing; events are best effort
    }
  }
}

/** The source of the master's own events (never changed: the store copies what it keeps). */
const masterSource: EventSource = Object.freeze({ component: 'skiff-master' });

/** Namespaces whose events' topic is remembered (the memory starts over beyond: names are data). */
const maxNamespaceTopics = 1000;

/** The one namespace an event belongs to: its object's, or the one every apply result shares; else none. */
function namespaceOfEvent(ev: EventMessage): string | undefined {
  if (ev.namespace) return ev.namespace;
  if (ev.involvedObject) return ev.involvedObject.namespace;
  const spaces = new Set((ev.results ?? []).map((r) => r.namespace));
  return spaces.size === 1 ? [...spaces][0] : undefined;
}
