/**
 * Desired sets as deltas: what a node's agent was last sent (each pod, ConfigMap, Secret and Service
 * as a digest of its JSON text) and the delta from that to the set as it stands now. An agent that asked for
 * deltas (`resync`) gets only what changed — a bind is one pod, not the node's hundred — with the
 * generation it must hold for the delta to apply (protocol/messages.ts DesiredDelta).
 *
 * Digests, not the text itself: at 20,000 pods the texts were a second copy of every pod (issue 16, memory).
 * SHA-1 over the JSON text is collision-free in practice for this purpose (a collision would only skip one
 * pod's update until its next change or the agent's next resync). A digest is computed once per object:
 * cache objects are immutable (a change is a new object), so it is remembered per object (a WeakMap). A pod's
 * digest is not a hash at all but the number of its agent view (desired-view.ts), which is new exactly when the pod
 * changes in a way the agent can see.
 */
import { createHash } from 'node:crypto';
import type { DesiredDelta, DesiredMessage } from '../../protocol/index.js';

const digests = new WeakMap<object, string>();

/**
 * Gives an object whose version is known a digest without hashing its text: `token` must change whenever the text
 * does (desired-view.ts: one token per pod version the agent can tell apart).
 */
export function rememberDigest(o: object, token: string): void {
  digests.set(o, token);
}

/** The digest of a value's JSON text (remembered per object). */
export function digestOf(v: unknown): string {
  const memo = typeof v === 'object' && v !== null;
  const known = memo ? digests.get(v) : undefined;
  if (known !== undefined) return known;
  const d = createHash('sha1').update(JSON.stringify(v) ?? 'undefined').digest('base64');
  if (memo) digests.set(v, d);
  return d;
}

/** A desired set as the agent holds it, entry by entry, as digests of the JSON text (to compare). */
export interface SentSet {
  generation: number;
  pods: Map<string, string>;
  configMaps: Map<string, string>;
  secrets: Map<string, string>;
  services: Map<string, string>;
  volumes: Map<string, string>;
  /** The uid lists, as JSON text (short). */
  keepLogs: string;
  terminating: string;
}

type Body = Omit<DesiredMessage, 'generation'>;
type MapField = 'configMaps' | 'secrets' | 'services' | 'volumes';
const mapFields: MapField[] = ['configMaps', 'secrets', 'services', 'volumes'];

/** The entries of a full set, as sent at `generation`. */
export function sentSet(generation: number, body: Body): SentSet {
  const texts = (o: Record<string, unknown> | undefined) => new Map(Object.entries(o ?? {}).map(([k, v]) => [k, digestOf(v)]));
  return {
    generation,
    pods: new Map(body.pods.map((p) => [p.metadata.uid!, digestOf(p)])),
    configMaps: texts(body.configMaps),
    secrets: texts(body.secrets),
    services: texts(body.services),
    volumes: texts(body.volumes),
    keepLogs: JSON.stringify(body.keepLogs ?? []),
    terminating: JSON.stringify(body.terminating ?? []),
  };
}

/** The delta from `sent` to `body` at `generation`, or undefined when nothing changed; `next` is sentSet(generation, body), if at hand. */
export function deltaOf(sent: SentSet, body: Body, generation: number, next = sentSet(generation, body)): DesiredDelta | undefined {
  const d: DesiredDelta = { delta: true, base: sent.generation, generation };
  let changed = false;
  const pods = body.pods.filter((p) => sent.pods.get(p.metadata.uid!) !== next.pods.get(p.metadata.uid!));
  const removed = [...sent.pods.keys()].filter((uid) => !next.pods.has(uid));
  if (pods.length) (d.pods = pods), (changed = true);
  if (removed.length) (d.removed = removed), (changed = true);
  for (const f of mapFields) {
    const entries: Record<string, unknown> = {};
    let any = false;
    for (const [k, text] of next[f]) if (sent[f].get(k) !== text) (entries[k] = (body[f] as Record<string, unknown>)[k]), (any = true);
    for (const k of sent[f].keys()) if (!next[f].has(k)) (entries[k] = null), (any = true);
    if (any) (d[f] = entries as never), (changed = true);
  }
  for (const f of ['keepLogs', 'terminating'] as const) if (next[f] !== sent[f]) (d[f] = body[f] ?? []), (changed = true);
  return changed ? d : undefined;
}

/**
 * One digest of a whole set's entries (generation aside): equal when the agent would hold the same set, whatever
 * order the entries were gathered in (a set's pods come in no particular order).
 */
export function setDigest(s: SentSet): string {
  const h = createHash('sha1');
  for (const f of ['pods', ...mapFields] as const) {
    h.update(`\u0000${f}`);
    for (const k of [...s[f].keys()].sort()) h.update(`\u0001${k}\u0002${s[f].get(k)}`);
  }
  h.update(`\u0000${s.keepLogs}\u0000${s.terminating}`);
  return h.digest('base64');
}
