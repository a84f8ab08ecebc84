/**
 * The meta record of a root: the value of the root's own key (`/skiff`), JSON, written on first
 * open and by restore. It holds the format version (a newer one is refused, not misread), the
 * revision offset (store revision = etcd revision + offset; 0 until a restore or migration sets
 * it, see docs/state.md) and the revision a restore left the root at (history before it is gone).
 * Every write of the store compares the record's mod_revision, so a master still running on a root
 * that was restored underneath it fails its writes instead of mixing two histories.
 */
import type { Etcd3, IKeyValue } from 'etcd3';
import { SkiffError } from '../../protocol/errors.js';
import { isCompactedError, isFutureRevisionError, type RootKeys } from './etcd-client.js';

/** The value of the root key. */
export interface RootMeta {
  format: 'skiff-etcd-store';
  version: number;
  /** Added to etcd's revisions to give the store's revisions. */
  revisionOffset: number;
  /** The store revision a restore left the root at; watches from before it are refused as compacted. 0: never restored. */
  restoredRevision: number;
  /** Set while a restore writes its keys; the root is unusable until the restore's last write clears it. */
  restoring?: boolean;
}

/** The meta format this Skiff writes and reads. */
export const metaVersion = 1;

/** A fresh root's meta. */
export function freshMeta(): RootMeta {
  return { format: 'skiff-etcd-store', version: metaVersion, revisionOffset: 0, restoredRevision: 0 };
}

/** The meta record as read, with the etcd revisions that fence writes against it. */
export interface LoadedMeta {
  meta: RootMeta;
  /** etcd mod_revision of the root key: every data write compares it. */
  modRevision: number;
  /** etcd's revision when it was read. */
  etcdRevision: number;
}

/** Reads the root's meta record, creating it (compare create_revision = 0) when absent. */
export async function loadMeta(client: Etcd3, keys: RootKeys): Promise<LoadedMeta> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const res = await client.kv.txn({
      compare: [{ key: keys.meta, target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: keys.meta, value: Buffer.from(JSON.stringify(freshMeta())) } }],
      failure: [{ request_range: { key: keys.meta } }],
    });
    const etcdRevision = Number(res.header.revision);
    if (res.succeeded) return { meta: freshMeta(), modRevision: etcdRevision, etcdRevision };
    const kv = res.responses[0]?.response_range.kvs[0];
    // Deleted between the compare and the read (a wipe): try again.
    if (kv) return { meta: parseMeta(keys.root, kv), modRevision: Number(kv.mod_revision), etcdRevision };
  }
  throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: etcd root ${keys.root}: its meta record keeps disappearing; is something deleting it?`);
}

/** Parses and checks a meta record; throws SKIFF_ERR_INTERNAL for a foreign, newer or half-restored root. */
export function parseMeta(root: string, kv: IKeyValue): RootMeta {
  let meta: RootMeta;
  try {
    meta = JSON.parse(kv.value.toString('utf8')) as RootMeta;
  } catch {
    throw new SkiffError('SKIFF_ERR_INTERNAL', `store: etcd key ${root} is not a Skiff root record; pick another root (etcd://HOSTS/OTHER)`);
  }
  if (meta?.format !== 'skiff-etcd-store' || !Number.isSafeInteger(meta.revisionOffset) || !Number.isSafeInteger(meta.restoredRevision)) {
    throw new SkiffError('SKIFF_ERR_INTERNAL', `store: etcd key ${root} is not a Skiff root record; pick another root (etcd://HOSTS/OTHER)`);
  }
  if (meta.version > metaVersion) throw new SkiffError('SKIFF_ERR_INTERNAL', `store: etcd root ${root}: format version ${meta.version} is newer than this Skiff's ${metaVersion}`);
  if (meta.restoring) {
    throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: etcd root ${root}: a restore into it did not finish; run "skiff restore FILE --store ... --force" again`);
  }
  return meta;
}

/**
 * The oldest etcd revision still readable, or 0 when nothing was compacted. etcd has no call that
 * says how far it compacted, so this bisects with ranges at a revision (log2(current) calls, a few
 * milliseconds at open and after a watch was cancelled).
 */
export async function oldestReadableRevision(client: Etcd3, keys: RootKeys, current: number): Promise<number> {
  const readable = async (rev: number): Promise<boolean> => {
    try {
      await client.kv.range({ key: keys.meta, revision: rev, count_only: true });
      return true;
    } catch (err) {
      if (isCompactedError(err)) return false;
      if (isFutureRevisionError(err)) return true;
      throw err;
    }
  };
  if (current <= 1 || (await readable(1))) return 0;
  let lo = 1; // not readable
  let hi = current; // readable: the current revision always is
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (await readable(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
