/**
 * Cluster events: published on `skiff/v1/events` (QoS 0) for watchers and kept in a bounded ring per
 * involved object for `skiff describe`. Events are not stored durably (Kubernetes keeps them for an
 * hour; an edge master keeps the last few per object in memory).
 *
 * Every event about an object is also a log line (Warning → warn, Normal → info), as Kubernetes'
 * event broadcaster logs what it records: joins, Ready/NotReady, evictions, FailedScheduling with the
 * engine's explanation all reach the log from the one place that words them. Apply outcomes (no
 * involved object) are logged by the API, which knows who asked.
 */
import { encode, topics, type EventMessage, type Logger } from '../protocol/index.js';

/** Events kept per object, and objects tracked. */
const perObject = 20;
const maxObjects = 5000;

/** Where events go: the broker's publish. */
export type EventSink = (topic: string, payload: Buffer) => void;

/** Records and publishes events. */
export class EventRecorder {
  private readonly byObject = new Map<string, EventMessage[]>();
  private sink?: EventSink;

  constructor(private readonly log: Logger) {}

  /** Connects the recorder to the broker once it runs. */
  attach(sink: EventSink): void {
    this.sink = sink;
  }

  /** Records one event. */
  emit(e: Omit<EventMessage, 'ts'> & { ts?: number }): void {
    const ev: EventMessage = { ...e, ts: e.ts ?? Date.now() };
    if (ev.involvedObject) {
      const { kind, namespace, name } = ev.involvedObject;
      const k = refKey(kind, namespace, name);
      const fields = { reason: ev.reason, object: namespace ? `${kind}/${namespace}/${name}` : `${kind}/${name}` };
      if (ev.type === 'Warning') this.log.warn(ev.message, fields);
      else this.log.info(ev.message, fields);
      const list = this.byObject.get(k) ?? [];
      list.push(ev);
      if (list.length > perObject) list.shift();
      this.byObject.delete(k);
      this.byObject.set(k, list);
      if (this.byObject.size > maxObjects) this.byObject.delete(this.byObject.keys().next().value as string);
    }
    try {
      this.sink?.(topics.events, encode(ev));
    } catch {
      // the broker is closing; events are best effort
    }
  }

  /** A shorthand for an event about an object. */
  object(kind: string, namespace: string | undefined, name: string, type: EventMessage['type'], reason: string, message: string): void {
    this.emit({ type, reason, message, involvedObject: { kind, namespace, name }, source: 'skiff-master' });
  }

  /** The recent events of an object, oldest first. */
  of(kind: string, namespace: string | undefined, name: string): EventMessage[] {
    return this.byObject.get(refKey(kind, namespace, name)) ?? [];
  }
}

function refKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}
