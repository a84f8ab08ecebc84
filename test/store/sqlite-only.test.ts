/** SQLite-only behaviour: durability settings, auto-compaction, schema guard, and surviving kill -9. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../master/store/sqlite.js';
import type { WatchEvent } from '../../master/store/types.js';
import { expectCode, runAndKill, watchInto } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-store-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `t${++n}`, 'store.db');

describe('SQLite store', () => {
  it('runs a file store in WAL mode with synchronous=NORMAL (it fsyncs the WAL itself) and no checkpoint on its connection', async () => {
    const s = await openSqliteStore(freshPath());
    expect(s.settings()).toMatchObject({ journalMode: 'wal', synchronous: 1, walAutocheckpoint: 0, retainRevisions: 10_000 });
    await s.close();
  });

  it('auto-compacts: keeps about retainRevisions of history, and watches from before it fail', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path, { retainRevisions: 100 });
    for (let i = 0; i < 250; i++) await s.update('/k', i).catch(() => s.create('/k', i));
    const rev = await s.revision();
    expect(rev).toBe(250);
    const rows = new Database(path, { readonly: true });
    const count = rows.prepare('SELECT count(*) FROM changes').pluck().get() as number;
    rows.close();
    // Compaction runs in steps of retain/10, so between 100 and 110 changes are kept.
    expect(count).toBeGreaterThanOrEqual(100);
    expect(count).toBeLessThanOrEqual(110);
    expect(() => s.watch('/', rev - 111, () => {})).toThrowError(/compacted/);
    const w = watchInto(s, '/', rev - 100);
    expect((await w.until(100)).map((e) => e.value)).toEqual(Array.from({ length: 100 }, (_, i) => 150 + i));
    w.watch.close();
    await s.close();
  });

  it('passes what a watcher throws to onWatchError, with the event', async () => {
    const seen: [unknown, WatchEvent][] = [];
    const s = await openSqliteStore(':memory:', { onWatchError: (err, e) => seen.push([err, e]) });
    s.watch('/', undefined, () => {
      throw new Error('boom');
    });
    const w = watchInto(s, '/', undefined);
    await s.create('/k', 1);
    await w.until(1);
    expect(seen).toHaveLength(1);
    expect(seen[0]![0]).toMatchObject({ message: 'boom' });
    expect(seen[0]![1]).toMatchObject({ key: '/k', revision: 1 });
    await s.close();
  });

  it('refuses bad options and a file written by a newer schema', async () => {
    await expectCode(openSqliteStore(':memory:', { retainRevisions: -1 }), 'SKIFF_ERR_BAD_REQUEST');
    const path = freshPath();
    await (await openSqliteStore(path)).close();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    await expect(openSqliteStore(path)).rejects.toMatchObject({ code: 'SKIFF_ERR_INTERNAL', message: expect.stringContaining('newer') });
  });

  it('keeps every acknowledged write when the writing process is killed with SIGKILL mid-burst', async () => {
    const path = freshPath();
    const acked = await runAndKill(path, 300);
    expect(acked.killedBy).toBe('SIGKILL');
    expect(acked.count).toBeGreaterThanOrEqual(300);
    const s = await openSqliteStore(path);
    const { entries, revision } = await s.list('/crash/');
    const present = new Set(entries.map((e) => (e.value as { i: number }).i));
    const missing = Array.from({ length: acked.count }, (_, i) => i).filter((i) => !present.has(i));
    expect(missing).toEqual([]);
    expect(revision).toBeGreaterThanOrEqual(acked.count);
    // The store still takes writes after the crash.
    expect((await s.create('/after', 1)).modRevision).toBe(revision + 1);
    await s.close();
  }, 90_000);

  it('group-commits: writes asked for in one turn share one transaction, keep their order, and fail alone', async () => {
    const s = await openSqliteStore(freshPath());
    await s.create('/taken', 0);
    const before = s.commitStats();
    const w = watchInto(s, '/', await s.revision());
    const results = await Promise.allSettled([
      s.create('/a', 1),
      s.create('/taken', 1), // refused: exists
      s.update('/taken', 2, 1), // applies: modRevision 1 is current
      s.update('/taken', 3, 1), // refused: the write before it in the batch moved modRevision
      s.create('/b', 1),
      s.create('/b', 2), // refused: the earlier create of the batch won
      s.delete('/a'),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.modRevision : (r.reason as { code: string }).code))).toEqual([
      2,
      'SKIFF_ERR_ALREADY_EXISTS',
      3,
      'SKIFF_ERR_CONFLICT',
      4,
      'SKIFF_ERR_ALREADY_EXISTS',
      2, // delete returns the last entry
    ]);
    expect(s.commitStats()).toMatchObject({ batches: before.batches + 1, writes: before.writes + 4 });
    expect((await w.until(4)).map((e) => `${e.type} ${e.key} ${e.revision}`)).toEqual(['put /a 2', 'put /taken 3', 'put /b 4', 'delete /a 5']);
    expect(await s.get('/taken')).toMatchObject({ value: 2, modRevision: 3 });
    w.watch.close();
    await s.close();
  });

  it('commits the writes still queued when it closes', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path);
    const pending = [s.create('/x', 1), s.create('/y', 2)];
    await s.close();
    expect((await Promise.all(pending)).map((e) => e.modRevision)).toEqual([1, 2]);
    const again = await openSqliteStore(path);
    expect((await again.list('/')).entries.map((e) => e.key)).toEqual(['/x', '/y']);
    await again.close();
  });

  it('keeps every acknowledged write of concurrent writers (group-committed) when killed with SIGKILL mid-burst', async () => {
    const path = freshPath();
    const crash = await runAndKill(path, 3_000, 64);
    expect(crash.killedBy).toBe('SIGKILL');
    expect(crash.count).toBeGreaterThanOrEqual(3_000);
    // Many writes shared each fsync: far fewer commits than acknowledged writes.
    expect(crash.batches).toBeLessThan(crash.count / 4);
    const s = await openSqliteStore(path);
    const { entries } = await s.list('/crash/');
    const present = new Set(entries.map((e) => (e.value as { i: number }).i));
    expect(crash.acked.filter((i) => !present.has(i))).toEqual([]);
    await s.close();
  }, 90_000);

  it('a write whose previous value is not in the value cache (reopened) reads it from disk: prevValue, a delete\'s entry', async () => {
    const path = freshPath();
    const big = (i: number) => ({ kind: 'Pod', metadata: { name: `p-${i}`, labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'nginx' }] }, status: { phase: 'Running', podIP: `10.0.0.${i}` } });
    const first = await openSqliteStore(path);
    await first.create('/p/a', big(1));
    await first.create('/p/b', big(2));
    await first.close();
    const s = await openSqliteStore(path);
    const w = watchInto(s, '/p/', undefined);
    await s.update('/p/a', big(3));
    expect((await s.delete('/p/b')).value).toEqual(big(2));
    const [put, del] = await w.until(2);
    expect(put!.prevValue).toEqual(big(1));
    expect(del!.value).toEqual(big(2));
    w.watch.close();
    await s.close();
  });
});
