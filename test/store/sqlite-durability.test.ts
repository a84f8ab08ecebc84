/**
 * The SQLite store's durability off the event loop: a write is acknowledged, and watchers told of it, only
 * after an fsync of the WAL that started after its COMMIT completed (a seam holds or fails that fsync); a
 * failed fsync refuses everything from then on; checkpoints run in the worker and keep the WAL bounded
 * through a long burst; close leaves everything in the database file.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { walLimitBytes } from '../../master/store/checkpointer.js';
import { type SqliteStore, openSqliteStore } from '../../master/store/sqlite.js';
import { eventually } from '../helpers/wait.js';
import { watchInto } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-store-durable-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = () => join(dir, `t${++n}`, 'store.db');

/** An fsync seam: each call waits until the test releases (or fails) it. */
function heldFsync() {
  const calls: { fd: number; release: () => void; fail: (err: Error) => void }[] = [];
  const fsync = (fd: number) => new Promise<void>((release, fail) => calls.push({ fd, release, fail }));
  return { calls, fsync };
}

/** Lets the event loop run a few turns (immediates and I/O). */
async function turns(k = 5): Promise<void> {
  for (let i = 0; i < k; i++) await new Promise((r) => setImmediate(r));
}

/** Tracks whether a promise settled, and how. */
function track<T>(p: Promise<T>) {
  const t: { settled: boolean; value?: T; err?: unknown } = { settled: false };
  p.then(
    (value) => Object.assign(t, { settled: true, value }),
    (err) => Object.assign(t, { settled: true, err }),
  );
  return t;
}

