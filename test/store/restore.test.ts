/**
 * Backup → wipe → restore and migrate, on both stores, through the offline tools
 * (master/state-tools.ts, what `skiff backup|restore|migrate` run): the same keys and values come
 * back and the store stands at the backup's revision; SQLite keeps every key's revisions, etcd gives
 * each key a revision between its old one and the backup's; history before the restore reads as
 * compacted; a store with keys is refused unless --force.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../master/state-tools.js';
import { readBackup } from '../../master/store/backup.js';
import { openEtcdStore } from '../../master/store/etcd.js';
import { parseStoreUrl, type EtcdLocation } from '../../master/store/location.js';
import { openStoreAt } from '../../master/store/open.js';
import type { SnapshotStore, StoreEntry } from '../../master/store/types.js';
import { haveEtcd, startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { expectCode, watchInto } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'skiff-restore-'));
let etcd: EtcdCluster;
let n = 0;

beforeAll(async () => {
  if (haveEtcd) etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs a state tool in-process; returns its exit code and output. */
async function tool(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

/** Writes a small history: creates, updates and deletes, so revisions have gaps per key. */
async function fill(s: SnapshotStore): Promise<void> {
  await s.create('/registry/namespaces/default', { kind: 'Namespace', metadata: { name: 'default' } });
  for (let i = 0; i < 300; i++) await s.create(`/registry/pods/default/web-${i}`, { kind: 'Pod', metadata: { name: `web-${i}` }, spec: { i } });
  for (let i = 0; i < 300; i += 3) await s.update(`/registry/pods/default/web-${i}`, { kind: 'Pod', metadata: { name: `web-${i}` }, spec: { i, v: 2 } });
  for (let i = 1; i < 300; i += 7) await s.delete(`/registry/pods/default/web-${i}`);
  await s.create('/skiff/credentials/nodes/pi-1', { digest: 'ab'.repeat(32) });
}

const values = (entries: StoreEntry[]) => entries.map((e) => [e.key, e.value]);

// Each kind: a fresh store URL per call, and how to wipe it.
const kinds: { name: string; skip: boolean; fresh: () => string; wipe: (url: string) => Promise<void> }[] = [
  {
    name: 'sqlite',
    skip: false,
    fresh: () => `sqlite:${join(dir, `s${++n}`)}`,
    wipe: async (url) => rmSync(url.slice('sqlite:'.length), { recursive: true, force: true }),
  },
  {
    name: 'etcd',
    skip: !haveEtcd,
    fresh: () => etcd.storeUrl(`/r${++n}`),
    // What an operator's `etcdctl del --prefix /ROOT` does: the keys and the root record go.
    wipe: async (url) => {
      const s = await openEtcdStore(parseStoreUrl(url) as EtcdLocation);
      await s.etcd.delete().prefix(s.keys.root).exec();
      await s.close();
    },
  },
];

describe.each(kinds)('$name: backup → wipe → restore', ({ name, skip, fresh, wipe }) => {
  it.skipIf(skip)('gives back the same keys, values and revision; history before it reads as compacted', async () => {
    const url = fresh();
    const s = await openStoreAt(parseStoreUrl(url));
    await fill(s);
    const before = await s.list('');
    await s.close();
    const file = join(dir, `${name}-${n}.jsonl.gz`);

    const b = await tool('backup', file, '--store', url);
    expect(b).toMatchObject({ code: 0, err: '' });
    expect(b.out).toContain(`${before.entries.length} keys at revision ${before.revision}`);
    expect(readBackup(file).header).toMatchObject({ store: name, revision: before.revision, keys: before.entries.length });

    await wipe(url);
    const r = await tool('restore', file, '--store', url);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(new RegExp(`wrote ${before.entries.length}/${before.entries.length} keys`));
    expect(r.out).toContain(`holds ${before.entries.length} keys at revision ${before.revision}`);

    const back = await openStoreAt(parseStoreUrl(url));
    try {
      const after = await back.list('');
      expect(after.revision).toBe(before.revision);
      expect(values(after.entries)).toEqual(values(before.entries));
      for (const [i, e] of after.entries.entries()) {
        const old = before.entries[i]!;
        if (name === 'sqlite') expect([e.createRevision, e.modRevision]).toEqual([old.createRevision, old.modRevision]);
        // etcd: never below the old resourceVersion (a stale client conflicts), never past the backup.
        else expect(e.modRevision >= old.modRevision && e.modRevision <= before.revision).toBe(true);
      }
      expect(() => back.watch('/', before.revision - 1, () => {})).toThrowError(/compacted/);
      const w = watchInto(back, '/registry/', before.revision);
      const next = await back.create('/registry/namespaces/after', { kind: 'Namespace' });
      expect(next.modRevision).toBe(before.revision + 1);
      expect((await w.until(1)).map((e) => [e.key, e.revision])).toEqual([['/registry/namespaces/after', before.revision + 1]]);
      w.watch.close();
    } finally {
      await back.close();
    }
  });

  it.skipIf(skip)('refuses a store with keys unless --force; --bump-revision moves the revision on', async () => {
    const source = fresh();
    const s = await openStoreAt(parseStoreUrl(source));
    await fill(s);
    const { revision } = await s.list('');
    await s.close();
    const file = join(dir, `${name}-${n}-force.jsonl.gz`);
    expect((await tool('backup', file, '--store', source)).code).toBe(0);

    const target = fresh();
    const t = await openStoreAt(parseStoreUrl(target));
    await t.create('/registry/namespaces/other', { kind: 'Namespace' });
    await t.close();
    const refused = await tool('restore', file, '--store', target);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/holds 1 keys; restore into an empty store, or pass --force/);

    expect((await tool('restore', file, '--store', target, '--force', '--bump-revision', '1000')).code).toBe(0);
    const back = await openStoreAt(parseStoreUrl(target));
    expect(await back.get('/registry/namespaces/other')).toBeUndefined();
    expect((await back.list('')).revision).toBe(revision + 1000);
    expect(() => back.watch('/', revision + 999, () => {})).toThrowError(/compacted/);
    await back.close();
  });
});

