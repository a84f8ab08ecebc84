/**
 * Issue 9, weak items on the data dir: `skiff.db` and its WAL were 0644 in a data dir that already
 * existed as 0755 (every Secret world-readable); on a full disk the master could not even delete to
 * free space, and started half-way with ENOSPC. Replayed against real masters: a dir and store left
 * readable by anyone are made private at start; on a real small filesystem (a tmpfs this test mounts,
 * root only) creates are refused near full while deletes go through — also at 0 bytes free — and a
 * start on a full disk exits non-zero with a clear message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, statfsSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startMaster } from '../../master/index.js';
import { testEngine } from '../helpers/cluster.js';
import { startMasterProcess } from '../helpers/master-process.js';
import { skiffBin } from '../helpers/procs.js';
import { tempDir } from '../helpers/wait.js';

const mode = (p: string) => statSync(p).mode & 0o777;

describe('the data dir is private', () => {
  it('a 0755 dir with a 0644 store from an earlier run is made 0700 / 0600, -wal and -shm included', async () => {
    const dir = await tempDir('skiff-perm-');
    const data = join(dir, 'data');
    const opts = { dataDir: data, mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false } as const;
    await (await startMaster(opts)).stop();
    // As an older Skiff, or an operator's `mkdir /var/lib/skiff`, left it.
    chmodSync(data, 0o755);
    for (const f of readdirSync(data)) chmodSync(join(data, f), 0o644);
    const old = process.umask(0o022);
    try {
      const master = await startMaster(opts);
      await master.objects.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { k: 'c2VjcmV0' } });
      const files = readdirSync(data);
      expect(files).toEqual(expect.arrayContaining(['skiff.db', 'skiff.db-wal', 'skiff.db-shm', 'admin.token', 'join.token', 'config.json']));
      expect(mode(data).toString(8)).toBe('700');
      // Files 0600, directories (tls/: the cluster CA) 0700.
      const want = (f: string) => (statSync(join(data, f)).isDirectory() ? '700' : '600');
      expect(Object.fromEntries(files.map((f) => [f, mode(join(data, f)).toString(8)]))).toEqual(Object.fromEntries(files.map((f) => [f, want(f)])));
      await master.stop();
    } finally {
      process.umask(old);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a fresh data dir under umask 022 gets a 0600 store, WAL and shared memory', async () => {
    const dir = await tempDir('skiff-perm-');
    const old = process.umask(0o022);
    try {
      const master = await startMaster({ dataDir: join(dir, 'fresh'), mqttPort: 0, httpPort: -1, mqttHost: '127.0.0.1', quiet: true, engine: testEngine, mdns: false });
      for (const f of ['skiff.db', 'skiff.db-wal', 'skiff.db-shm', 'disk-reserve']) expect(`${f} ${mode(join(dir, 'fresh', f)).toString(8)}`).toBe(`${f} 600`);
      expect(mode(join(dir, 'fresh')).toString(8)).toBe('700');
      await master.stop();
    } finally {
      process.umask(old);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Mounts a tmpfs of `size` at `dir`; undefined when this process may not (not root, no mount). */
function mountTmpfs(dir: string, size: string): string | undefined {
  if (process.getuid?.() !== 0) return 'not running as root: cannot mount a small filesystem';
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'skiff-test-disk', dir]);
  return r.status === 0 ? undefined : `mount -t tmpfs failed: ${String(r.stderr).trim() || r.error?.message}`;
}

/** Writes zeros to `file` until the filesystem has at most `leave` bytes free (0: until ENOSPC). */
function fill(file: string, leave: number): void {
  const fd = openSync(file, 'a');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) {
      const s = statfsSync(file);
      const free = s.bavail * s.bsize;
      if (free <= leave) return;
      writeSync(fd, chunk, 0, Math.min(chunk.length, Math.max(4096, free - leave)));
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe('a full disk', () => {
  let dir: string;
  let disk: string;
  let skip: string | undefined;
  beforeAll(async () => {
    dir = await tempDir('skiff-disk-');
    disk = join(dir, 'disk');
    mkdirSync(disk);
    skip = mountTmpfs(disk, '32m');
    if (skip) console.warn(`skipping the full-disk test: ${skip}`);
  });
  afterAll(async () => {
    if (!skip) spawnSync('umount', [disk]);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses creates near full, deletes at 0 bytes free, and fails a start without room cleanly', async (ctx) => {
    if (skip) return ctx.skip();
    const data = join(disk, 'data');
    const flags = ['--min-free', '8Mi', '--disk-reserve', '4Mi'];
    const master = await startMasterProcess(data, flags, join(dir, 'master.log'));
    try {
      const cm = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v'.repeat(1000) } });
      const apply = async (name: string) => (await master.api.request<{ results: { action: string; error?: { message: string } }[] }>('apply', { objects: [cm(name)] })).results[0];
      for (const n of ['a', 'b', 'c']) expect((await apply(n)).action).toBe('created');

      fill(join(disk, 'filler-1'), 6 * 1024 * 1024);
      await new Promise((r) => setTimeout(r, 1100)); // the master reads free space at most once a second
      const refused = await apply('d');
      expect(refused.action).toBe('failed');
      expect(refused.error?.message).toMatch(new RegExp(`^ConfigMap/d: refused: the disk of ${data} is nearly full \\([\\d.]+ MiB free, writes need 8 MiB\\); delete objects or free space on the disk — deletes still work$`));
      await master.api.request('delete', { kind: 'ConfigMap', name: 'a' });

      fill(join(disk, 'filler-2'), 0); // 0 bytes free: only the master's reserve is left
      expect(statfsSync(disk).bavail).toBe(0);
      await master.api.request('delete', { kind: 'ConfigMap', name: 'b' });
      await master.api.request('delete', { kind: 'ConfigMap', name: 'c' });
      const left = await master.api.request<{ items: { metadata: { name: string } }[] }>('list', { kind: 'ConfigMap' });
      expect(left.items.map((i) => i.metadata.name)).toEqual([]);
      console.log(`full disk: deletes went through at 0 bytes free; reserve ${existsSync(join(data, 'disk-reserve')) ? 'still held' : 'given up'}`);
    } finally {
      await master.stop();
    }

    // A start with the disk full: a clear message, a non-zero exit, nothing left running.
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [skiffBin, 'master', '--data-dir', data, '--mqtt-port', '0', '--http-port=-1', '--bind', '127.0.0.1', '--no-mdns', ...flags], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^error: data dir ${data}: not enough free space: [\\d.]+ (MiB|KiB|bytes) free, the master needs [\\d.]+ MiB to start`));
    console.log(`start on a full disk: exit ${r.status} after ${Math.round(performance.now() - t0)} ms: ${r.stderr.trim()}`);
    expect(execFileSync('ls', [data]).toString()).not.toContain('config.json.tmp');
  }, 60_000);
});
