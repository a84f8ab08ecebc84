/**
 * The informers' lists over a real (in-memory SQLite) store: `list(kind, namespace)` holds exactly what the store
 * lists under that namespace, through creates, updates and deletes as the cache applies them, and `waitForRevision`
 * resolves only once the cache holds the write it waits for.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Informers } from '../../master/informer.js';
import { openSqliteStore, type SqliteStore } from '../../master/store/sqlite.js';
import { silentLogger, type KObject } from '../../protocol/index.js';

const cm = (namespace: string, name: string, v = '1'): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { v } }) as KObject;
const key = (ns: string, name: string) => `/registry/configmaps/${ns}/${name}`;
const names = (os: KObject[]) => os.map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();

let store: SqliteStore | undefined;
let informers: Informers | undefined;
afterEach(async () => {
  informers?.stop();
  await store?.close();
});

async function storeOrder(prefix: string): Promise<string[]> {
  return names((await store!.list<KObject>(prefix)).entries.map((e) => e.value));
}

describe('informer lists', () => {
  it('lists one namespace as the store does through creates, updates and deletes', async () => {
    store = await openSqliteStore(':memory:');
    for (const [ns, n] of [['b', 'x'], ['a', 'z'], ['a-b', 'y'], ['a', 'm']]) await store.create(key(ns!, n!), cm(ns!, n!));
    informers = new Informers(store, silentLogger);
    await informers.start();
    expect(names(informers.list('ConfigMap'))).toEqual(await storeOrder('/registry/configmaps/'));
    expect(names(informers.list('ConfigMap', 'a'))).toEqual(['a/m', 'a/z']);

    await store.create(key('a', 'c'), cm('a', 'c'));
    await store.update(key('a', 'z'), cm('a', 'z', '2'));
    await store.delete(key('b', 'x'));
    const revision = (await store.create(key('c', 'q'), cm('c', 'q'))).modRevision;
    await informers.waitForRevision(revision);
    expect(informers.revision).toBeGreaterThanOrEqual(revision);
    expect(names(informers.list('ConfigMap'))).toEqual(await storeOrder('/registry/configmaps/'));
    expect(names(informers.list('ConfigMap', 'a'))).toEqual(await storeOrder('/registry/configmaps/a/'));
    expect(informers.list('ConfigMap', 'a').find((o) => o.metadata.name === 'z')!.data).toEqual({ v: '2' });
    expect(names(informers.list('ConfigMap', 'a'))).toEqual(['a/c', 'a/m', 'a/z']);
    expect(informers.list('ConfigMap', 'b')).toEqual([]);
    expect(informers.list('ConfigMap').length).toBe(5);
  });

  it('waitForRevision resolves once the cache has the write, not before', async () => {
    store = await openSqliteStore(':memory:');
    informers = new Informers(store, silentLogger);
    await informers.start();
    const writes = await Promise.all(Array.from({ length: 50 }, (_, i) => store!.create(key('a', `p${i}`), cm('a', `p${i}`))));
    const seenAt = await Promise.all(
      writes.map((e) =>
        informers!.waitForRevision(e.modRevision).then(() => ({ want: e.modRevision, at: informers!.revision, has: !!informers!.get('ConfigMap', 'a', e.value.metadata.name) })),
      ),
    );
    for (const s of seenAt) {
      expect(s.at).toBeGreaterThanOrEqual(s.want);
      expect(s.has).toBe(true);
    }
  });
});
