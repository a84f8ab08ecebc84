/**
 * The informers' owner index (master/informer-owners.ts), table by table: an object is under each owner uid it
 * references, and under noController unless one reference is its controller; a change moves it only when its owners
 * changed, and a status-only change (same owners, another array) leaves the index as it was.
 */
import { describe, expect, it } from 'vitest';
import { noController, OwnerIndex } from '../../master/informer-owners.js';
import type { KObject, OwnerReference } from '../../protocol/index.js';

const ref = (uid: string, controller?: boolean): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${uid}`, uid, ...(controller === undefined ? {} : { controller }) });
const pod = (refs?: OwnerReference[], phase = 'Pending'): KObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', ...(refs ? { ownerReferences: refs } : {}) }, status: { phase } }) as KObject;

/** Where the index has key 'default/p': the buckets (owner uids, '' for noController) holding it, sorted. */
function bucketsOf(ix: OwnerIndex, uids: string[]): string[] {
  return [...uids, noController].filter((u) => ix.keys('Pod', u)?.has('default/p')).sort();
}

describe('owner index', () => {
  const cases: { name: string; old?: KObject; obj?: KObject; buckets: string[] }[] = [
    { name: 'added without owners: an orphan', obj: pod(), buckets: [''] },
    { name: 'added with a controller', obj: pod([ref('a', true)]), buckets: ['a'] },
    { name: 'an owner that is not its controller: also an orphan', obj: pod([ref('a')]), buckets: ['', 'a'] },
    { name: 'two owners, one controls', obj: pod([ref('a'), ref('b', true)]), buckets: ['a', 'b'] },
    { name: 'status change, same owners in a new array', old: pod([ref('a', true)]), obj: pod([ref('a', true)], 'Running'), buckets: ['a'] },
    { name: 'adopted: orphan → controlled', old: pod(), obj: pod([ref('a', true)]), buckets: ['a'] },
    { name: 'released: controlled → orphan', old: pod([ref('a', true)]), obj: pod(), buckets: [''] },
    { name: 'controller flag dropped, same uid', old: pod([ref('a', true)]), obj: pod([ref('a', false)]), buckets: ['', 'a'] },
    { name: 'owner replaced', old: pod([ref('a', true)]), obj: pod([ref('b', true)]), buckets: ['b'] },
    { name: 'a reference without a uid is no bucket', obj: pod([ref('', true)]), buckets: [] },
    { name: 'deleted', old: pod([ref('a', true)]), buckets: [] },
  ];
  it.each(cases)('$name', ({ old, obj, buckets }) => {
    const ix = new OwnerIndex();
    if (old) ix.move('Pod', 'default/p', old, undefined);
    ix.move('Pod', 'default/p', obj, old);
    expect(bucketsOf(ix, ['a', 'b'])).toEqual(buckets);
    // Emptied buckets are dropped, not kept as empty sets.
    for (const u of ['a', 'b', noController]) expect(ix.keys('Pod', u)?.size ?? 1).toBeGreaterThan(0);
  });
});
