/** Volume building blocks: the atomic projected writer, configMap/secret files, hostPath types, mount links. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeProjected } from '../../edge-agent/volumes/atomic.js';
import { prepareHostPath } from '../../edge-agent/volumes/hostpath.js';
import { createLinks, mountEnv, mountLinks, removeLinks } from '../../edge-agent/volumes/mounts.js';
import { projectedFiles } from '../../edge-agent/volumes/sources.js';
import type { KObject, Volume } from '../../protocol/types.js';
import { tempDir } from './helpers.js';

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const cm = (data: Record<string, string>, binaryData?: Record<string, string>): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'ns' }, data, ...(binaryData ? { binaryData } : {}) });
const file = (p: string, s: string) => ({ path: p, data: Buffer.from(s), mode: 0o644 });

describe('atomic projected writer', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('skiff-vol-')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lays files out kubelet-style: a version dir, ..data, and top-level links through it', async () => {
    await writeProjected(dir, [file('a.conf', 'A1'), file('sub/b.conf', 'B1')]);
    const names = fs.readdirSync(dir).sort();
    expect(names.filter((n) => !n.startsWith('..'))).toEqual(['a.conf', 'sub']);
    expect(names.filter((n) => n.startsWith('..') && n !== '..data')).toHaveLength(1);
    expect(fs.readlinkSync(path.join(dir, 'a.conf'))).toBe('..data/a.conf');
    expect(fs.readFileSync(path.join(dir, 'sub/b.conf'), 'utf8')).toBe('B1');
  });

  it('an update swaps the whole set, drops removed names and the old version dir', async () => {
    await writeProjected(dir, [file('a', '1'), file('gone', 'x')]);
    const v1 = fs.readlinkSync(path.join(dir, '..data'));
    await writeProjected(dir, [file('a', '2'), file('new', 'y')]);
    expect(fs.readFileSync(path.join(dir, 'a'), 'utf8')).toBe('2');
    expect(fs.readFileSync(path.join(dir, 'new'), 'utf8')).toBe('y');
    expect(fs.existsSync(path.join(dir, 'gone'))).toBe(false);
    expect(fs.existsSync(path.join(dir, v1))).toBe(false);
    expect(fs.readdirSync(dir).filter((n) => n.startsWith('..') && n !== '..data')).toHaveLength(1);
  });

  it('a reader going through ..data never sees two files from different versions', async () => {
    await writeProjected(dir, [file('x', '0'), file('y', '0')]);
    let stop = false;
    let reads = 0;
    const torn: string[] = [];
    // The reader opens the current version once and reads both files from it, as an app does with ..data.
    const reader = (async () => {
      while (!stop) {
        try {
          const v = fs.readlinkSync(path.join(dir, '..data'));
          const x = fs.readFileSync(path.join(dir, v, 'x'), 'utf8');
          const y = fs.readFileSync(path.join(dir, v, 'y'), 'utf8');
          if (x !== y) torn.push(`${x}/${y}`);
          reads++;
        } catch {
          /* the old version was removed between readlink and read: a retry, never a mix */
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 1; i <= 40; i++) await writeProjected(dir, [file('x', String(i)), file('y', String(i))]);
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(10);
    expect(torn).toEqual([]);
    expect(fs.readFileSync(path.join(dir, 'y'), 'utf8')).toBe('40');
  });

  it.each(['../escape', '/abs', '..data/x', 'a//b', ''])('rejects item path %j', async (p) => {
    await expect(writeProjected(dir, [file(p, 'x')])).rejects.toThrow(/must be relative/);
  });
});

describe('configMap and secret volume files', () => {
  const desired = {
    configMaps: { 'ns/cfg': cm({ 'app.yaml': 'mode: fast', level: '3' }, { 'logo.bin': b64(Buffer.from([0, 255, 1])) }) },
    secrets: { 'ns/creds': { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'ns' }, data: { password: b64('s3cr3t'), blob: b64(Buffer.from([0xde, 0xad])) }, stringData: { plain: 'p' } } as KObject },
  };
  const rows: [string, Volume, { path: string; data: string | number[]; mode: number }[] | RegExp][] = [
    ['all keys of a ConfigMap, binaryData as bytes', { name: 'v', configMap: { name: 'cfg' } }, [
      { path: 'app.yaml', data: 'mode: fast', mode: 0o644 }, { path: 'level', data: '3', mode: 0o644 }, { path: 'logo.bin', data: [0, 255, 1], mode: 0o644 },
    ]],
    ['items map keys to paths', { name: 'v', configMap: { name: 'cfg', items: [{ key: 'app.yaml', path: 'conf/app.yaml' }] } }, [{ path: 'conf/app.yaml', data: 'mode: fast', mode: 0o644 }]],
    ['a missing item key fails', { name: 'v', configMap: { name: 'cfg', items: [{ key: 'nope', path: 'x' }] } }, /volume "v": key "nope" not found in configmap "cfg"/],
    ['a missing item key of an optional source is skipped', { name: 'v', configMap: { name: 'cfg', optional: true, items: [{ key: 'nope', path: 'x' }] } }, []],
    ['a missing ConfigMap fails', { name: 'v', configMap: { name: 'absent' } }, /volume "v": configmap "absent" not found/],
    ['a missing optional ConfigMap is an empty volume', { name: 'v', configMap: { name: 'absent', optional: true } }, []],
    ['Secret data is base64-decoded (binary safe), stringData plain, mode 0600', { name: 'v', secret: { secretName: 'creds' } }, [
      { path: 'blob', data: [0xde, 0xad], mode: 0o600 }, { path: 'password', data: 's3cr3t', mode: 0o600 }, { path: 'plain', data: 'p', mode: 0o600 },
    ]],
    ['a missing Secret fails', { name: 'v', secret: { secretName: 'nope' } }, /volume "v": secret "nope" not found/],
  ];
  it.each(rows)('%s', (_n, v, want) => {
    if (want instanceof RegExp) return void expect(() => projectedFiles(v, 'ns', desired)).toThrow(want);
    const got = projectedFiles(v, 'ns', desired)!.map((f) => ({ path: f.path, mode: f.mode, data: f.data })).sort((a, b) => a.path.localeCompare(b.path));
    expect(got).toEqual(want.map((w) => ({ path: w.path, mode: w.mode, data: Buffer.from(w.data as string) })));
  });
  it('is undefined for other volume types', () => expect(projectedFiles({ name: 'e', emptyDir: {} }, 'ns', desired)).toBeUndefined());
});