describe('SQLite store durability', () => {
  it('acknowledges a write, shows it to reads and tells watchers only after an fsync that started after its commit', async () => {
    const seam = heldFsync();
    const s = await openSqliteStore(freshPath(), { fsync: seam.fsync });
    const w = watchInto(s, '/', 0);
    const a = track(s.create('/a', 1));
    await eventually(() => seam.calls.length === 1, 'the first fsync starts');
    expect(seam.calls[0]!.fd).toBeGreaterThan(2); // the WAL's descriptor
    // Committed, not yet durable: no answer, no read, no event, while the fsync is held.
    const read = track(s.get('/a'));
    await turns(20);
    expect(a.settled).toBe(false);
    expect(read.settled).toBe(false);
    expect(w.events).toEqual([]);
    const rev = track(s.revision()); // the revision once what was asked for is on disk
    await turns(10);
    expect(rev.settled).toBe(false);
    // A write committed while that fsync runs waits for the next one: at most one in flight.
    const b = track(s.create('/b', 2));
    await turns(20);
    expect(seam.calls).toHaveLength(1);
    seam.calls[0]!.release();
    await eventually(() => a.settled && read.settled, 'the first write is answered');
    expect(a.value).toMatchObject({ modRevision: 1 });
    await eventually(() => rev.settled, 'revision() answers');
    expect(rev.value).toBe(1);
    expect(read.value).toMatchObject({ value: 1 });
    expect((await w.until(1)).map((e) => e.key)).toEqual(['/a']);
    await eventually(() => seam.calls.length === 2, 'a second fsync covers the second write');
    await turns(20);
    expect(b.settled).toBe(false);
    expect(w.events.map((e) => e.key)).toEqual(['/a']);
    seam.calls[1]!.release();
    await eventually(() => b.settled, 'the second write is answered');
    expect((await w.until(2)).map((e) => e.key)).toEqual(['/a', '/b']);
    // A watch started meanwhile from revision 0 replays only what is durable, then the rest live, once each.
    const c = track(s.create('/c', 3));
    await eventually(() => seam.calls.length === 3, 'a third fsync');
    const late = watchInto(s, '/', 0);
    expect((await late.until(2)).map((e) => e.key)).toEqual(['/a', '/b']);
    seam.calls[2]!.release();
    await eventually(() => c.settled, 'the third write is answered');
    expect((await late.until(3)).map((e) => e.key)).toEqual(['/a', '/b', '/c']);
    await turns(10);
    expect(late.events).toHaveLength(3);
    // A delete not yet on disk: a get of the key waits for it too (the key's absence is not durable yet).
    const gone = track(s.delete('/a'));
    await eventually(() => seam.calls.length === 4, 'a fourth fsync');
    const absent = track(s.get('/a'));
    const other = track(s.get('/b')); // durable: answers at once
    await eventually(() => other.settled, 'a read of durable data answers');
    await turns(20);
    expect(absent.settled).toBe(false);
    seam.calls[3]!.release();
    await eventually(() => gone.settled && absent.settled, 'the delete and the read answer');
    expect(absent.value).toBeUndefined();
    w.watch.close();
    late.watch.close();
    const closing = s.close();
    await eventually(() => seam.calls.length === 5, 'close syncs once more');
    seam.calls[4]!.release();
    await closing;
  });

  it('refuses the writes a failed fsync covered, and everything after it; nothing is acknowledged or watched', async () => {
    const seam = heldFsync();
    const fatal: unknown[] = [];
    const s = await openSqliteStore(freshPath(), { fsync: seam.fsync, onFatal: (err) => fatal.push(err) });
    const w = watchInto(s, '/', 0);
    const a = track(s.create('/a', 1));
    await eventually(() => seam.calls.length === 1, 'the fsync starts');
    const b = track(s.create('/b', 2)); // committed behind it, waiting for the next fsync
    const read = track(s.get('/a'));
    await turns(10);
    seam.calls[0]!.fail(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
    await eventually(() => a.settled && b.settled && read.settled, 'the writers and the read are refused');
    for (const t of [a, b, read]) expect(t.err).toMatchObject({ code: 'SKIFF_ERR_UNAVAILABLE', message: expect.stringContaining('fsync') });
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ code: 'EIO' });
    await expect(s.create('/c', 3)).rejects.toMatchObject({ code: 'SKIFF_ERR_UNAVAILABLE', message: expect.stringContaining('fsync') });
    await expect(s.get('/a')).rejects.toMatchObject({ code: 'SKIFF_ERR_UNAVAILABLE' });
    await turns(10);
    expect(w.events).toEqual([]);
    expect(seam.calls).toHaveLength(1); // no retry: the kernel may have dropped the pages
    await s.close();
  });

  it('checkpoints in its worker, never on the writing connection, and keeps the WAL bounded through a long burst', async () => {
    const path = freshPath();
    const s: SqliteStore = await openSqliteStore(path, { retainRevisions: 2_000 });
    expect(s.settings().walAutocheckpoint).toBe(0);
    let largest = 0;
    const sample = setInterval(() => {
      if (existsSync(`${path}-wal`)) largest = Math.max(largest, statSync(`${path}-wal`).size);
    }, 5);
    // ~2 KB of incompressible text per write (hex), about 6 × the WAL limit in all.
    const writes = Math.ceil((6 * walLimitBytes) / 2_000);
    for (let i = 0; i < writes; i += 200) {
      await Promise.all(Array.from({ length: 200 }, (_, j) => s.create(`/burst/${i + j}`, randomBytes(1_000).toString('hex'))));
    }
    clearInterval(sample);
    const stats = s.checkpointStats();
    console.log(`${writes} writes of ~2 KB: WAL at most ${(largest / 2 ** 20).toFixed(1)} MiB (limit ${walLimitBytes / 2 ** 20}); worker checkpoints ${stats.checkpoints}, complete ${stats.complete}, writers held ${stats.holds}`);
    expect(stats.complete).toBeGreaterThan(0);
    expect(largest).toBeLessThan(3 * walLimitBytes);
    expect(statSync(path).size).toBeGreaterThan(walLimitBytes); // the pages reached the database file
    await s.close();
    expect(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0).toBe(true);
  }, 120_000);

  it('close answers every queued write and leaves everything in the database file', async () => {
    const path = freshPath();
    const s = await openSqliteStore(path);
    const pending = Array.from({ length: 500 }, (_, i) => s.create(`/k/${i}`, { i }));
    await s.close();
    expect((await Promise.all(pending)).map((e) => e.modRevision)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0).toBe(true);
    const again = await openSqliteStore(path);
    expect((await again.list('/k/')).entries).toHaveLength(500);
    await again.close();
  });
});
