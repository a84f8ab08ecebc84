/**
 * Size and count limits every layer agrees on, at Kubernetes' figures where it has one: a request
 * body of at most 3 MiB (kube-apiserver's MaxRequestBodyBytes), an object of at most 1.5 MiB encoded
 * (etcd's --max-request-bytes), ConfigMap and Secret data of at most 1 MiB, and — Skiff's own, since
 * an edge master has one event loop and one SD card — a configurable bound on how many pods one
 * object may ask for (`skiff master --max-replicas`).
 */
import type { Checker } from './check.js';
import { isObject } from './check.js';
import { SkiffError } from './errors.js';

/** The largest API request or manifest payload read at all: 3 MiB, as kube-apiserver's MaxRequestBodyBytes. */
export const maxRequestBytes = 3 * 1024 * 1024;

/** The largest object stored, JSON-encoded: 1.5 MiB, as etcd's default --max-request-bytes. */
export const maxObjectBytes = 1.5 * 1024 * 1024;

/** The most data a ConfigMap or Secret may carry, all keys together: 1 MiB, as Kubernetes. */
export const maxDataBytes = 1024 * 1024;

/** The largest a manifest may become once its YAML aliases are expanded: the request limit (no amplification). */
export const maxExpandedBytes = maxRequestBytes;

/** The default of `--max-replicas`: the most pods one object may ask for on an edge cluster. */
export const defaultMaxReplicas = 10_000;

/** The hard ceiling of `--max-replicas`: Kubernetes' replicas are int32. */
export const replicasCeiling = 2 ** 31 - 1;

/** A byte count for messages: `1.5 MiB` and `3 MiB` when exact, `50.0 MiB` and `1.1 MiB` rounded, `812 bytes`. */
export function showBytes(n: number): string {
  for (const [unit, size] of [['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (n < size) continue;
    const exact = (n / size) * 10 === Math.round((n / size) * 10);
    return `${exact ? n / size : (n / size).toFixed(1)} ${unit}`;
  }
  return `${n} bytes`;
}

/** Refuses a payload over `limit` before anything reads it; the message names `what` and both sizes. */
export function payloadTooLarge(what: string, bytes: number, limit = maxRequestBytes): string | undefined {
  return bytes > limit ? `${what}: ${showBytes(bytes)} is over the limit of ${showBytes(limit)}` : undefined;
}

/** Reads a dotted path (`spec.jobTemplate.spec.parallelism`) from a plain object, own properties only. */
function at(o: unknown, path: string): unknown {
  let v: unknown = o;
  for (const k of path.split('.')) {
    if (!isObject(v) || !Object.hasOwn(v, k)) return undefined;
    v = v[k];
  }
  return v;
}

/**
 * The one rule on pod counts (spec.replicas, parallelism, completions, an HPA's maxReplicas — the
 * fields a kind lists in its `podCounts`): each at most `maxReplicas`. Apply, scale and the HPA all
 * come through here. Type errors are left to the kind's own check.
 */
export function checkPodCounts(c: Checker, fields: readonly string[] | undefined, o: unknown, maxReplicas: number): void {
  for (const f of fields ?? []) {
    const v = at(o, f);
    if (typeof v === 'number' && v > maxReplicas) c.fail(f, `must be at most ${maxReplicas} (the master's --max-replicas)`, v);
  }
}

/**
 * Kubernetes' limit on a stored object (etcd's request size), measured on the object as written: the
 * master checks every write, so neither a user nor an agent's status report grows one past 1.5 MiB.
 * `bytesAtMost`: an upper bound of the object's JSON bytes the caller already has (else one is walked here).
 * Throws SKIFF_ERR_VALIDATION.
 */
export function checkObjectSize(o: { kind?: string; metadata?: { name?: string } }, bytesAtMost?: number): void {
  // Nearly every object is far below the limit: a bound of its size, walked without building the text, settles it
  // (or the caller's bound, when it walked the object already: Objects.mutate, master/json-value.ts writeCheck).
  if ((bytesAtMost ?? jsonBytesAtMost(o, 0)) <= maxObjectBytes) return;
  const n = Buffer.byteLength(JSON.stringify(o), 'utf8');
  if (n <= maxObjectBytes) return;
  const rule = `must be at most ${showBytes(maxObjectBytes)} encoded`;
  throw new SkiffError('SKIFF_ERR_VALIDATION', `${o.kind ?? 'object'}/${o.metadata?.name ?? '?'}: the object is ${showBytes(n)} encoded; it ${rule}`, [{ field: 'object', rule }]);
}

/** Deeper than this, or a value with toJSON (a Date, a Buffer): no bound, checkObjectSize measures the text itself. */
const boundDepth = 64;

/**
 * An upper bound of the bytes of `v`'s JSON text, in UTF-8: a string's UTF-16 unit takes at most 6 bytes (`\u001f`,
 * or a lone surrogate), a number at most 25 characters (`-1.2345678901234567e-308`), `false` and `null` 5 and 4, plus
 * quotes, colons, commas and brackets; a left-out array element is `null`. Infinity when it cannot tell.
 */
export function jsonBytesAtMost(v: unknown, depth: number): number {
  if (typeof v !== 'object' || v === null) return scalarBytesAtMost(v);
  if (depth > boundDepth || typeof (v as { toJSON?: unknown }).toJSON === 'function') return Infinity;
  let n = containerBytes;
  if (Array.isArray(v)) {
    for (const x of v) n += jsonBytesAtMost(x, depth + 1) + elementBytes;
    return n;
  }
  const o = v as Record<string, unknown>;
  // for…in over own keys, not Object.keys: the keys JSON.stringify writes without an array per object — every stored
  // write walks its whole object here, and those arrays were ~1.5 % of a rollout's garbage (docs/scale.md "Memory and GC").
  for (const k in o) if (Object.hasOwn(o, k)) n += keyBytesAtMost(k) + jsonBytesAtMost(o[k], depth + 1);
  return n;
}

/** jsonBytesAtMost's rule for what is not an object (null included); walks that bound objects themselves use it (json-value.ts). */
export function scalarBytesAtMost(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return v.length * 6 + 2;
    case 'number':
      return 25;
    case 'boolean':
      return 5;
    default:
      return 4; // null; undefined, a function, a symbol: left out of an object, `null` in an array
  }
}

/** jsonBytesAtMost's rule for one key of an object: the key, its quotes, the colon and a comma. */
export function keyBytesAtMost(k: string): number {
  return k.length * 6 + 4;
}

/** An object's or array's brackets. */
export const containerBytes = 2;
/** An array element's comma. */
export const elementBytes = 1;

/** The decoded size of a ConfigMap's or Secret's data maps, as Kubernetes counts it (base64 values decoded). */
export function dataBytes(maps: { value: unknown; base64: boolean }[]): number {
  let n = 0;
  for (const { value, base64 } of maps) {
    if (!isObject(value)) continue;
    for (const v of Object.values(value)) {
      if (typeof v !== 'string') continue;
      n += base64 ? Math.floor((v.replace(/[\s=]/g, '').length * 3) / 4) : Buffer.byteLength(v, 'utf8');
    }
  }
  return n;
}
