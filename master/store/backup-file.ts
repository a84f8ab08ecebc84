/**
 * The backup file: gzip of JSON lines (docs/state.md, "Backup format"). Line 1 is the header, then
 * one line per key in key order with the value as the store keeps it, then an end line that makes a
 * truncated file detectable:
 *
 *   {"format":"skiff-backup","version":1,"revision":1234,"createdAt":"2026-...Z","store":"sqlite","source":"sqlite:/var/lib/skiff","keys":2}
 *   {"key":"/registry/namespaces/default","createRevision":1,"modRevision":1,"value":{...}}
 *   ...
 *   {"end":true,"keys":2}
 *
 * JSON lines rather than msgpack: `zcat FILE | head` shows what a backup holds, `jq` filters it,
 * and the values are already JSON text in both stores, so writing copies them without re-encoding.
 * The same file restores into either store (a backup is also a migration).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { SkiffError } from '../../protocol/errors.js';
import { checkKey } from './keys.js';
import type { Snapshot, SnapshotEntry } from './types.js';

/** The format version this Skiff writes; a newer file is refused, not misread. */
export const backupVersion = 1;

/** The first line of a backup. */
export interface BackupHeader {
  format: 'skiff-backup';
  version: number;
  /** The store revision every key was read at. */
  revision: number;
  /** ISO 8601 time of the read. */
  createdAt: string;
  /** The implementation it was read from. */
  store: 'sqlite' | 'etcd';
  /** Where from (no password), for the operator. */
  source: string;
  keys: number;
}

/** The bytes of a backup file of `snapshot`. */
export function encodeBackup(snapshot: Snapshot, from: { store: 'sqlite' | 'etcd'; source: string }, now = new Date()): Buffer {
  const header: BackupHeader = { format: 'skiff-backup', version: backupVersion, revision: snapshot.revision, createdAt: now.toISOString(), store: from.store, source: from.source, keys: snapshot.entries.length };
  const lines = [JSON.stringify(header)];
  // The value is the store's own JSON text, spliced in as is.
  for (const e of snapshot.entries) lines.push(`{"key":${JSON.stringify(e.key)},"createRevision":${e.createRevision},"modRevision":${e.modRevision},"value":${e.text}}`);
  lines.push(JSON.stringify({ end: true, keys: snapshot.entries.length }));
  return gzipSync(lines.join('\n') + '\n');
}

/** Reads a backup file's bytes; throws SKIFF_ERR_BAD_REQUEST naming `name`, the line and the rule. */
export function decodeBackup(bytes: Buffer, name: string): { header: BackupHeader; snapshot: Snapshot } {
  const fail = (where: string, rule: string): never => {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `backup ${name}: ${where}: ${rule}`);
  };
  let text = '';
  try {
    text = gunzipSync(bytes).toString('utf8');
  } catch (err) {
    fail('file', `not a gzip file, or truncated (${(err as Error).message})`);
  }
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const parse = (i: number): Record<string, unknown> => {
    try {
      const v = JSON.parse(lines[i]!) as unknown;
      if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    } catch {
      // reported below
    }
    return fail(`line ${i + 1}`, 'must be a JSON object');
  };
  if (lines.length < 2) fail('file', 'must have a header line and an end line');
  const header = checkHeader(parse(0), fail);
  const entries: SnapshotEntry[] = [];
  for (let i = 1; i < lines.length - 1; i++) entries.push(checkEntry(parse(i), header.revision, (rule) => fail(`line ${i + 1}`, rule)));
  const end = parse(lines.length - 1);
  if (end.end !== true) fail(`line ${lines.length}`, 'the end line is missing: the file is truncated');
  if (end.keys !== entries.length || header.keys !== entries.length) fail('file', `header says ${header.keys} keys, end line ${String(end.keys)}, found ${entries.length}`);
  return { header, snapshot: { revision: header.revision, entries } };
}

function checkHeader(h: Record<string, unknown>, fail: (where: string, rule: string) => never): BackupHeader {
  if (h.format !== 'skiff-backup') fail('line 1', `format must be "skiff-backup", got ${JSON.stringify(h.format)}`);
  if (!isCount(h.version) || h.version < 1) fail('line 1', `version must be an integer ≥ 1, got ${JSON.stringify(h.version)}`);
  if ((h.version as number) > backupVersion) fail('line 1', `version ${String(h.version)} is newer than this Skiff's ${backupVersion}`);
  if (!isCount(h.revision)) fail('line 1', `revision must be an integer ≥ 0, got ${JSON.stringify(h.revision)}`);
  if (!isCount(h.keys)) fail('line 1', `keys must be an integer ≥ 0, got ${JSON.stringify(h.keys)}`);
  if (h.store !== 'sqlite' && h.store !== 'etcd') fail('line 1', `store must be "sqlite" or "etcd", got ${JSON.stringify(h.store)}`);
  return h as unknown as BackupHeader;
}

function checkEntry(e: Record<string, unknown>, revision: number, fail: (rule: string) => never): SnapshotEntry {
  try {
    checkKey(e.key);
  } catch (err) {
    fail((err as Error).message);
  }
  const { createRevision: c, modRevision: m } = e;
  if (!isCount(c) || c < 1) fail(`createRevision must be an integer ≥ 1, got ${JSON.stringify(c)}`);
  if (!isCount(m) || m < (c as number) || m > revision) fail(`modRevision must be an integer from createRevision to the header's revision ${revision}, got ${JSON.stringify(m)}`);
  if (!('value' in e)) fail('value is missing');
  return { key: e.key as string, text: JSON.stringify(e.value), createRevision: c as number, modRevision: m as number };
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
