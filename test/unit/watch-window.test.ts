/**
 * The informers' change window (master/watch-window.ts) and a watch from a revision on it: changes after the
 * revision, once each, in order, then live ones; GONE once the window no longer holds them; a relist of the cache
 * starts the windows again from the list's revision.
 */
import { describe, expect, it } from 'vitest';
import { Informers } from '../../master/informer.js';
import { openSqliteStore } from '../../master/store/sqlite.js';
import { ChangeWindow, type Change } from '../../master/watch-window.js';
import { silentLogger, type KObject } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';

const obj = { metadata: { name: 'x' } } as KObject;
const at = (revision: number, type: Change['type'] = 'MODIFIED'): Change => ({ type, object: obj, revision });
const revs = (cs: Change[] | undefined) => cs?.map((c) => c.revision);

describe('ChangeWindow', () => {
  const cases: { name: string; capacity: number; floor: number; add: number[]; since: number; want: number[] | undefined }[] = [
    { name: 'empty, from the floor', capacity: 4, floor: 10, add: [], since: 10, want: [] },
    { name: 'from the floor: everything', capacity: 4, floor: 10, add: [11, 12, 13], since: 10, want: [11, 12, 13] },
    { name: 'from the middle', capacity: 4, floor: 10, add: [11, 12, 13], since: 12, want: [13] },
    { name: 'from the newest: nothing yet', capacity: 4, floor: 10, add: [11, 12, 13], since: 13, want: [] },
    { name: 'below the floor: gone', capacity: 4, floor: 10, add: [11], since: 9, want: undefined },
    { name: 'a transaction shares a revision: all of it after the one before', capacity: 8, floor: 10, add: [11, 12, 12, 12, 13], since: 11, want: [12, 12, 12, 13] },
    { name: 'past capacity the floor rises to the oldest dropped', capacity: 3, floor: 10, add: [11, 12, 13, 14, 15], since: 12, want: [13, 14, 15] },
    { name: 'past capacity, from before what is kept: gone', capacity: 3, floor: 10, add: [11, 12, 13, 14, 15], since: 11, want: undefined },
    { name: 'a dropped change that shared its revision: the rest of it is not enough', capacity: 2, floor: 10, add: [11, 11, 12], since: 10, want: undefined },
    { name: 'many more than capacity (compaction)', capacity: 5, floor: 0, add: Array.from({ length: 5000 }, (_, i) => i + 1), since: 4995, want: [4996, 4997, 4998, 4999, 5000] },
  ];
  for (const c of cases)
    it(c.name, () => {
      const w = new ChangeWindow(c.capacity, c.floor);
      for (const r of c.add) w.add(at(r));
      expect(revs(w.since(c.since))).toEqual(c.want);
    });

  it('reset forgets the changes and starts from the given revision', () => {
    const w = new ChangeWindow(4, 0);
    for (const r of [1, 2, 3]) w.add(at(r));
    w.reset(7);
    expect(w.since(3)).toBeUndefined();
    expect(w.since(7)).toEqual([]);
  });
});

const cm = (name: string, v: string): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid: `uid-${name}` }, data: { v } }) as KObject;
const key = (name: string) => `/registry/configmaps/default/${name}`;

describe('Informers.watchKind', () => {
  it('replays what came after the revision, then streams; deleted objects carry the deletion revision; gone past the window', async () => {
    const store = await openSqliteStore(':memory:');
    await store.create(key('before'), cm('before', '1'));
    const informers = new Informers(store, silentLogger, 3);
    await informers.start();
    const listedAt = informers.revision;
    await store.create(key('a'), cm('a', '1'));
    await store.update(key('before'), cm('before', '2'));
    const del = await store.delete(key('a'));
    await eventually(() => informers.revision === del.modRevision || informers.revision >= listedAt + 3, 'the cache to catch up');
    const seen: string[] = [];
    const off = informers.watchKind('ConfigMap', listedAt, (c) => seen.push(`${c.type} ${c.object.metadata.name} ${c.object.metadata.resourceVersion}`));
    const [r1, r2, r3] = [listedAt + 1, listedAt + 2, listedAt + 3];
    expect(seen).toEqual([`ADDED a ${r1}`, `MODIFIED before ${r2}`, `DELETED a ${r3}`]);
    await store.create(key('live'), cm('live', '1'));
    await eventually(() => seen.length === 4, 'a live change');
    expect(seen[3]).toBe(`ADDED live ${r3 + 1}`);
    off();
    await store.create(key('after-off'), cm('after-off', '1'));
    await eventually(() => informers.get('ConfigMap', 'default', 'after-off') !== undefined, 'the cache to see it');
    expect(seen).toHaveLength(4);
    // Capacity 3: four changes since listedAt, so the oldest is gone.
    expect(() => informers.watchKind('ConfigMap', listedAt, () => undefined)).toThrow(/resourceVersion \d+ is too old/);
    // Another kind has its own window, which starts at the list.
    expect(() => informers.watchKind('Secret', listedAt, () => undefined)()).not.toThrow();
    informers.stop();
    await store.close();
  });
});
