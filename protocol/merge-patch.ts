/**
 * JSON merge patch (RFC 7386): what `skiff label`, `annotate`, `taint`, `set` and `edit` send and the
 * master applies (`patch` verb). Maps merge key by key, `null` removes a key, anything else — lists
 * included — replaces the target value whole (unlike Kubernetes' strategic merge patch, which merges
 * some lists by key: the CLI always sends whole lists, so both read the same).
 */
import { isObject } from './check.js';

/** Applies `patch` to `target` (RFC 7386 §2, MergePatch); returns a new value, the inputs are not changed. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else setOwn(out, k, applyMergePatch(Object.hasOwn(out, k) ? out[k] : undefined, v));
  }
  return out;
}

/**
 * The merge patch that turns `from` into `to` (the inverse of applyMergePatch for JSON values without
 * nulls inside maps); `undefined` when they are equal.
 */
export function createMergePatch(from: unknown, to: unknown): unknown {
  if (!isObject(from) || !isObject(to)) return equal(from, to) ? undefined : structuredClone(to);
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(from)) if (!Object.hasOwn(to, k)) setOwn(patch, k, null);
  for (const [k, v] of Object.entries(to)) {
    if (!Object.hasOwn(from, k)) setOwn(patch, k, structuredClone(v));
    else {
      const d = createMergePatch(from[k], v);
      if (d !== undefined) setOwn(patch, k, d);
    }
  }
  return Object.keys(patch).length ? patch : undefined;
}

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && equal(a[k], b[k]));
  }
  return false;
}

/** Sets an own property, even one named `__proto__` (a key from the client is data, never the prototype). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}
