/**
 * Desired deltas (protocol/messages.ts DesiredDelta): the master sends an agent that asked for them
 * (`resync`) only what changed since the generation it holds. A delta on top of another generation is not
 * applied — the agent asks for the full set instead. A delta is checked for shape, merged into the held set,
 * and the result goes through the same check as a full set (checkDesired), so bad input is dropped, never run.
 */
import type { DesiredDelta, DesiredMessage } from '../protocol/messages.js';
import { checkDesired } from './desired.js';

const isMap = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Is this decoded payload a delta (rather than a full set)? */
export function isDelta(v: unknown): boolean {
  return isMap(v) && v.delta === true;
}

/** What applying a delta gives: the new full set, a reason to ask for the full set, or a refusal (bad shape). */
export type DeltaOutcome = { ok: true; desired: DesiredMessage } | { ok: false; resync: true; reason: string } | { ok: false; resync?: false; error: string };

/** Merges a decoded delta into the held set (`held`: undefined when the agent holds none). */
export function applyDelta(held: DesiredMessage | undefined, v: unknown): DeltaOutcome {
  const bad = (error: string): DeltaOutcome => ({ ok: false, error });
  if (!isMap(v)) return bad('not a map');
  for (const k of ['base', 'generation'] as const) if (!Number.isSafeInteger(v[k]) || v[k] < 0) return bad(`${k}: must be an integer ≥ 0, got ${JSON.stringify(v[k])}`);
  if (v.generation <= v.base) return bad(`generation: must be above base ${v.base}, got ${v.generation}`);
  if (v.pods !== undefined && (!Array.isArray(v.pods) || v.pods.some((p: unknown) => !isMap(p) || !isMap(p.metadata) || typeof p.metadata.uid !== 'string')))
    return bad('pods: must be a list of pods with metadata.uid');
  if (v.removed !== undefined && (!Array.isArray(v.removed) || v.removed.some((u: unknown) => typeof u !== 'string'))) return bad('removed: must be a list of uids');
  for (const k of ['configMaps', 'secrets', 'services', 'volumes'] as const)
    if (v[k] !== undefined && (!isMap(v[k]) || Object.values(v[k]).some((o) => o !== null && !isMap(o)))) return bad(`${k}: must be a map of objects or null`);
  const d = v as unknown as DesiredDelta;
  if (!held || held.generation !== d.base) return { ok: false, resync: true, reason: `delta on generation ${d.base}, holding ${held?.generation ?? 'none'}` };

  const removed = new Set(d.removed ?? []);
  const pods = new Map(held.pods.filter((p) => !removed.has(p.metadata.uid!)).map((p) => [p.metadata.uid!, p]));
  for (const p of d.pods ?? []) pods.set(p.metadata.uid!, p);
  // A master that sends deltas sends them again after a reconnect: the merged set keeps saying so.
  const merged: Record<string, unknown> = { generation: d.generation, pods: [...pods.values()], deltas: true };
  for (const k of ['configMaps', 'secrets', 'services', 'volumes'] as const) {
    // A Map while merging: the keys are the master's strings, never property lookups on a plain object.
    const entries = new Map(Object.entries(held[k] ?? {}));
    for (const [name, o] of Object.entries(d[k] ?? {})) {
      if (o === null) entries.delete(name);
      else entries.set(name, o as never);
    }
    merged[k] = Object.fromEntries(entries);
  }
  for (const k of ['keepLogs', 'terminating'] as const) {
    const list = d[k] ?? held[k];
    if (list?.length) merged[k] = list;
  }
  const checked = checkDesired(merged);
  return checked.ok ? checked : bad(checked.error);
}
