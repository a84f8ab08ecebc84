/** The backup file format: a round trip, every way a file can be bad, and pruning of scheduled backups. */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeBackup, encodeBackup } from '../../master/store/backup-file.js';
import { pruneBackups, scheduledName } from '../../master/store/backup.js';
import type { Snapshot } from '../../master/store/types.js';

const snapshot: Snapshot = {
  revision: 9,
  entries: [
    { key: '/registry/namespaces/default', text: '{"kind":"Namespace","metadata":{"name":"default"}}', createRevision: 1, modRevision: 1 },
    { key: '/registry/pods/default/web-é😀', text: '{"kind":"Pod","spec":{"x":"a\\nb"}}', createRevision: 2, modRevision: 9 },
    { key: '/skiff/credentials/nodes/pi', text: '"plain string"', createRevision: 3, modRevision: 3 },
  ],
};
const from = { store: 'sqlite' as const, source: 'sqlite:/d' };
const lines = (s: Snapshot = snapshot) => gunzipSync(encodeBackup(s, from, new Date('2026-01-02T03:04:05Z'))).toString('utf8').split('\n').slice(0, -1);
const fileOf = (ls: string[]) => gzipSync(ls.join('\n') + '\n');

describe('backup file', () => {
  it('is gzip of JSON lines: a header, one line per key with the value as JSON, an end line; it reads back the same', () => {
    const ls = lines();
    expect(JSON.parse(ls[0]!)).toEqual({ format: 'skiff-backup', version: 1, revision: 9, createdAt: '2026-01-02T03:04:05.000Z', store: 'sqlite', source: 'sqlite:/d', keys: 3 });
    expect(JSON.parse(ls[2]!)).toEqual({ key: '/registry/pods/default/web-é😀', createRevision: 2, modRevision: 9, value: { kind: 'Pod', spec: { x: 'a\nb' } } });
    expect(JSON.parse(ls[4]!)).toEqual({ end: true, keys: 3 });
    const { header, snapshot: back } = decodeBackup(fileOf(ls), 'f');
    expect(header.revision).toBe(9);
    expect(back).toEqual(snapshot);
  });

  it('reads back an empty store', () => {
    expect(decodeBackup(encodeBackup({ revision: 0, entries: [] }, from), 'f').snapshot).toEqual({ revision: 0, entries: [] });
  });

  const edit = (i: number, fn: (o: Record<string, unknown>) => void) => {
    const ls = lines();
    const o = JSON.parse(ls[i]!) as Record<string, unknown>;
    fn(o);
    ls[i] = JSON.stringify(o);
    return fileOf(ls);
  };
  const bad: [string, () => Buffer, RegExp][] = [
    ['not gzip', () => Buffer.from('{"format":"skiff-backup"}\n'), /file: not a gzip file/],
    ['a truncated gzip stream', () => encodeBackup(snapshot, from).subarray(0, 40), /file: not a gzip file, or truncated/],
    ['no end line', () => fileOf(lines().slice(0, -1)), /line 4: the end line is missing/],
    ['only a header', () => fileOf(lines().slice(0, 1)), /must have a header line and an end line/],
    ['a line that is not JSON', () => fileOf([...lines().slice(0, 2), '{"key":', ...lines().slice(2)]), /line 3: must be a JSON object/],
    ['another format', () => edit(0, (h) => (h.format = 'etcd-snapshot')), /line 1: format must be "skiff-backup"/],
    ['a newer version', () => edit(0, (h) => (h.version = 2)), /line 1: version 2 is newer than this Skiff's 1/],
    ['a negative revision', () => edit(0, (h) => (h.revision = -1)), /line 1: revision must be an integer ≥ 0/],
    ['an unknown store', () => edit(0, (h) => (h.store = 'redis')), /store must be "sqlite" or "etcd"/],
    ['a key count that does not match', () => edit(0, (h) => (h.keys = 2)), /header says 2 keys, end line 3, found 3/],
    ['a key that is not a path', () => edit(1, (e) => (e.key = 'registry/x')), /line 2: store: key: must start with "\/"/],
    ['a modRevision past the header revision', () => edit(2, (e) => (e.modRevision = 10)), /line 3: modRevision must be an integer from createRevision to the header's revision 9/],
    ['a modRevision before createRevision', () => edit(2, (e) => (e.modRevision = 1)), /line 3: modRevision must be/],
    ['a createRevision of 0', () => edit(1, (e) => (e.createRevision = 0)), /line 2: createRevision must be an integer ≥ 1/],
    ['a missing value', () => edit(1, (e) => delete e.value), /line 2: value is missing/],
  ];
  it.each(bad)('refuses %s, naming the file, the line and the rule', (_, bytes, message) => {
    expect(() => decodeBackup(bytes(), 'b.gz')).toThrowError(expect.objectContaining({ code: 'SKIFF_ERR_BAD_REQUEST', message: expect.stringMatching(new RegExp(`^backup b\\.gz: (file: |line \\d+: )?.*${message.source}`)) }));
  });
});

describe('scheduled backup files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-prune-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are named by UTC time and revision, and pruning keeps the newest N of ours only', () => {
    expect(scheduledName(new Date('2026-03-04T05:06:07.891Z'), 42)).toBe('skiff-backup-20260304T050607Z-r42.jsonl.gz');
    const names = [1, 2, 3, 4, 5].map((d) => scheduledName(new Date(`2026-03-0${d}T00:00:00Z`), d * 10));
    for (const n of [...names, 'notes.txt', 'skiff-backup-manual.jsonl.gz']) writeFileSync(join(dir, n), 'x');
    expect(pruneBackups(dir, 2)).toEqual(names.slice(0, 3));
    expect(readdirSync(dir).sort()).toEqual([...names.slice(3), 'notes.txt', 'skiff-backup-manual.jsonl.gz'].sort());
  });
});