describe.skipIf(!haveEtcd)('migrate', () => {
  it('sqlite → etcd → sqlite gives back the same keys, values and revision, with progress', async () => {
    const a = join(dir, `m${++n}`);
    const s = await openStoreAt(parseStoreUrl(`sqlite:${a}`));
    await fill(s);
    const before = await s.list('');
    await s.close();
    const mid = etcd.storeUrl(`/m${n}`);
    const b = join(dir, `m${n}-back`);

    const there = await tool('migrate', '--from', `sqlite:${a}`, '--to', mid);
    expect(there).toMatchObject({ code: 0, err: '' });
    expect(there.out.split('\n')[0]).toBe(`migrate: read ${before.entries.length} keys at revision ${before.revision} from sqlite:${a}`);
    expect(there.out).toMatch(/migrate: wrote \d+\/\d+ keys to etcd:\/\//);
    expect((await tool('migrate', '--from', mid, '--to', `sqlite:${b}`)).code).toBe(0);

    for (const url of [mid, `sqlite:${b}`]) {
      const back = await openStoreAt(parseStoreUrl(url));
      const after = await back.list('');
      expect(after.revision).toBe(before.revision);
      expect(values(after.entries)).toEqual(values(before.entries));
      await back.close();
    }
    // Again into the same target: refused, since it has keys now.
    const again = await tool('migrate', '--from', `sqlite:${a}`, '--to', mid);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/holds \d+ keys; restore into an empty store, or pass --force/);
  });

  it('refuses a missing source, a missing flag and a source equal to the target', async () => {
    const missing = await tool('migrate', '--from', `sqlite:${join(dir, 'nothing-here')}`, '--to', etcd.storeUrl('/x'));
    expect(missing.err).toMatch(/no store at .*nothing-here\/skiff\.db/);
    expect(existsSync(join(dir, 'nothing-here'))).toBe(false);
    expect((await tool('migrate', '--from', 'sqlite:/a')).err).toMatch(/needs --from URL and --to URL/);
    expect((await tool('migrate', '--from', 'sqlite:/a', '--to', 'sqlite:/a')).err).toMatch(/the same store/);
    expect((await tool('restore', 'f.gz')).err).toMatch(/needs --data-dir DIR or --store URL/);
    expect((await tool('backup', '--data-dir', dir)).err).toMatch(/needs exactly one FILE/);
    expect((await tool('restore', join(dir, 'none.gz'), '--data-dir', dir)).err).toMatch(/none\.gz: no such file/);
  });
});

describe.skipIf(!haveEtcd)('etcd restore safety', () => {
  it('a master still open on a root that is restored underneath fails its writes instead of mixing histories', async () => {
    const url = etcd.storeUrl(`/f${++n}`);
    const running = await openStoreAt(parseStoreUrl(url));
    await running.create('/registry/namespaces/a', {});
    const snap = await running.snapshot();
    const restorer = await openStoreAt(parseStoreUrl(url));
    await restorer.restore(snap, { force: true });
    await expectCode(running.create('/registry/namespaces/b', {}), 'SKIFF_ERR_UNAVAILABLE');
    await expect(running.update('/registry/namespaces/a', {})).rejects.toThrowError(/restored or wiped after this store opened/);
    await running.close();
  });

  it('a restore that did not finish leaves the root refused at open', async () => {
    const url = etcd.storeUrl(`/h${++n}`);
    const s = await openEtcdStore(parseStoreUrl(url) as EtcdLocation);
    await s.etcd.put(s.keys.root).value(JSON.stringify({ format: 'skiff-etcd-store', version: 1, revisionOffset: 0, restoredRevision: 0, restoring: true }));
    await s.close();
    await expect(openStoreAt(parseStoreUrl(url))).rejects.toMatchObject({ code: 'SKIFF_ERR_UNAVAILABLE', message: expect.stringMatching(/did not finish; run "skiff restore FILE --store \.\.\. --force"/) });
  });
});
