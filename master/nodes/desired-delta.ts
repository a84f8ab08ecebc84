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

/** The delta from `sent` to `body` at `generation`, or undefined when nothing changed. */
export function deltaOf(sent: SentSet, body: Body, generation: number): DesiredDelta | undefined {
  return diff(sent, body, generation, false);
}

/**
 * As deltaOf, and `sent` becomes the set at `generation` when something changed (left as it was otherwise: the agent
 * still holds that generation). In place: a flush compares a node's set with what it was sent without building the
 * whole set's maps again (a rollout flushes each node once per pod bound to it).
 */
export function advance(sent: SentSet, body: Body, generation: number): DesiredDelta | undefined {
  return diff(sent, body, generation, true);
}

function diff(sent: SentSet, body: Body, generation: number, apply: boolean): DesiredDelta | undefined {
  const d: DesiredDelta = { delta: true, base: sent.generation, generation };
  const pods: Body['pods'] = [];
  const digests = new Map<string, string>();
  let known = 0;
  for (const p of body.pods) {
    const uid = p.metadata.uid!;
    const digest = digestOf(p);
    const was = sent.pods.get(uid);
    if (was !== undefined) known++;
    if (was !== digest) pods.push(p), digests.set(uid, digest);
  }
  // Every uid sent is still there when all of them were met above; otherwise the ones missing were removed.
  const now = known < sent.pods.size ? new Set(body.pods.map((p) => p.metadata.uid!)) : undefined;
  const removed = now ? [...sent.pods.keys()].filter((uid) => !now.has(uid)) : [];
  if (pods.length) d.pods = pods;
  if (removed.length) d.removed = removed;
  const changes = new Map<MapField, Map<string, string | undefined>>();
  for (const f of mapFields) {
    const cur = (body[f] ?? {}) as Record<string, unknown>;
    const entries: Record<string, unknown> = {};
    const changed = new Map<string, string | undefined>();
    let present = 0;
    for (const [k, v] of Object.entries(cur)) {
      const digest = digestOf(v);
      const was = sent[f].get(k);
      if (was !== undefined) present++;
      if (was !== digest) (entries[k] = v), changed.set(k, digest);
    }
    if (present < sent[f].size) for (const k of sent[f].keys()) if (!Object.hasOwn(cur, k)) (entries[k] = null), changed.set(k, undefined);
    if (changed.size) (d[f] = entries as never), changes.set(f, changed);
  }
  const lists = { keepLogs: JSON.stringify(body.keepLogs ?? []), terminating: JSON.stringify(body.terminating ?? []) };
  for (const f of ['keepLogs', 'terminating'] as const) if (lists[f] !== sent[f]) d[f] = body[f] ?? [];
  if (!pods.length && !removed.length && !changes.size && lists.keepLogs === sent.keepLogs && lists.terminating === sent.terminating) return undefined;
  if (apply) {
    sent.generation = generation;
    for (const [uid, digest] of digests) sent.pods.set(uid, digest);
    for (const uid of removed) sent.pods.delete(uid);
    for (const [f, changed] of changes) for (const [k, digest] of changed) digest === undefined ? sent[f].delete(k) : sent[f].set(k, digest);
    Object.assign(sent, lists);
  }
  return d;
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
