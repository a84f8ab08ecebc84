/**
 * Key and argument checks shared by store implementations, and the prefix → key-range rule that
 * lets `list` and `watch` use the primary-key index instead of a LIKE scan (where `_` and `%` in
 * keys would be wildcards).
 */
import { SkiffError } from '../../protocol/errors.js';

/** Longest key accepted, in UTF-16 code units (etcd's default request limit is far larger; keys here are paths). */
export const maxKeyLength = 1024;

/** Throws SKIFF_ERR_BAD_REQUEST unless `key` is a path: starts with `/`, well-formed, without NUL. */
export function checkKey(key: unknown, field = 'key'): asserts key is string {
  checkPrefix(key, field);
  if (key === '') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: ${field}: must not be empty`);
}

/**
 * Throws SKIFF_ERR_BAD_REQUEST unless `prefix` is empty (everything) or a path starting with `/`,
 * well-formed, without NUL. Keys are paths so that a store can live under a root in a shared
 * keyspace (etcd: `/skiff` + key) without one root's range reaching into another's.
 */
export function checkPrefix(prefix: unknown, field = 'prefix'): asserts prefix is string {
  if (typeof prefix !== 'string') {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: ${field}: must be a string, got ${typeof prefix}`);
  }
  if (prefix.length > maxKeyLength) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: ${field}: must be at most ${maxKeyLength} characters, got ${prefix.length}`);
  }
  // A lone surrogate has no UTF-8 form, so SQLite would store U+FFFD and two keys could collide.
  if (!isWellFormed(prefix) || prefix.includes('\0')) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: ${field}: must be well-formed Unicode without NUL, got ${JSON.stringify(prefix)}`);
  }
  if (prefix !== '' && !prefix.startsWith('/')) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: ${field}: must start with "/", got ${JSON.stringify(prefix.slice(0, 40))}`);
  }
}

/** Throws SKIFF_ERR_BAD_REQUEST unless `rev` is undefined or an integer ≥ 0. */
export function checkRevision(rev: unknown, field: string): asserts rev is number | undefined {
  if (rev === undefined) return;
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 0) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: ${field}: must be an integer ≥ 0, got ${JSON.stringify(rev)}`);
  }
}

/** `value` as JSON text; throws SKIFF_ERR_BAD_REQUEST when it has no JSON form (undefined, a function, a cycle, a BigInt). */
export function toJson(key: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: ${key}: value must be JSON-serialisable: ${(err as Error).message}`);
  }
  if (text === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: ${key}: value must be JSON-serialisable, got ${typeof value}`);
  return text;
}

/**
 * The smallest string greater than every string that starts with `prefix`, or undefined when no
 * such bound exists (empty prefix, or one made only of U+10FFFF). SQLite's BINARY collation
 * compares UTF-8 bytes, which is code-point order, so the bound is the prefix with its last code
 * point replaced by the next valid one (skipping the surrogate block, which UTF-8 cannot hold).
 * Then `key >= prefix AND key < bound` holds exactly for the keys that start with `prefix`.
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix);
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last === 0xd7ff ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

// String.prototype.isWellFormed is in Node ≥ 20; the package allows Node 18 (agents on Debian).
function isWellFormed(s: string): boolean {
  const native = (s as { isWellFormed?: () => boolean }).isWellFormed;
  if (native) return native.call(s);
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}
