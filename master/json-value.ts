/**
 * Copies and comparisons of objects as the store keeps them — JSON values — for the object layer's hot path.
 * Everything Objects copies or compares is about to be stored as JSON text (or was read from it), so JSON's
 * meaning is the right one, and it is an order of magnitude cheaper than structuredClone and
 * util.isDeepStrictEqual on a pod (~2 µs against ~20 and ~15, bench/objects-cpu.ts): a property holding
 * undefined (or a function) is left out as JSON.stringify leaves it out, a value with toJSON (a Date) is what its
 * toJSON returns, and key order does not matter.
 */
import { containerBytes, elementBytes, jsonBytesAtMost, keyBytesAtMost, scalarBytesAtMost } from '../protocol/limits.js';

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

/** What Objects.mutate asks of a new object beside the one it read: whether to write it, bump its generation, refuse its size. */
export interface WriteCheck {
  /** `next` is the same JSON value as `before` (jsonEqual): nothing to write. */
  same: boolean;
  /** `next.spec` is the same JSON value as `before.spec` (jsonEqual): the generation stays. */
  sameSpec: boolean;
  /** protocol/limits.ts jsonBytesAtMost(next): an upper bound of its JSON text's bytes (Infinity when it cannot tell). */
  bytesAtMost: number;
}

/**
 * jsonEqual(next, before), jsonEqual(next.spec, before.spec) and jsonBytesAtMost(next, 0) in one walk of `next`: a
 * read-modify-write asked all three of every write, which walked a pod's spec four times (a status report's spec is
 * equal all through, so both comparisons walked all of it; a bind's differs at its end). The comparison stops where
 * the first difference is (the spec's own goes on to the spec's), the bound goes on to the end.
 */
export function writeCheck(next: object, before: object): WriteCheck {
  const a = next as Record<string, unknown>;
  const b = before as Record<string, unknown>;
  if (Array.isArray(a) || Array.isArray(b) || typeof a.toJSON === 'function' || typeof b.toJSON === 'function')
    return { same: jsonEqual(a, b), sameSpec: jsonEqual(a.spec, b.spec), bytesAtMost: jsonBytesAtMost(a, 0) };
  differs = false;
  let bytes = containerBytes;
  let sameSpec = b.spec === undefined; // next without a spec: jsonEqual(undefined, before.spec)
  let count = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k)) continue;
    const x = a[k];
    bytes += keyBytesAtMost(k);
    if (k === 'spec') {
      // The spec is compared all through whatever came before it (and the rest after it, unless it differs).
      const earlier: boolean = differs;
      differs = false;
      bytes += bounded(x, b.spec, 1);
      sameSpec = !differs;
      differs ||= earlier;
    } else bytes += differs ? jsonBytesAtMost(x, 1) : bounded(x, b[k], 1);
    if (x !== undefined) {
      count++;
      if (!Object.hasOwn(b, k)) differs = true;
    }
  }
  if (!differs) differs = definedKeys(b) !== count;
  return { same: !differs, sameSpec, bytesAtMost: bytes };
}

/** Set by `bounded` at the first difference it finds (the walks are synchronous: one at a time). */
let differs: boolean = false;

