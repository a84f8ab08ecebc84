/**
 * Opening a store from where it lives: the master's (`openMasterStore(config, log)`: `--store`,
 * default SQLite in the data dir, with its scheduled backups) and the offline tools' (`openStoreAt`).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SkiffError } from '../../protocol/errors.js';
import type { Logger } from '../../protocol/log.js';
import type { MasterConfig } from '../config.js';
import { scheduleBackups, type BackupSchedule } from './backup-schedule.js';
import { openEtcdStore, type EtcdStoreOptions } from './etcd.js';
import { describeLocation, parseStoreUrl, sqliteAt, type StoreLocation } from './location.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import { DelegatingStore } from './delegating.js';
import type { SnapshotStore } from './types.js';
import type { WatchErrorHandler } from './watch-hub.js';

/** Options of openStoreAt. */
export interface OpenOptions {
  /** Refuse a SQLite data dir without a store file instead of creating one (backup and migrate sources). */
  mustExist?: boolean;
  sqlite?: SqliteStoreOptions;
  etcd?: EtcdStoreOptions;
}

/** Where a master's store is: `--store`, or SQLite in its data dir. */
export function storeLocation(config: Pick<MasterConfig, 'store' | 'dataDir' | 'etcd'>): StoreLocation {
  return config.store === '' ? sqliteAt(config.dataDir) : parseStoreUrl(config.store, config.etcd);
}

/** Opens the store at a location. */
export async function openStoreAt(loc: StoreLocation, options: OpenOptions = {}): Promise<SnapshotStore> {
  if (loc.kind === 'etcd') return openEtcdStore(loc, options.etcd);
  if (options.mustExist && !existsSync(loc.path)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `store: no store at ${loc.path} (is ${loc.dir} a Skiff data dir?)`);
  return openSqliteStore(loc.path, options.sqlite);
}

/** The store a master runs on, with its scheduled backups (which stop when it closes). `log` is the store's logger. */
export async function openMasterStore(config: Readonly<MasterConfig>, log: Logger, onWatchError: WatchErrorHandler): Promise<SnapshotStore> {
  const loc = storeLocation(config);
  const store = await openStoreAt(loc, { sqlite: { onWatchError }, etcd: { onWatchError, log } });
  if (config.backupSchedule === '') return store;
  const dir = config.backupDir || join(config.dataDir, 'backups');
  return new WithBackups(store, scheduleBackups(store, { schedule: config.backupSchedule, dir, keep: config.backupKeep, source: describeLocation(loc), log }));
}

/** A store whose close also stops its backup schedule. */
class WithBackups extends DelegatingStore {
  constructor(
    inner: SnapshotStore,
    readonly backups: BackupSchedule,
  ) {
    super(inner);
  }

  override async close(): Promise<void> {
    await this.backups.stop();
    await this.inner.close();
  }
}
