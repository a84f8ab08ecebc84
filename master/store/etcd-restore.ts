/**
 * Loading a snapshot into an etcd root. etcd cannot set revisions, so the root's revision offset
 * does it (docs/state.md, "Restore semantics"):
 *
 * 1. (force) delete the root's keys; mark the root record `restoring` (etcd revision e);
 * 2. write the keys oldest-modRevision first, up to 128 per txn (etcd's --max-txn-ops), in G txns;
 * 3. the last txn also writes the record with offset O = target − (e + G) and `restoring` cleared.
 *
 * With nothing else writing to that etcd, the txns take e+1 … e+G, so the keys get store revisions
 * target−G+1 … target and the store stands at exactly `target`. Every key's new modRevision is ≥ its
 * old one (the i-th oldest of N keys had at most target−(N−i)), so a client holding an old
 * resourceVersion gets a conflict, never a silent overwrite. Writes of other roots in between only
 * push the numbers up. A crash half-way leaves `restoring` set, which every open refuses.
 */
import type { Etcd3, IRequestOp } from 'etcd3';
import { SkiffError } from '../../protocol/errors.js';
import type { RootKeys } from './etcd-client.js';
import { freshMeta, type RootMeta } from './etcd-meta.js';
import type { RestoreOptions, Snapshot, SnapshotEntry } from './types.js';

/** etcd's default --max-txn-ops. */
const maxOpsPerTxn = 128;
/** Stay well under etcd's default --max-request-bytes (1.5 MiB). */
const maxBytesPerTxn = 1024 * 1024;

/** Loads a snapshot into the root; refuses a root with keys unless `force`. Returns the store revision reached. */
export async function restoreEtcd(client: Etcd3, keys: RootKeys, snapshot: Snapshot, options: RestoreOptions = {}): Promise<{ revision: number }> {
  const target = snapshot.revision + (options.bumpRevision ?? 0);
  const all = keys.range('');
  const existing = Number((await client.kv.range({ key: all.start, range_end: all.end, count_only: true })).count);
  if (existing > 0 && !options.force) {
    throw new SkiffError('SKIFF_ERR_CONFLICT', `store: etcd root ${keys.root}: holds ${existing} keys; restore into an empty store, or pass --force to replace them`);
  }
  if (existing > 0) await client.kv.deleteRange({ key: all.start, range_end: all.end });

  const groups = batches([...snapshot.entries].sort((a, b) => a.modRevision - b.modRevision), keys);
  const marked = await client.kv.put({ key: keys.meta, value: metaBytes({ ...freshMeta(), restoring: true }) });
  const offset = target - (Number(marked.header.revision) + Math.max(groups.length, 1));
  const final: RootMeta = { ...freshMeta(), revisionOffset: offset, restoredRevision: target };

  let written = 0;
  const total = snapshot.entries.length;
  for (let g = 0; g < Math.max(groups.length, 1); g++) {
    const ops = groups[g] ?? [];
    const last = g >= groups.length - 1;
    const success: IRequestOp[] = ops.map((e) => ({ request_put: { key: keys.key(e.key), value: Buffer.from(e.text) } }));
    if (last) success.push({ request_put: { key: keys.meta, value: metaBytes(final) } });
    const res = await client.kv.txn({ success });
    if (last) {
      options.onProgress?.(total, total);
      return { revision: Number(res.header.revision) + offset };
    }
    written += ops.length;
    options.onProgress?.(written, total);
  }
  throw new Error('unreachable');
}

// Consecutive groups within etcd's per-txn limits; the last leaves room for the root record.
function batches(entries: SnapshotEntry[], keys: RootKeys): SnapshotEntry[][] {
  const groups: SnapshotEntry[][] = [];
  let group: SnapshotEntry[] = [];
  let bytes = 0;
  for (const e of entries) {
    const size = Buffer.byteLength(keys.root + e.key) + Buffer.byteLength(e.text) + 64;
    if (group.length > 0 && (group.length >= maxOpsPerTxn - 1 || bytes + size > maxBytesPerTxn)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(e);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

function metaBytes(meta: RootMeta): Buffer {
  return Buffer.from(JSON.stringify(meta));
}