// jsonBytesAtMost(a, depth), comparing `a` with `b` as jsonEqual does on the way: sets `differs` where they are not
// equal, and from there on only bounds.
function bounded(a: unknown, b: unknown, depth: number): number {
  if (typeof a !== 'object' || a === null) {
    if (a !== b) differs = true;
    return scalarBytesAtMost(a);
  }
  if (a === b) return jsonBytesAtMost(a, depth); // the very same value: equal all through
  if (depth > maxDepth || typeof b !== 'object' || b === null || Array.isArray(a) !== Array.isArray(b) || typeof (a as { toJSON?: unknown }).toJSON === 'function' || typeof (b as { toJSON?: unknown }).toJSON === 'function') {
    if (!jsonEqual(a, b)) differs = true;
    return jsonBytesAtMost(a, depth);
  }
  let n = containerBytes;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) differs = true;
    for (let i = 0; i < a.length; i++) n += (differs ? jsonBytesAtMost(a[i], depth + 1) : bounded(a[i], other[i], depth + 1)) + elementBytes;
    return n;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  // b's keys in order: while a's come in the same order (a copy of b, changed in place, keeps it) each key is one of
  // b's own, and the same keys all through need no count (a key holding undefined on one side only is told apart as
  // its value); from a key out of order on, each is looked up, and the defined keys counted.
  const order = Object.keys(rb);
  let aligned = true;
  let i = 0;
  let count = 0;
  for (const k in ra) {
    if (!Object.hasOwn(ra, k)) continue;
    const x = ra[k];
    n += keyBytesAtMost(k);
    if (differs) {
      n += jsonBytesAtMost(x, depth + 1);
      continue;
    }
    if (x !== undefined) count++;
    if (aligned && order[i] === k) i++;
    else {
      aligned = false;
      if (x !== undefined && !Object.hasOwn(rb, k)) differs = true;
    }
    n += differs ? jsonBytesAtMost(x, depth + 1) : bounded(x, rb[k], depth + 1);
  }
  if (!differs && !(aligned && i === order.length) && definedKeys(rb) !== count) differs = true;
  return n;
}

/** How many own keys of `o` hold something other than undefined. */
function definedKeys(o: Record<string, unknown>): number {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k) && o[k] !== undefined) n++;
  return n;
}

/**
 * Makes `next` reuse, in place, every part of `prev` that is the same JSON value with its keys in the same order:
 * equal strings become `prev`'s, equal objects and arrays are replaced by `prev`'s own. Returns true when the whole of
 * `next` is such a value (the caller may keep `prev` itself). For a new version of a cached object (informer.ts): most
 * of a pod's version is its previous one (a status report changes the status), so the copies the JSON parse made of
 * the rest die young instead of living as long as the cache keeps the version. Both must be JSON values no one changes
 * from then on (the cache's objects are shared: nobody mutates them).
 */
export function reuseEqual(next: unknown, prev: unknown): boolean {
  return typeof next === 'object' && next !== null && typeof prev === 'object' && prev !== null && reuse(next as Record<string, unknown>, prev as Record<string, unknown>, 0);
}

function reuse(next: Record<string, unknown>, prev: Record<string, unknown>, depth: number): boolean {
  if (depth > maxDepth) return false;
  if (Array.isArray(next)) {
    if (!Array.isArray(prev)) return false;
    let same = next.length === prev.length;
    const n = Math.min(next.length, prev.length);
    for (let i = 0; i < n; i++) if (!reuseAt(next, prev, i, depth)) same = false;
    return same;
  }
  if (Array.isArray(prev)) return false;
  // prev's keys in order: a key of next at its place in them is one of prev's own (no hasOwn), and the same keys in
  // the same order mean a replaced object serializes as its copy did.
  const order = Object.keys(prev);
  let same = true;
  let n = 0;
  for (const k in next) {
    if (!Object.hasOwn(next, k)) continue;
    if (order[n++] === k) {
      if (!reuseAt(next, prev, k, depth)) same = false;
    } else {
      same = false;
      if (Object.hasOwn(prev, k)) reuseAt(next, prev, k, depth);
    }
  }
  return same && n === order.length;
}

// next[k] takes prev[k] when equal (a string, or an object or array equal all through); true when it did or the values are the same.
function reuseAt(next: Record<string | number, unknown>, prev: Record<string | number, unknown>, k: string | number, depth: number): boolean {
  const a = next[k];
  const b = prev[k];
  if (a === b) {
    if (typeof a === 'string') next[k] = b;
    return true;
  }
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
  if (!reuse(a as Record<string, unknown>, b as Record<string, unknown>, depth + 1)) return false;
  next[k] = b;
  return true;
}
