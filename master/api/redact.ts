/**
 * What view access sees of a Secret: its metadata, type and keys with their sizes, never a value. Kubernetes'
 * `view` ClusterRole has no access to Secrets at all; Skiff lists them (a dashboard shows that `db-password`
 * exists and has a `password` key of 24 bytes) and strips `data` and `stringData`, adding `dataBytes`
 * (key → decoded size). The rule runs over every answer and every streamed piece the API sends to a view
 * identity (server.ts), whatever the verb or output format, so a new verb cannot forget it.
 */
import type { KObject } from '../../protocol/index.js';

/** Nesting the walk follows: answers are shallow (a list's items, a watch event's object, describe's object). */
const maxDepth = 6;

/** True for a Secret object as the API returns it. */
function isSecret(v: unknown): v is KObject & { data?: Record<string, unknown>; stringData?: Record<string, unknown> } {
  const o = v as Record<string, unknown> | null;
  return typeof o === 'object' && o !== null && o.kind === 'Secret' && typeof o.metadata === 'object';
}

/** The decoded byte count of each key of a Secret (base64 `data`, plain `stringData`). */
export function secretSizes(o: { data?: Record<string, unknown>; stringData?: Record<string, unknown> }): Record<string, number> {
  const sizes: Record<string, number> = {};
  for (const [k, v] of Object.entries(o.data ?? {})) sizes[k] = typeof v === 'string' ? Buffer.from(v, 'base64').length : 0;
  for (const [k, v] of Object.entries(o.stringData ?? {})) sizes[k] = typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : 0;
  return sizes;
}

/** A Secret without its values: metadata, type and `dataBytes`. */
export function redactSecret<T extends KObject>(o: T): T {
  const { data: _d, stringData: _s, ...rest } = o as T & { data?: Record<string, unknown>; stringData?: Record<string, unknown> };
  return { ...rest, dataBytes: secretSizes(o as never) } as unknown as T;
}

/**
 * `value` with every Secret in it redacted (a copy where something changed; the same value otherwise). Walks
 * plain objects and arrays to a bounded depth; Buffers and other class instances are left alone.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (isSecret(value)) return redactSecret(value);
  if (depth >= maxDepth || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const r = redactSecrets(v, depth + 1);
      changed ||= r !== v;
      return r;
    });
    return (changed ? out : value) as T;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const r = redactSecrets(v, depth + 1);
    if (r !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = r;
  }
  return (out ?? value) as T;
}
