/**
 * Client-chosen strings are data. A lookup on a plain object by such a string (`handlers[verb]`,
 * `labels[key]`) also finds what every object inherits — `constructor`, `__proto__`, `toString`,
 * `hasOwnProperty`, `valueOf` — so a verb named "constructor" once returned the master's internals.
 * Registries keyed by client input are Maps; a plain object read by a client string goes through `own`.
 */

/** `o[key]` when `key` is the object's own property, else undefined. */
export function own<T>(o: Readonly<Record<string, T>> | null | undefined, key: string): T | undefined {
  return o !== null && o !== undefined && typeof o === 'object' && Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
}

/** True when `key` is the object's own property (the `in` test without the prototype). */
export function hasOwn(o: object | null | undefined, key: string): boolean {
  return o !== null && o !== undefined && Object.prototype.hasOwnProperty.call(o, key);
}
