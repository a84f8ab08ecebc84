/**
 * Copies and comparisons of objects as the store keeps them — JSON values — for the object layer's hot path.
 * Everything Objects copies or compares is about to be stored as JSON text (or was read from it), so JSON's
 * meaning is the right one, and it is an order of magnitude cheaper than structuredClone and
 * util.isDeepStrictEqual on a pod (~2 µs against ~20 and ~15, bench/objects-cpu.ts): a property holding
 * undefined (or a function) is left out as JSON.stringify leaves it out, a value with toJSON (a Date) is what its
 * toJSON returns, and key order does not matter.
 */

/** A fresh value with `v`'s JSON text: what JSON.stringify would keep of it (numbers as they are); undefined when it would leave `v` out. */
export function jsonCopy<T>(v: T): T {
  return copy(v, 0) as T;
}

/** Deeper than this is no object Skiff stores: handed to JSON itself, which copes (or throws on a cycle, as before). */
const maxDepth = 64;

function copy(v: unknown, depth: number): unknown {
  if (typeof v !== 'object' || v === null) return typeof v === 'function' || typeof v === 'symbol' ? undefined : v;
  if (depth > maxDepth || typeof (v as { toJSON?: unknown }).toJSON === 'function') return JSON.parse(JSON.stringify(v) ?? 'null');
  if (Array.isArray(v)) {
    const a = new Array(v.length);
    for (let i = 0; i < v.length; i++) a[i] = copy(v[i], depth + 1) ?? null; // JSON writes a left-out element as null
    return a;
  }
  const o: Record<string, unknown> = {};
  // for…in over own keys, not Object.keys: the same keys in the same order without an array per object (these walks
  // were ~3 % of a rollout's garbage, docs/scale.md "Memory and GC").
  for (const k in v) {
    if (!Object.hasOwn(v, k)) continue;
    const x = copy((v as Record<string, unknown>)[k], depth + 1);
    if (x !== undefined) o[k] = x;
  }
  return o;
}

/** True when `a` and `b` are the same JSON value (object keys in any order; a property holding undefined counts as absent). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (typeof (a as { toJSON?: unknown }).toJSON === 'function' || typeof (b as { toJSON?: unknown }).toJSON === 'function') return JSON.stringify(a) === JSON.stringify(b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let n = 0;
  for (const k in ra) {
    if (!Object.hasOwn(ra, k) || ra[k] === undefined) continue;
    n++;
    if (!Object.hasOwn(rb, k) || !jsonEqual(ra[k], rb[k])) return false;
  }
  for (const k in rb) if (Object.hasOwn(rb, k) && rb[k] !== undefined) n--;
  return n === 0;
}
