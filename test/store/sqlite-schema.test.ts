/**
 * The SQLite file layout (schema 3): each value written once, upgrades of real schema-1 and schema-2 files
 * in place, and compaction that keeps every change a current key or a kept watch event needs.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { changeId, prepareStatements } from '../../master/store/schema.js';
import { openSqliteStore, type SqliteStore } from '../../master/store/sqlite.js';
import { decodeValue, encodeValue } from '../../master/store/sqlite-codec.js';
import { forgetThrough, legacyChanges } from '../../master/store/sqlite-write.js';
import type { WatchEvent } from '../../master/store/types.js';
import { watchInto } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-store-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `t${++n}`, 'store.db');

/** Writes a file with raw SQL, as an older Skiff left it. */
function writeFile(path: string, sql: string, version: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.exec(sql);
  db.pragma(`user_version = ${version}`);
  db.close();
}

/** A copy of a closed store file, beside it. */
function copyFile(path: string): string {
  const copy = `${path}.copy`;
  copyFileSync(path, copy);
  return copy;
}

function readRaw<T>(path: string, read: (db: Database.Database) => T): T {
  const db = new Database(path, { readonly: true });
  try {
    return read(db);
  } finally {
    db.close();
  }
}

const brief = (e: WatchEvent) => [e.revision, e.type, e.key, e.value, e.prevValue];

// Schema 1 as Skiff wrote it: one change per revision, every value in kv too, the previous value copied.
// History ≤ 2 was compacted: /old's value is only in kv.
const schema1 = `
  CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (name, value) VALUES ('revision', 5), ('compacted', 2);
  CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO kv VALUES ('/old', '"o"', 1, 2), ('/a', '{"v":2}', 3, 4);
  CREATE TABLE changes (revision INTEGER PRIMARY KEY, key TEXT NOT NULL, type TEXT NOT NULL CHECK (type IN ('put', 'delete')), value TEXT, prev_value TEXT);
  INSERT INTO changes VALUES (3, '/a', 'put', '{"v":1}', NULL), (4, '/a', 'put', '{"v":2}', '{"v":1}'), (5, '/gone', 'delete', NULL, '"g"');`;

// Schema 2 as Skiff wrote it: a transaction's changes share a revision (seq), values copied as in schema 1.
// History ≤ 3 was compacted (/old and /b only in kv; /b's revision 3 was a transaction with /x); revision 5
// is a transaction of two ops; /a was deleted at 6.
const schema2 = `
  CREATE TABLE meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO meta (name, value) VALUES ('revision', 6), ('compacted', 3);
  CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL) WITHOUT ROWID;
  INSERT INTO kv VALUES ('/old', '"o"', 1, 1), ('/b', '"b3"', 2, 3), ('/x', '"x5"', 3, 5), ('/y', '"y4"', 4, 4);
  CREATE TABLE changes (revision INTEGER NOT NULL, seq INTEGER NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL CHECK (type IN ('put', 'delete')),
    value TEXT, prev_value TEXT, PRIMARY KEY (revision, seq)) WITHOUT ROWID;
  INSERT INTO changes VALUES (4, 0, '/y', 'put', '"y4"', NULL), (4, 1, '/a', 'put', '"a4"', NULL),
    (5, 0, '/a', 'put', '"a5"', '"a4"'), (5, 1, '/x', 'put', '"x5"', '"x3"'), (6, 0, '/a', 'delete', NULL, '"a5"');`;

describe('SQLite store value codec', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-7d9f-x2k4q', namespace: 'shop', labels: { app: 'web' }, uid: '1898318d-329c-40ae-a7cc-d8a9076a4d63', creationTimestamp: '2026-12-01T23:31:30.802Z' },
    spec: { containers: [{ name: 'web', image: 'registry.local/web:1.4', resources: { requests: { cpu: '250m', memory: '128Mi' } } }], nodeName: 'pi-3' },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-12-01T23:31:31.040Z' }], hostIP: '10.0.0.3' },
  };

  it.each([
    ['a pod', JSON.stringify(pod)],
    ['unicode', JSON.stringify({ note: 'ünïcödé ✓ 𝄞'.repeat(20) })],
    ['a short value', '"short"'],
    ['many distinct numbers', JSON.stringify(Array.from({ length: 200 }, (_, i) => ((i * 2654435761) % 4294967296).toString(36)))],
  ])('gives back %s exactly', (_, text) => {
    expect(decodeValue(encodeValue(text))).toBe(text);
  });

  it('keeps a pod in well under half its text, short values as text, and refuses an unknown encoding', () => {
    const text = JSON.stringify(pod);
    const stored = encodeValue(text);
    expect(Buffer.isBuffer(stored)).toBe(true);
    expect(stored.length).toBeLessThan(text.length * 0.45);
    expect(encodeValue('"short"')).toBe('"short"');
    expect(() => decodeValue(Buffer.from([9, 1, 2]))).toThrowError(/unknown encoding/);
  });
});

