/**
 * etcd-only behaviour against real etcd servers: roots that share an etcd stay apart, a watch
 * resumes without gap or repeat after etcd restarts, a watch whose resume point was compacted while
 * it was cut off reports CONFLICT "compacted" through onError, automatic compaction, the root record
 * guard, and a clear error when etcd cannot be reached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openEtcdStore, type EtcdStore, type EtcdStoreOptions } from '../../master/store/etcd.js';
import { parseStoreUrl, type EtcdLocation } from '../../master/store/location.js';
import type { SkiffError } from '../../protocol/errors.js';
import { haveEtcd, startEtcd, startEtcdCluster, type EtcdCluster } from '../helpers/etcd.js';
import { freePort } from '../helpers/procs.js';
import { eventually } from '../helpers/wait.js';
import { runAndKill, watchInto } from './helpers.js';

const quiet: EtcdStoreOptions = { onWatchError: () => {} };
const at = (url: string, options: EtcdStoreOptions = quiet) => openEtcdStore(parseStoreUrl(url) as EtcdLocation, options);

describe.skipIf(!haveEtcd)('etcd store, one member', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startEtcd();
  });
  afterAll(() => etcd?.stop());

  it('keeps roots that share an etcd apart, even when one name starts with the other', async () => {
    const a = await at(etcd.storeUrl('/shared'));
    const b = await at(etcd.storeUrl('/shared2'));
    const w = watchInto(a, '/', await a.revision());
    await b.create('/k', 'b');
    await a.create('/k', 'a');
    expect((await w.until(1)).map((e) => e.value)).toEqual(['a']);
    expect((await a.list('')).entries.map((e) => e.value)).toEqual(['a']);
    expect((await b.list('')).entries.map((e) => e.value)).toEqual(['b']);
    w.watch.close();
    await Promise.all([a.close(), b.close()]);
  });

  it('a watch resumes after etcd is killed and restarted: every change once, in order', async () => {
    const s = await at(etcd.storeUrl('/restart'));
    const w = watchInto(s, '/', await s.revision());
    for (let i = 0; i < 5; i++) await s.create(`/k${i}`, i);
    await w.until(5);
    await etcd.members[0]!.kill();
    await etcd.members[0]!.restart();
    // Unary calls may fail until the client's circuit breaker closes again.
    await eventually(() => s.create('/k5', 5).then(() => true, () => false), 'a write after the restart', 20_000, 200);
    for (let i = 6; i < 10; i++) await s.create(`/k${i}`, i);
    const events = await w.until(10, 20_000);
    expect(events.map((e) => e.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(w.events).toHaveLength(10);
    w.watch.close();
    await s.close();
  }, 60_000);

  it('keeps every acknowledged write when the writing process is killed with SIGKILL mid-burst', async () => {
    const url = etcd.storeUrl('/crash');
    const acked = await runAndKill(url, 300);
    expect(acked.killedBy).toBe('SIGKILL');
    expect(acked.count).toBeGreaterThanOrEqual(300);
    const s = await at(url);
    const { entries, revision } = await s.list('/crash/');
    const present = new Set(entries.map((e) => (e.value as { i: number }).i));
    expect(Array.from({ length: acked.count }, (_, i) => i).filter((i) => !present.has(i))).toEqual([]);
    expect((await s.create('/after', 1)).modRevision).toBe(revision + 1);
    await s.close();
  }, 30_000);

  it('compacts on its own, keeping retainRevisions of history', async () => {
    const s = await at(etcd.storeUrl('/auto'), { ...quiet, retainRevisions: 10, compactIntervalMs: 50 });
    const base = await s.revision();
    for (let i = 0; i < 30; i++) await s.create(`/k${i}`, i);
    await eventually(() => {
      try {
        s.watch('/', base, () => {}).close();
        return false;
      } catch (err) {
        return /compacted/.test((err as Error).message);
      }
    }, 'the automatic compaction');
    const w = watchInto(s, '/', base + 20);
    expect((await w.until(10)).map((e) => e.value)).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
    w.watch.close();
    await s.close();
  });

  it('refuses a root whose key holds something else, or a newer format', async () => {
    const s = await at(etcd.storeUrl('/guard'));
    await s.etcd.put('/foreign').value('hello');
    await s.etcd.put('/future').value(JSON.stringify({ format: 'skiff-etcd-store', version: 9, revisionOffset: 0, restoredRevision: 0 }));
    await s.close();
    await expect(at(etcd.storeUrl('/foreign'))).rejects.toThrowError(/etcd key \/foreign is not a Skiff root record; pick another root/);
    await expect(at(etcd.storeUrl('/future'))).rejects.toThrowError(/format version 9 is newer/);
  });

  it('reports an etcd that cannot be reached as SKIFF_ERR_UNAVAILABLE naming it', async () => {
    const port = await freePort();
    await expect(openEtcdStore(parseStoreUrl(`etcd://127.0.0.1:${port}/x`) as EtcdLocation, { dialTimeoutMs: 500, requestTimeoutMs: 1000 })).rejects.toMatchObject({
      code: 'SKIFF_ERR_UNAVAILABLE',
      message: expect.stringContaining(`etcd://127.0.0.1:${port}/x`),
    });
  });
});

describe.skipIf(!haveEtcd)('etcd store, three members', () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster(3);
  });
  afterAll(() => cluster?.stop());

  it('a watch cut off while its history is compacted reports CONFLICT "compacted" through onError, once', async () => {
    // The watcher talks to member 0 only; the writer to member 1.
    const [h0, h1] = cluster.hosts;
    const watcher: EtcdStore = await at(`etcd://${h0}/cut`);
    const writer: EtcdStore = await at(`etcd://${h1}/cut`);
    const errors: SkiffError[] = [];
    const w = watcher.watch('/', await watcher.revision(), () => {}, (err) => errors.push(err));
    await writer.create('/a', 1);
    await cluster.members[0]!.kill();
    for (let i = 0; i < 5; i++) await writer.create(`/b${i}`, i);
    await writer.compact(await writer.revision());
    await cluster.members[0]!.restart();
    await eventually(() => errors.length > 0, 'the watch to report its compacted resume point', 30_000, 100);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'SKIFF_ERR_CONFLICT', message: expect.stringContaining('compacted') });
    w.close();
    await Promise.all([watcher.close(), writer.close()]);
  }, 60_000);

  it('serves from any member: a write through one is read and watched through another', async () => {
    const stores = await Promise.all(cluster.hosts.map((h) => at(`etcd://${h}/many`)));
    const w = watchInto(stores[2]!, '/', await stores[2]!.revision());
    const e = await stores[0]!.create('/x', 'from member 0');
    expect(await stores[1]!.get('/x')).toEqual(e);
    expect((await w.until(1))[0]).toMatchObject({ key: '/x', revision: e.modRevision });
    w.watch.close();
    await Promise.all(stores.map((s) => s.close()));
  });
});
