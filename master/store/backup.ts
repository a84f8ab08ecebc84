/**
 * Taking and loading backups: read a store at one revision into a backup file (written atomically,
 * mode 0600: it holds Secrets and credential digests), read one back, and keep the newest N of a
 * backup dir. The file format is backup-file.ts.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SkiffError } from '../../protocol/errors.js';
import { decodeBackup, encodeBackup, type BackupHeader } from './backup-file.js';
import type { Snapshot, SnapshotStore } from './types.js';

/** What a backup holds. */
export interface BackupSummary {
  revision: number;
  keys: number;
  bytes: number;
}

/** Reads the store at one revision and returns the backup file's bytes. */
export async function backupBytes(store: SnapshotStore, source: string, now = new Date()): Promise<{ bytes: Buffer; summary: BackupSummary }> {
  const snapshot = await store.snapshot();
  const bytes = encodeBackup(snapshot, { store: store.kind, source }, now);
  return { bytes, summary: { revision: snapshot.revision, keys: snapshot.entries.length, bytes: bytes.length } };
}

/** Writes `bytes` to `path` atomically (temp file + rename), readable by the owner only. */
export function writeFileAtomic(path: string, bytes: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `backup ${path}: ${(err as Error).message}`);
  }
}

/** Backs the store up into `path`. */
export async function backupTo(store: SnapshotStore, source: string, path: string): Promise<BackupSummary> {
  const { bytes, summary } = await backupBytes(store, source);
  writeFileAtomic(path, bytes);
  return summary;
}

/** Reads and checks a backup file. */
export function readBackup(path: string): { header: BackupHeader; snapshot: Snapshot } {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `backup ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  return decodeBackup(bytes, path);
}

/** Scheduled backups are named `skiff-backup-<UTC time>-r<revision>.jsonl.gz`, so names sort by age. */
export function scheduledName(at: Date, revision: number): string {
  return `skiff-backup-${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}-r${revision}.jsonl.gz`;
}

/** Deletes all but the newest `keep` scheduled backups in `dir` (other files are left alone); returns what it deleted. */
export function pruneBackups(dir: string, keep: number): string[] {
  const ours = readdirSync(dir).filter((f) => /^skiff-backup-\d{8}T\d{6}Z-r\d+\.jsonl\.gz$/.test(f)).sort();
  const old = ours.slice(0, Math.max(0, ours.length - keep));
  for (const f of old) rmSync(join(dir, f), { force: true });
  return old;
}
