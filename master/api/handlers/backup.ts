/**
 * `backup {}` (admin only): the online backup. The master reads its store at one revision (SQLite:
 * one read transaction beside the writer; etcd: a range pinned at one revision) and streams the
 * bytes of a backup file (master/store/backup-file.ts) as base64 `chunk`s, then
 * `{result: {revision, keys, bytes}}`, then `done`. `skiff backup FILE` writes them to FILE.
 */
import { SkiffError, type ApiRequest } from '../../../protocol/index.js';
import { backupBytes } from '../../store/backup.js';
import type { SnapshotStore } from '../../store/types.js';
import { STREAMING, type ApiCall, type ApiContext } from '../types.js';

/** Raw bytes per chunk (base64 makes them a third larger): well under any broker's message limit. */
const chunkBytes = 192 * 1024;

/** Streams a backup of the whole store. */
export async function backup(ctx: ApiContext, _req: ApiRequest, call: ApiCall): Promise<typeof STREAMING> {
  const store = ctx.objects.store as Partial<SnapshotStore>;
  if (typeof store.snapshot !== 'function' || !store.kind) throw new SkiffError('SKIFF_ERR_INTERNAL', 'backup: this store cannot be read whole');
  const { bytes, summary } = await backupBytes(store as SnapshotStore, `${store.kind} store of a running master (API backup)`);
  for (let at = 0; at < bytes.length; at += chunkBytes) call.send({ chunk: bytes.subarray(at, at + chunkBytes).toString('base64') });
  call.send({ result: summary });
  call.end();
  return STREAMING;
}