describe('hostPath types', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('skiff-hp-')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('checks and creates by type', async () => {
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    const sock = net.createServer().listen(path.join(dir, 's'));
    await new Promise((r) => sock.once('listening', r));
    const ok: [string, string][] = [['', 'missing-is-fine'], ['Directory', '.'], ['File', 'f'], ['Socket', 's'], ['CharDevice', '/dev/null'], ['DirectoryOrCreate', 'made/deep'], ['FileOrCreate', 'newfile']];
    for (const [type, p] of ok) await expect(prepareHostPath('v', path.resolve(dir, p), type), `${type} ${p}`).resolves.toBeTruthy();
    expect(fs.statSync(path.join(dir, 'made/deep')).isDirectory()).toBe(true);
    expect(fs.statSync(path.join(dir, 'newfile')).isFile()).toBe(true);
    const bad: [string, string, RegExp][] = [
      ['Directory', 'f', /is not a Directory/], ['File', 'absent', /does not exist \(type File\)/], ['DirectoryOrCreate', 'f', /exists and is not a directory/],
      ['FileOrCreate', 'no/parent/file', /cannot be created/], ['BlockDevice', '/dev/null', /is not a BlockDevice/], ['Weird', '.', /unknown type "Weird"/],
    ];
    for (const [type, p, re] of bad) await expect(prepareHostPath('v', path.resolve(dir, p), type), `${type} ${p}`).rejects.toThrow(re);
    await expect(prepareHostPath('v', 'relative/path', '')).rejects.toThrow(/volume "v": hostPath relative\/path must be an absolute path/);
    sock.close();
  });
});

describe('mounts of a process container', () => {
  const dirOf = (n: string) => `/data/pods/u/volumes/${n}`;
  it('gives every mount an env var, and links only mounts inside the working dir', () => {
    const c = {
      name: 'main',
      workingDir: '/srv/app',
      volumeMounts: [
        { name: 'config-files', mountPath: '/srv/app/config' },
        { name: 'cache', mountPath: 'tmp/cache' },
        { name: 'certs', mountPath: '/etc/ssl/app', subPath: 'x' },
        { name: 'sub', mountPath: 'one.conf', subPath: 'dir/one.conf' },
        { name: 'escape', mountPath: '../outside' },
      ],
    };
    expect(mountEnv(c, dirOf)).toEqual({
      SKIFF_VOLUME_CONFIG_FILES: dirOf('config-files'), SKIFF_VOLUME_CACHE: dirOf('cache'), SKIFF_VOLUME_CERTS: dirOf('certs'), SKIFF_VOLUME_SUB: dirOf('sub'), SKIFF_VOLUME_ESCAPE: dirOf('escape'),
    });
    expect(mountLinks(c, dirOf)).toEqual([
      { link: '/srv/app/config', target: dirOf('config-files') },
      { link: '/srv/app/tmp/cache', target: dirOf('cache') },
      { link: '/srv/app/one.conf', target: `${dirOf('sub')}/dir/one.conf` },
    ]);
    expect(mountLinks({ ...c, workingDir: undefined }, dirOf)).toEqual([]);
  });

  it('creates and removes links, and never replaces a real file', async () => {
    const wd = tempDir('skiff-wd-');
    const vol = tempDir('skiff-v-');
    const links = [{ link: path.join(wd, 'conf'), target: vol }];
    await createLinks(links);
    await createLinks(links); // idempotent
    expect(fs.readlinkSync(path.join(wd, 'conf'))).toBe(vol);
    await removeLinks(links);
    expect(fs.existsSync(path.join(wd, 'conf'))).toBe(false);
    fs.mkdirSync(path.join(wd, 'conf'));
    await expect(createLinks(links)).rejects.toThrow(/mountPath .*conf exists and is not a symlink/);
    fs.rmSync(wd, { recursive: true });
    fs.rmSync(vol, { recursive: true });
  });
});
