/** SQLite-only behaviour: durability settings, auto-compaction, schema guard, and surviving kill -9. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
  it('runs a file store in WAL mode with synchronous=FULL', async () => {
    const s = await openSqliteStore(freshPath());
    expect(s.settings()).toMatchObject({ journalMode: 'wal', synchronous: 2, retainRevisions: 10_000 });
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

  it('opens a file of schema 1 (one change per revision): keys, revisions and history kept, transactions work', async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.exec(`
      CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO meta (name, value) VALUES ('revision', 2), ('compacted', 0);
      CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO kv VALUES ('/a', '2', 1, 2);
      CREATE TABLE changes (revision INTEGER PRIMARY KEY, key TEXT NOT NULL, type TEXT NOT NULL CHECK (type IN ('put', 'delete')), value TEXT, prev_value TEXT);
      INSERT INTO changes VALUES (1, '/a', 'put', '1', NULL), (2, '/a', 'put', '2', '1');
    `);
    db.pragma('user_version = 1');
    db.close();
    const s = await openSqliteStore(path);
    expect(await s.get('/a')).toEqual({ key: '/a', value: 2, createRevision: 1, modRevision: 2 });
    const w = watchInto(s, '/', 0);
    await s.txn([{ op: 'create', key: '/b', value: 1 }, { op: 'update', key: '/a', value: 3, expectedModRevision: 2 }]);
    expect((await w.until(4)).map((e) => [e.key, e.value, e.revision])).toEqual([['/a', 1, 1], ['/a', 2, 2], ['/b', 1, 3], ['/a', 3, 3]]);
    w.watch.close();
    await s.close();
    const after = new Database(path, { readonly: true });
    expect(after.pragma('user_version', { simple: true })).toBe(2);
    after.close();
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
});
