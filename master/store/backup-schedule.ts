/**
 * `skiff master --backup-schedule "0 3 * * *" --backup-dir DIR --backup-keep N`: a node-cron task
 * that backs the store up into DIR and keeps the newest N. Runs never overlap; a failed run is
 * logged and the next one tries again.
 */
import { join } from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../../protocol/log.js';
import { backupBytes, pruneBackups, scheduledName, writeFileAtomic, type BackupSummary } from './backup.js';
import type { SnapshotStore } from './types.js';

/** What a schedule needs. */
export interface BackupScheduleOptions {
  /** A cron expression (5 fields, or 6 with seconds first). */
  schedule: string;
  dir: string;
  keep: number;
  /** Where the store is (no password), recorded in each file. */
  source: string;
  log: Logger;
}

/** A running schedule. */
export interface BackupSchedule {
  /** Takes one backup now (what each tick does). */
  runOnce(): Promise<BackupSummary & { path: string }>;
  stop(): Promise<void>;
}

/** Starts scheduled backups of `store`. */
export function scheduleBackups(store: SnapshotStore, opts: BackupScheduleOptions): BackupSchedule {
  const { log } = opts;
  const runOnce = async () => {
    const now = new Date();
    const { bytes, summary } = await backupBytes(store, opts.source, now);
    const path = join(opts.dir, scheduledName(now, summary.revision));
    writeFileAtomic(path, bytes);
    const pruned = pruneBackups(opts.dir, opts.keep);
    log.info('scheduled backup written', { path, keys: summary.keys, revision: summary.revision, bytes: summary.bytes, pruned: pruned.length });
    return { ...summary, path };
  };
  const task: ScheduledTask = cron.schedule(
    opts.schedule,
    () => runOnce().then(
      () => undefined,
      (err: Error) => log.warn('scheduled backup failed; the next run tries again', { err }),
    ),
    { name: 'skiff-backup', noOverlap: true, unref: true },
  );
  return {
    runOnce,
    async stop() {
      await task.stop();
      await task.destroy();
    },
  };
}
