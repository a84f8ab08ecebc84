/**
 * The Event kind through the object verbs: `get`, `list` and `watch` of kind Event read the master's
 * EventStore (in memory, master/events/store.ts), not the store, and answer in the shapes the other
 * kinds use, so the CLI and the dashboard need no special case. Lists come sorted by lastTimestamp.
 */
import { SkiffError, type Event, type KObject } from '../../../protocol/index.js';
import { STREAMING, type ApiCall, type ApiContext } from '../types.js';

/** The label and field selectors of the request, as one predicate (api/params.ts `selection`). */
type Selected = (o: KObject) => boolean;

function wanted(namespace: string | undefined, selected: Selected, e: Event): boolean {
  return (namespace === undefined || e.metadata.namespace === namespace) && selected(e);
}

/** `get {kind: 'Event', name, namespace?}`. */
export function getEvent(ctx: ApiContext, namespace: string, name: string): Event {
  const e = ctx.events.store.get(namespace, name);
  // Events expire (--event-ttl after they were last seen), so "not found" may mean "forgotten".
  if (!e) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `events "${name}" not found in namespace "${namespace}" (it may have expired)`);
  return e;
}

/** `list {kind: 'Event', ...}`: the kept events in `namespace` (undefined: all), oldest lastTimestamp first. */
export function listEvents(ctx: ApiContext, namespace: string | undefined, selected: Selected): { apiVersion: 'v1'; kind: 'List'; items: Event[]; metadata: { resourceVersion: string } } {
  const items = ctx.events.store.list(namespace).filter((e) => wanted(namespace, selected, e));
  return { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: String(ctx.events.store.resourceVersion) } };
}

/** `watch {kind: 'Event', ...}`: the kept events as ADDED, then every change (a repeat is a MODIFIED with a higher count). */
export function watchEvents(ctx: ApiContext, namespace: string | undefined, selected: Selected, call: ApiCall): typeof STREAMING {
  for (const e of ctx.events.store.list(namespace)) if (wanted(namespace, selected, e)) call.send({ event: { type: 'ADDED', object: e } });
  const stop = ctx.events.store.watch((type, e) => {
    if (wanted(namespace, selected, e)) call.send({ event: { type, object: e } });
  });
  call.onEnd(stop);
  return STREAMING;
}
