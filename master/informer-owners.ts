/**
 * The informers' owner index (client-go's indexers): per kind, owner uid → the cache keys of the objects with an
 * ownerReference to it, and the objects without a controlling owner under `noController`. The informers move an
 * object's entries on every change they apply (informer.ts), so the common change — a status update that kept its
 * owners — is answered without building anything.
 */
import type { KObject } from '../protocol/index.js';

/** The owner-index bucket of objects without a controlling owner (no uid is empty). */
export const noController = '';

const noKeys: readonly string[] = [];

/** The owner-index buckets an object belongs to: each owner's uid, or noController. */
function ownerKeys(o: KObject | undefined): readonly string[] {
  if (!o) return noKeys;
  const refs = o.metadata.ownerReferences ?? [];
  const keys: string[] = [];
  let controlled = false;
  for (const r of refs) {
    if (typeof r.uid === 'string' && r.uid !== '') keys.push(r.uid);
    controlled ||= !!r.controller;
  }
  if (!controlled) keys.push(noController);
  return keys;
}

/** True when two key lists are the same, in order. */
function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when both objects have the same owner uids with the same controller flags, in order: they have the same ownerKeys. */
export function sameOwners(a: KObject, b: KObject): boolean {
  const x = a.metadata.ownerReferences ?? [];
  const y = b.metadata.ownerReferences ?? [];
  if (x === y) return true;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i]!.uid !== y[i]!.uid || !x[i]!.controller !== !y[i]!.controller) return false;
  return true;
}

/** Cache keys by kind and owner uid. */
export class OwnerIndex {
  private readonly owners = new Map<string, Map<string, Set<string>>>();

  /** The cache keys of a kind's objects in an owner's bucket (an owner uid, or noController); do not change the set. */
  keys(kind: string, bucket: string): ReadonlySet<string> | undefined {
    return this.owners.get(kind)?.get(bucket);
  }

  /** Moves an object's entries from where `old` was to where `obj` is (either may be absent: added, deleted). */
  move(kind: string, key: string, obj: KObject | undefined, old: KObject | undefined): void {
    if (obj && old && sameOwners(obj, old)) return; // nothing moves (most changes are status updates)
    const now = ownerKeys(obj);
    const before = ownerKeys(old);
    if (sameKeys(now, before)) return;
    let byOwner = this.owners.get(kind);
    if (!byOwner) this.owners.set(kind, (byOwner = new Map()));
    for (const uid of before) {
      if (now.includes(uid)) continue;
      const set = byOwner.get(uid);
      set?.delete(key);
      if (set?.size === 0) byOwner.delete(uid);
    }
    for (const uid of now) {
      let set = byOwner.get(uid);
      if (!set) byOwner.set(uid, (set = new Set()));
      set.add(key);
    }
  }
}