describe('SQLite store schema 3', () => {
  it('writes each value once: a change names the one it replaced instead of copying it, and kv holds no value', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path);
    await s.create('/k', 'x'.repeat(1000));
    await s.update('/k', 'y'.repeat(1000));
    await s.txn([{ op: 'update', key: '/k', value: 'z'.repeat(1000) }, { op: 'create', key: '/j', value: 'j'.repeat(1000) }]);
    const w = watchInto(s, '/', 0);
    expect((await w.until(4)).map((e) => [e.revision, e.key, String(e.value)[0], e.prevValue && String(e.prevValue)[0]])).toEqual([
      [1, '/k', 'x', undefined],
      [2, '/k', 'y', 'x'],
      [3, '/k', 'z', 'y'],
      [3, '/j', 'j', undefined],
    ]);
    w.watch.close();
    await s.close();
    readRaw(path, (db) => {
      // Each of the four values is in the file once, in its change.
      const stored = (db.prepare('SELECT value, prev_value FROM changes').raw().all() as (string | Buffer | null)[][]).flat().map(decodeValue);
      expect(stored.filter((v) => v !== null).sort()).toEqual(['j', 'x', 'y', 'z'].map((c) => JSON.stringify(c.repeat(1000))));
      expect(db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('kv')).toEqual(['key', 'create_revision', 'change']);
      // /j's value is the change at revision 3, seq 1; /k's at 3, seq 0 names the one at 2 it replaced.
      expect(db.prepare('SELECT change FROM kv WHERE key = ?').pluck().get('/j')).toBe(changeId(3, 1));
      expect(db.prepare('SELECT prev FROM changes WHERE id = ?').pluck().get(changeId(3, 0))).toBe(changeId(2, 0));
      expect(db.pragma('user_version', { simple: true })).toBe(3);
      expect(db.pragma('page_size', { simple: true })).toBe(1024);
    });
  });

  it('upgrades a schema-1 file in place: keys, revisions, history with prevValue; writes go on', async () => {
    const path = freshPath();
    writeFile(path, schema1, 1);
    const s = await openSqliteStore(path);
    expect(await s.get('/old')).toEqual({ key: '/old', value: 'o', createRevision: 1, modRevision: 2 });
    expect((await s.list('/')).entries.map((e) => [e.key, e.value, e.modRevision])).toEqual([['/a', { v: 2 }, 4], ['/old', 'o', 2]]);
    const w = watchInto(s, '/', 2);
    await s.txn([{ op: 'update', key: '/a', value: { v: 3 }, expectedModRevision: 4 }, { op: 'delete', key: '/old', expectedModRevision: 2 }]);
    expect((await w.until(5)).map(brief)).toEqual([
      [3, 'put', '/a', { v: 1 }, undefined],
      [4, 'put', '/a', { v: 2 }, { v: 1 }],
      [5, 'delete', '/gone', 'g', 'g'],
      [6, 'put', '/a', { v: 3 }, { v: 2 }],
      [6, 'delete', '/old', 'o', 'o'],
    ]);
    w.watch.close();
    await s.close();
    expect(readRaw(path, (db) => db.pragma('user_version', { simple: true }))).toBe(3);
  });

  it('upgrades a schema-2 file in place: shared revisions, compacted keys and deletes read as before', async () => {
    const path = freshPath();
    writeFile(path, schema2, 2);
    const s = await openSqliteStore(path);
    expect((await s.list('/')).entries.map((e) => [e.key, e.value, e.createRevision, e.modRevision])).toEqual([
      ['/b', 'b3', 2, 3],
      ['/old', 'o', 1, 1],
      ['/x', 'x5', 3, 5],
      ['/y', 'y4', 4, 4],
    ]);
    expect(() => s.watch('/', 2, () => {})).toThrowError(/compacted/);
    const w = watchInto(s, '/', 3);
    // Overwrites of a key whose value only kv held (/b), of an upgraded change (/x), and a re-create (/a).
    await s.update('/b', 'b7', 3);
    await s.update('/x', 'x8', 5);
    await s.create('/a', 'a9');
    expect((await w.until(8)).map(brief)).toEqual([
      [4, 'put', '/y', 'y4', undefined],
      [4, 'put', '/a', 'a4', undefined],
      [5, 'put', '/a', 'a5', 'a4'],
      [5, 'put', '/x', 'x5', 'x3'],
      [6, 'delete', '/a', 'a5', 'a5'],
      [7, 'put', '/b', 'b7', 'b3'],
      [8, 'put', '/x', 'x8', 'x5'],
      [9, 'put', '/a', 'a9', undefined],
    ]);
    w.watch.close();
    expect(await s.revision()).toBe(9);
    await s.close();
    readRaw(path, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(3);
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all()).toEqual(['changes', 'kv', 'meta']);
    });
  });

  it('upgrades in one transaction: an upgrade that fails leaves the schema-2 file as it was', async () => {
    const path = freshPath();
    writeFile(path, `${schema2}\nCREATE TABLE kv_v2 (x);`, 2); // the upgrade's first rename then fails
    await expect(openSqliteStore(path)).rejects.toThrow(/kv_v2/);
    readRaw(path, (db) => {
      expect(db.pragma('user_version', { simple: true })).toBe(2);
      expect(db.prepare('SELECT count(*) FROM changes WHERE type IS NOT NULL').pluck().get()).toBe(5);
      expect(db.prepare('SELECT value FROM kv WHERE key = ?').pluck().get('/b')).toBe('"b3"');
    });
  });

  it('compacts as etcd does: keeps the changes current keys and kept events need, drops the rest', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path, { retainRevisions: Infinity });
    await s.create('/a', 'a1'); // 1: /a's current value from here on
    await s.create('/b', 'b2'); // 2: the prevValue of /b's event at 7
    await s.create('/c', 'c3'); // 3, 4: a key created and deleted, all before the mark
    await s.delete('/c');
    await s.create('/d', 'd5'); // 5, 6: only 6 is still needed
    await s.update('/d', 'd6');
    await s.txn([{ op: 'update', key: '/b', value: 'b7' }, { op: 'create', key: '/e', value: 'e7' }]); // 7
    await s.compact(6);
    expect(unneededChanges(path)).toEqual([]);
    const rows = () => readRaw(path, (db) => db.prepare('SELECT id >> 16, id & 65535, key FROM changes ORDER BY id').raw().all());
    expect(rows()).toEqual([[1, 0, '/a'], [2, 0, '/b'], [6, 0, '/d'], [7, 0, '/b'], [7, 1, '/e']]);
    expect((await s.list('/')).entries.map((e) => [e.key, e.value])).toEqual([['/a', 'a1'], ['/b', 'b7'], ['/d', 'd6'], ['/e', 'e7']]);
    const w = watchInto(s, '/', 6);
    expect((await w.until(2)).map(brief)).toEqual([
      [7, 'put', '/b', 'b7', 'b2'],
      [7, 'put', '/e', 'e7', undefined],
    ]);
    w.watch.close();
    // Once the event at 7 is compacted too, /b's value at 2 is no longer needed by anything.
    await s.delete('/a'); // 8
    await s.compact(8);
    expect(unneededChanges(path)).toEqual([]);
    expect(rows()).toEqual([[6, 0, '/d'], [7, 0, '/b'], [7, 1, '/e']]);
    expect(await s.get('/a')).toBeUndefined();
    expect(await snapshotPairs(s)).toEqual([['/b', 'b7'], ['/d', 'd6'], ['/e', 'e7']]);
    await s.close();
  });

  it('auto-compaction keeps a rarely written key readable, with its prevValue when it is next written, and nothing else', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path, { retainRevisions: 10 });
    await s.create('/still', 's1');
    for (let i = 0; i < 50; i++) await s.create(`/churn/${i}`, i);
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 7 === round ? s.delete(`/churn/${i}`) : s.update(`/churn/${i}`, round))));
      await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 7 === round ? s.create(`/churn/${i}`, round) : Promise.resolve())));
      expect(unneededChanges(path)).toEqual([]);
    }
    const from = await s.revision();
    const w = watchInto(s, '/still', from);
    await s.update('/still', 's2', 1);
    expect((await w.until(1)).map(brief)).toEqual([[from + 1, 'put', '/still', 's2', 's1']]);
    w.watch.close();
    expect((await s.list('/churn/')).entries.map((e) => e.value)).toEqual(Array.from({ length: 50 }, () => 4));
    expect(unneededChanges(path)).toEqual([]);
    await s.close();
  });

  it("compacts a step without reading the kept history, dropping exactly what the full query drops (random history, every step)", async () => {
    const path = freshPath();
    const s = await openSqliteStore(path, { retainRevisions: Infinity });
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const live = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const key = `/k/${rnd(40)}`;
      const other = `/k/${rnd(40)}`;
      if (rnd(9) === 0 && other !== key) {
        const op = (k: string) => (live.has(k) ? { op: 'update' as const, key: k, value: i } : { op: 'create' as const, key: k, value: i });
        await s.txn([op(key), op(other)]);
        live.add(key).add(other);
      } else if (!live.has(key)) await s.create(key, i).then(() => live.add(key));
      else if (rnd(4) === 0) await s.delete(key).then(() => live.delete(key));
      else await s.update(key, i);
    }
    await s.close();
    const full = new Database(path);
    const step = new Database(copyFile(path));
    const [a, b] = [prepareStatements(full), prepareStatements(step)];
    expect(legacyChanges(a)).toBe(0);
    const ids = (db: Database.Database) => db.prepare('SELECT id FROM changes ORDER BY id').pluck().all();
    for (let r = 17; r <= 600; r += 23) {
      full.transaction(() => forgetThrough(a, r, Infinity))(); // every step takes the full query
      step.transaction(() => forgetThrough(b, r, 0))();
      expect(ids(step)).toEqual(ids(full));
    }
    expect(ids(full).length).toBeLessThan(100);
    full.close();
    step.close();
    expect(unneededChanges(path)).toEqual([]);
  });

  it('compacts a file carried over from schema 2 with the full query up to its last carried-over change', async () => {
    const path = freshPath();
    writeFile(path, schema2, 2);
    const s = await openSqliteStore(path, { retainRevisions: Infinity });
    await s.update('/x', 'x7', 5); // names the carried-over change at 5
    await s.create('/z', 'z8');
    await s.compact(8);
    // The carried-over changes at 4 and 5 of /a (replaced by carried-over changes that name nothing) are gone too.
    expect(unneededChanges(path)).toEqual([]);
    expect(readRaw(path, (db) => db.prepare('SELECT id >> 16, id & 65535, key FROM changes ORDER BY id').raw().all())).toEqual([
      [1, 0, '/old'],
      [3, 0, '/b'],
      [4, 0, '/y'],
      [7, 0, '/x'],
      [8, 0, '/z'],
    ]);
    expect((await s.list('/')).entries.map((e) => [e.key, e.value])).toEqual([
      ['/b', 'b3'],
      ['/old', 'o'],
      ['/x', 'x7'],
      ['/y', 'y4'],
      ['/z', 'z8'],
    ]);
    await s.close();
  });

  it('restores keys that share a revision (as from etcd); each gives its value as prevValue when overwritten', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path);
    await s.restore({ revision: 7, entries: [{ key: '/a', text: '1', createRevision: 7, modRevision: 7 }, { key: '/b', text: '2', createRevision: 3, modRevision: 7 }] });
    expect(await s.get('/b')).toEqual({ key: '/b', value: 2, createRevision: 3, modRevision: 7 });
    const w = watchInto(s, '/', 7);
    await s.update('/a', 10, 7);
    await s.delete('/b', 7);
    expect((await w.until(2)).map(brief)).toEqual([
      [8, 'put', '/a', 10, 1],
      [9, 'delete', '/b', 2, 2],
    ]);
    w.watch.close();
    // A revision whose change ids would not be exact in a JS number is refused, naming the limit.
    await expect(s.restore({ revision: 2 ** 40, entries: [] }, { force: true })).rejects.toMatchObject({ code: 'SKIFF_ERR_BAD_REQUEST', message: expect.stringContaining('above') });
    expect(await s.get('/a')).toMatchObject({ value: 10 });
    await s.close();
  });
});

/**
 * Changes at or below the compaction mark that nothing needs: neither a key's current value nor the previous
 * value of a change above the mark (etcd's rule). Compaction must leave none.
 */
function unneededChanges(path: string): number[] {
  return readRaw(path, (db) => {
    const end = changeId((db.prepare("SELECT value FROM meta WHERE name = 'compacted'").pluck().get() as number) + 1, 0);
    return db
      .prepare(
        `SELECT id FROM changes c WHERE id < :end AND id NOT IN (SELECT change FROM kv)
           AND id NOT IN (SELECT prev FROM changes WHERE id >= :end AND prev IS NOT NULL)`,
      )
      .pluck()
      .all({ end }) as number[];
  });
}

async function snapshotPairs(s: SqliteStore): Promise<[string, unknown][]> {
  return (await s.snapshot()).entries.map((e) => [e.key, JSON.parse(e.text)]);
}
