/**
 * Values deflated in the deflate worker (deflate-worker.ts): the change log keeps the same format (tagged raw deflate
 * against dictionary 1 that the previous release's decoder reads, short and incompressible values as text, a value
 * too long for the shared memory deflated on the loop), writes keep the order they were asked in whatever their value,
 * and revision(), close() and compact() count the writes whose values are still in the worker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { deflateWorkerStats, terminateDeflateWorker, ValueEncoder } from '../../master/store/deflate-worker.js';
import { dictionary1, encodeValue } from '../../master/store/sqlite-codec.js';
import { openSqliteStore } from '../../master/store/sqlite.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-deflate-worker-'));
  dirs.push(dir);
  return join(dir, 'skiff.db');
}

const pod = (i: number) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `web-${i}`, namespace: 'default', uid: `uid-${i}`, labels: { app: 'web', note: 'é€😀'.repeat(i % 5) } },
  spec: { containers: [{ name: 'main', image: 'nginx' }], nodeName: `node-${i % 13}` },
  status: { phase: 'Running', podIP: `10.0.${i % 250}.${i % 200}` },
});
// Not compressible: kept as text.
const noise = (i: number) => Array.from({ length: 40 }, (_, k) => ((i * 7919 + k * 104729) % 1_000_003).toString(36)).join('');
// Longer than the worker's shared memory can take in one message (1 MiB of UTF-8): deflated on the loop.
const huge = { data: 'x'.repeat(400_000) };

describe('deflate worker', () => {
  it('stores what the loop would: tagged raw deflate the previous release reads, short and incompressible values as text', async () => {
    const path = tempDb();
    const store = await openSqliteStore(path, { deflateIn: 'worker' });
    const before = deflateWorkerStats().values;
    const values: unknown[] = [];
    await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const value = i % 10 === 3 ? noise(i) : i % 10 === 7 ? { s: i } : i === 150 ? huge : pod(i);
        values.push(value);
        return store.create(`/v/${String(i).padStart(3, '0')}`, value);
      }),
    );
    expect(deflateWorkerStats().values - before).toBe(300 - 30 - 1); // all but the 30 short values and the huge one
    for (let i = 0; i < values.length; i++) expect((await store.get(`/v/${String(i).padStart(3, '0')}`))!.value).toEqual(values[i]);
    await store.close();

    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT key, value FROM changes ORDER BY id').all() as { key: string; value: string | Buffer }[];
    db.close();
    expect(rows).toHaveLength(300);
    let deflated = 0;
    for (const { key, value } of rows) {
      const text = JSON.stringify(values[Number(key.slice(3))]);
      const loop = encodeValue(text);
      if (typeof loop === 'string') {
        expect(value).toBe(text);
        continue;
      }
      deflated++;
      expect(Buffer.isBuffer(value)).toBe(true);
      const bytes = value as Buffer;
      expect(bytes[0]).toBe(1);
      // What the previous release does to read it: inflate the bytes after the tag against dictionary 1.
      expect(inflateRawSync(bytes.subarray(1), { dictionary: dictionary1 }).toString('utf8')).toBe(text);
      expect(Math.abs(bytes.length - loop.length)).toBeLessThanOrEqual(2); // same stream settings: a byte here or there
    }
    expect(deflated).toBeGreaterThanOrEqual(240);
  });

  it('commits writes in the order they were asked for, whether their values went to the worker or not', async () => {
    const store = await openSqliteStore(':memory:', { deflateIn: 'worker' });
    await store.create('/gone', pod(0));
    const asked: string[] = [];
    const writes: Promise<{ modRevision: number }>[] = [];
    for (let i = 0; i < 60; i++) {
      const key = `/o/${i}`;
      asked.push(key);
      // A long value (worker), a short one and a delete (no worker) interleaved.
      if (i === 30) writes.push(store.delete('/gone'));
      else writes.push(store.create(key, i % 3 === 0 ? { s: i } : pod(i)));
    }
    const revisions = (await Promise.all(writes)).map((e, i) => (i === 30 ? undefined : e.modRevision));
    const deleted = await store.revision();
    const created = revisions.filter((r): r is number => r !== undefined);
    expect(created).toEqual([...created].sort((a, b) => a - b));
    expect(new Set(created).size).toBe(created.length);
    // The delete took the revision between the 30th and the 31st write.
    expect(created[29]! + 2).toBe(created[30]);
    expect(deleted).toBe(created[created.length - 1]);
    await store.close();
  });

  it('revision(), compact() and close() count writes whose values are still being deflated', async () => {
    const path = tempDb();
    const store = await openSqliteStore(path, { deflateIn: 'worker' });
    const first = await store.create('/a', pod(1));
    void store.update('/a', pod(2));
    // Asked for before revision(): revision() is after it.
    expect(await store.revision()).toBe(first.modRevision + 1);
    void store.update('/a', pod(3));
    await store.compact(first.modRevision + 1);
    expect((await store.get('/a'))!.modRevision).toBe(first.modRevision + 2);
    const last = store.update('/a', pod(4));
    await store.close();
    expect((await last).modRevision).toBe(first.modRevision + 3);
    const again = await openSqliteStore(path, { deflateIn: 'worker' });
    expect((await again.get('/a'))!.value).toEqual(pod(4));
    await again.close();
  });

  it('an encoder on the loop encodes at once; one off the loop keeps calls in order', async () => {
    const text = JSON.stringify(pod(5));
    const onLoop = new ValueEncoder(false);
    const a = { text, stored: undefined as string | Buffer | null | undefined };
    expect(onLoop.encode([a])).toBeUndefined();
    expect(Buffer.isBuffer(a.stored)).toBe(true);

    const off = new ValueEncoder(true);
    const short = { text: '"s"', stored: undefined as string | Buffer | null | undefined };
    expect(off.encode([short])).toBeUndefined(); // nothing before it, nothing to deflate
    expect(short.stored).toBe('"s"');
    const long = { text, stored: undefined as string | Buffer | null | undefined };
    const del = { text: null, stored: undefined as string | Buffer | null | undefined };
    const order: string[] = [];
    const p1 = off.encode([long])!;
    await new Promise((resolve) => setImmediate(resolve)); // the long one's batch is sent
    const p2 = off.encode([del])!; // a batch of its own, after the long one's
    expect(p2).toBeDefined();
    expect(p2).not.toBe(p1);
    void p2.then(() => order.push('delete'));
    void p1.then(() => order.push('long'));
    await p2;
    await off.idle();
    expect(order).toEqual(['long', 'delete']);
    expect(Buffer.isBuffer(long.stored)).toBe(true);
    expect(del.stored).toBeNull();
    expect(off.idle()).toBeUndefined();
  });

  it('splits a turn whose values do not fit the shared memory at once over several messages, in order', async () => {
    const store = await openSqliteStore(':memory:', { deflateIn: 'worker' });
    const before = deflateWorkerStats();
    // 3,000 values of ~1 KB asked for in one turn: ~3 MB of UTF-8 for 1 MiB of shared memory, three messages or more.
    const value = (i: number) => ({ ...pod(i), note: `${i} `.repeat(200).slice(0, 700) });
    const writes = Array.from({ length: 3000 }, (_, i) => store.create(`/s/${String(i).padStart(4, '0')}`, value(i)));
    const revisions = (await Promise.all(writes)).map((e) => e.modRevision);
    const after = deflateWorkerStats();
    expect(after.values - before.values).toBe(3000);
    expect(after.messages - before.messages).toBeGreaterThanOrEqual(3);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    const { entries } = await store.list('/s/');
    expect(entries.map((e) => e.value)).toEqual(Array.from({ length: 3000 }, (_, i) => value(i)));
    await store.close();
  });

  // Last: the process's worker stays stopped.
  it('a worker that dies with values in it: they, and later ones, are deflated on the loop and committed in order', async () => {
    const path = tempDb();
    const store = await openSqliteStore(path, { deflateIn: 'worker' });
    await store.create('/warm', pod(0)); // the worker runs
    const writes = Array.from({ length: 1000 }, (_, i) => store.create(`/d/${String(i).padStart(4, '0')}`, pod(i))); // ~15 ms of deflating
    await new Promise((resolve) => setImmediate(resolve)); // they are in the worker: it dies mid-message
    await terminateDeflateWorker();
    const revisions = (await Promise.all(writes)).map((e) => e.modRevision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    const sent = deflateWorkerStats().values;
    const later = await store.create('/later', pod(41));
    expect(deflateWorkerStats().values).toBe(sent); // not through the worker
    expect(later.modRevision).toBe(revisions[revisions.length - 1]! + 1);
    for (let i = 0; i < 1000; i += 37) expect((await store.get(`/d/${String(i).padStart(4, '0')}`))!.value).toEqual(pod(i));
    await store.close();
    const db = new Database(path, { readonly: true });
    const stored = db.prepare("SELECT value FROM changes WHERE key = '/later'").pluck().get() as Buffer;
    db.close();
    expect(inflateRawSync(stored.subarray(1), { dictionary: dictionary1 }).toString('utf8')).toBe(JSON.stringify(pod(41)));
  });
});
