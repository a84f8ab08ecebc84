/**
 * When the store watch stops by itself (etcd: its resume point was compacted while it was cut off),
 * the informer lists again, tells its handlers every add, change and delete it missed, and watches
 * on from the list's revision.
 */
import { describe, expect, it } from 'vitest';
import { Informers } from '../../master/informer.js';
import { openSqliteStore } from '../../master/store/sqlite.js';
import type { Store, Watch } from '../../master/store/types.js';
import { SkiffError, silentLogger, type KObject } from '../../protocol/index.js';
import { eventually } from '../helpers/wait.js';

const cm = (name: string, v: string): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', uid: `uid-${name}` }, data: { v } }) as KObject;
const key = (name: string) => `/registry/configmaps/default/${name}`;

describe('informer relist', () => {
  it('after a watch error: missed adds, changes and deletes reach the handlers, then live events again', async () => {
    const store = await openSqliteStore(':memory:');
    // A store whose watch can be broken from the test, as etcd breaks a compacted one.
    let inner: Watch | undefined;
    let fail: ((err: SkiffError) => void) | undefined;
    const breakable: Store = Object.assign(Object.create(store) as Store, {
      watch: (prefix: string, from: number | undefined, onEvent: never, onError?: (err: SkiffError) => void) => {
        inner = store.watch(prefix, from, onEvent);
        fail = onError;
        return inner;
      },
    });
    await store.create(key('kept'), cm('kept', '1'));
    await store.create(key('changed'), cm('changed', '1'));
    await store.create(key('gone'), cm('gone', '1'));
    const informers = new Informers(breakable, silentLogger);
    await informers.start();
    const seen: string[] = [];
    informers.on('ConfigMap', (obj, old) => seen.push(!old ? `add ${obj!.metadata.name}` : !obj ? `delete ${old.metadata.name}` : `change ${obj.metadata.name}`));
    seen.length = 0;

    // Cut off: the watch misses what happens now.
    inner!.close();
    await store.update(key('changed'), cm('changed', '2'));
    await store.delete(key('gone'));
    await store.create(key('new'), cm('new', '1'));
    fail!(new SkiffError('SKIFF_ERR_CONFLICT', 'store: watch from revision 3: history up to revision 5 was compacted'));

    await eventually(() => seen.length === 3, 'the relist to reach the handlers');
    expect(seen.sort()).toEqual(['add new', 'change changed', 'delete gone']);
    expect(informers.get('ConfigMap', 'default', 'changed')!.data).toEqual({ v: '2' });
    expect(informers.hasUid('uid-gone')).toBe(false);
    expect(informers.revision).toBe(await store.revision());

    await store.create(key('live'), cm('live', '1'));
    await eventually(() => seen.includes('add live'), 'a live event after the relist');
    informers.stop();
    await store.close();
  });
});
