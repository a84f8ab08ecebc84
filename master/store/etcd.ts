/**
 * The Store on etcd v3 (the `etcd3` client): the scale-out store, with the same contract as SQLite.
 * Every key lives under one root (`/skiff/registry/...`), so clusters can share an etcd; values are
 * JSON text, the same bytes SQLite keeps, readable with `etcdctl get`. The store revision is etcd's
 * own global revision (plus the root's offset, 0 unless a restore set it: see etcd-meta.ts):
 *
 * - create: a txn comparing create_revision = 0 (absent), then put;
 * - update / delete: a txn comparing create_revision > 0 and, when given, mod_revision = expected;
 * - every write also compares the root record's mod_revision (fencing after a restore);
 * - list: range pages pinned at the first page's revision (one consistent read);
 * - watch: etcd watch from a start revision with previous values (etcd-watch.ts);
 * - compact: etcd compaction (which is etcd-wide: it also trims other roots' history).
 */
import type { Etcd3, ICompare, IRequestOp, ITxnResponse } from 'etcd3';
import { SkiffError } from '../../protocol/errors.js';
import { silentLogger, type Logger } from '../../protocol/log.js';
import { etcdClient, isCompactedError, rawEntry, RootKeys, storeError, type EtcdConnectOptions, type RawEntry } from './etcd-client.js';
import { loadMeta, oldestReadableRevision, type RootMeta } from './etcd-meta.js';
import { EtcdWatch } from './etcd-watch.js';
import { checkKey, checkPrefix, checkRevision, toJson } from './keys.js';
import type { EtcdLocation } from './location.js';
import { restoreEtcd } from './etcd-restore.js';
import { checkTxn, txnOpError, type CheckedOp } from './txn.js';
import type { RestoreOptions, Snapshot, SnapshotStore, StoreEntry, TxnOp, TxnResult, Watch, WatchEvent } from './types.js';
import type { WatchErrorHandler } from './watch-hub.js';

/** Settings of an etcd store; all optional. */
export interface EtcdStoreOptions extends EtcdConnectOptions {
  /** Change history kept for watches, in revisions (etcd-wide); older history is compacted every compactIntervalMs. Default 10,000; Infinity: never (leave it to etcd's --auto-compaction-*). */
  retainRevisions?: number;
  /** How often to compact. Default 60 s (kube-apiserver: 5 min). */
  compactIntervalMs?: number;
  /** Keys per range page of a list. Default 500. */
  pageSize?: number;
  /** Receives whatever a watch callback throws. Default: a process warning (the master passes its logger). */
  onWatchError?: WatchErrorHandler;
  /** Where failed compactions and stopped watches without an onError are reported. Default: nowhere. */
  log?: Logger;
}

/** Opens the store under `loc.root` in the etcd cluster at `loc.hosts`, creating the root record if needed. */
export async function openEtcdStore(loc: EtcdLocation, options: EtcdStoreOptions = {}): Promise<EtcdStore> {
  const retain = options.retainRevisions ?? 10_000;
  if (retain !== Infinity && (!Number.isSafeInteger(retain) || retain < 0)) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: retainRevisions: must be an integer ≥ 0 or Infinity, got ${retain}`);
  }
  const client = etcdClient(loc, options);
  const keys = new RootKeys(loc.root);
  try {
    const { meta, modRevision, etcdRevision } = await loadMeta(client, keys);
    const oldest = await oldestReadableRevision(client, keys, etcdRevision);
    return new EtcdStore(loc, client, keys, meta, modRevision, etcdRevision, oldest, { ...options, retainRevisions: retain });
  } catch (err) {
    client.close();
    throw storeError(loc, err);
  }
}

/** The etcd implementation of Store. */
export class EtcdStore implements SnapshotStore {
  readonly kind = 'etcd';
  private closed = false;
  private readonly watches = new Set<Watch>();
  private readonly offset: number;
  /** Watches from below this store revision are refused as compacted. */
  private floor: number;
  /** The newest etcd revision this store has seen ("watch from now" starts after it). */
  private lastSeen: number;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly onWatchError: WatchErrorHandler;
  private readonly log: Logger;

  /** @internal use openEtcdStore */
  constructor(
    readonly location: EtcdLocation,
    private readonly client: Etcd3,
    readonly keys: RootKeys,
    readonly meta: RootMeta,
    /** The root record's etcd mod_revision, compared by every write. */
    private readonly metaModRevision: number,
    etcdRevision: number,
    oldestReadable: number,
    private readonly options: EtcdStoreOptions & { retainRevisions: number },
  ) {
    this.offset = meta.revisionOffset;
    this.lastSeen = etcdRevision;
    this.floor = Math.max(meta.restoredRevision, oldestReadable > 0 ? oldestReadable + this.offset : 0);
    this.onWatchError = options.onWatchError ?? ((err) => process.emitWarning(`store: a watch callback threw: ${(err as Error)?.stack ?? err}`));
    this.log = options.log ?? silentLogger;
    if (options.retainRevisions !== Infinity) {
      this.timer = setInterval(() => void this.autoCompact(), options.compactIntervalMs ?? 60_000);
      this.timer.unref();
    }
  }

  async get<T = unknown>(key: string): Promise<StoreEntry<T> | undefined> {
    this.checkOpen();
    checkKey(key);
    const res = await this.call(() => this.client.kv.range({ key: this.keys.key(key) }));
    const kv = res.kvs[0];
    return kv && toEntry<T>(rawEntry(this.keys, kv, this.offset));
  }

  async list<T = unknown>(prefix: string): Promise<{ entries: StoreEntry<T>[]; revision: number }> {
    const { raw, revision } = await this.listRaw(prefix);
    return { entries: raw.map((e) => toEntry<T>(e)), revision };
  }

  /** Every key under a prefix with its JSON text, read at one revision (pages pinned to the first page's revision). */
  async listRaw(prefix: string): Promise<{ raw: RawEntry[]; revision: number }> {
    this.checkOpen();
    checkPrefix(prefix);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call(() => this.pages(prefix));
      } catch (err) {
        // The pinned revision was compacted between two pages: read again at a newer one.
        if (!isCompactedError(err) || attempt >= 2) throw storeError(this.location, err);
      }
    }
  }

  async create<T = unknown>(key: string, value: T): Promise<StoreEntry<T>> {
    this.checkOpen();
    checkKey(key);
    const text = toJson(key, value);
    const k = this.keys.key(key);
    const res = await this.exec(key, [{ key: k, target: 'Create', result: 'Equal', create_revision: 0 }], [{ request_put: { key: k, value: Buffer.from(text) } }], [k]);
    if (!res.succeeded) {
      const cur = res.responses[0]!.response_range.kvs[0];
      throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `store: ${key}: already exists (modRevision ${cur ? Number(cur.mod_revision) + this.offset : '?'})`);
    }
    const revision = Number(res.header.revision) + this.offset;
    return { key, value: JSON.parse(text) as T, createRevision: revision, modRevision: revision };
  }

  async update<T = unknown>(key: string, value: T, expectedModRevision?: number): Promise<StoreEntry<T>> {
    this.checkOpen();
    checkKey(key);
    checkRevision(expectedModRevision, 'expectedModRevision');
    const text = toJson(key, value);
    const k = this.keys.key(key);
    const res = await this.exec(key, this.existing(k, expectedModRevision), [{ request_put: { key: k, value: Buffer.from(text), prev_kv: true } }], [k]);
    if (!res.succeeded) this.refused(key, res, expectedModRevision);
    const prev = res.responses[0]!.response_put.prev_kv;
    return { key, value: JSON.parse(text) as T, createRevision: Number(prev.create_revision) + this.offset, modRevision: Number(res.header.revision) + this.offset };
  }

  async delete<T = unknown>(key: string, expectedModRevision?: number): Promise<StoreEntry<T>> {
    this.checkOpen();
    checkKey(key);
    checkRevision(expectedModRevision, 'expectedModRevision');
    const k = this.keys.key(key);
    const res = await this.exec(key, this.existing(k, expectedModRevision), [{ request_delete_range: { key: k, prev_kv: true } }], [k]);
    if (!res.succeeded) this.refused(key, res, expectedModRevision);
    return toEntry<T>(rawEntry(this.keys, res.responses[0]!.response_delete_range.prev_kvs[0]!, this.offset));
  }

  async txn(ops: readonly TxnOp[]): Promise<TxnResult> {
    this.checkOpen();
    const checked = checkTxn(ops);
    const keys = checked.map((o) => this.keys.key(o.key));
    const compare: ICompare[] = [];
    const success: IRequestOp[] = checked.map((o, i) => {
      const k = keys[i]!;
      if (o.op === 'create') {
        compare.push({ key: k, target: 'Create', result: 'Equal', create_revision: 0 });
        return { request_put: { key: k, value: Buffer.from(o.text!) } };
      }
      compare.push(...this.existing(k, o.expected));
      return o.op === 'update' ? { request_put: { key: k, value: Buffer.from(o.text!), prev_kv: true } } : { request_delete_range: { key: k, prev_kv: true } };
    });
    const res = await this.exec(`txn of ${checked.length} ops`, compare, success, keys);
    if (!res.succeeded) throw this.txnRefused(checked, res);
    const revision = Number(res.header.revision) + this.offset;
    const entries = checked.map((o, i): StoreEntry => {
      const r = res.responses[i]!;
      if (o.op === 'delete') return toEntry(rawEntry(this.keys, r.response_delete_range.prev_kvs[0]!, this.offset));
      const created = o.op === 'create' ? revision : Number(r.response_put.prev_kv.create_revision) + this.offset;
      return { key: o.key, value: JSON.parse(o.text!), createRevision: created, modRevision: revision };
    });
    return { revision, entries };
  }

  watch<T = unknown>(prefix: string, fromRevision: number | undefined, onEvent: (e: WatchEvent<T>) => void, onError?: (err: SkiffError) => void): Watch {
    this.checkOpen();
    checkPrefix(prefix);
    checkRevision(fromRevision, 'fromRevision');
    if (typeof onEvent !== 'function') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'store: watch: onEvent must be a function');
    if (fromRevision !== undefined && fromRevision < this.floor) throw this.compactedError(prefix, fromRevision);
    const start = fromRevision === undefined ? this.lastSeen + 1 : fromRevision + 1 - this.offset;
    const ctx = {
      client: this.client,
      keys: this.keys,
      offset: this.offset,
      onWatchError: this.onWatchError,
      log: this.log,
      seen: (rev: number) => (this.lastSeen = Math.max(this.lastSeen, rev)),
      explainCancel: (p: string, resumeAt: number, err: unknown) => this.explainCancel(p, resumeAt, err),
    };
    const w = new EtcdWatch(ctx, prefix, start, onEvent as (e: WatchEvent<unknown>) => void, onError);
    const handle: Watch = {
      close: () => {
        this.watches.delete(handle);
        w.close();
      },
    };
    this.watches.add(handle);
    return handle;
  }

  async revision(): Promise<number> {
    this.checkOpen();
    const res = await this.call(() => this.client.kv.range({ key: this.keys.meta, count_only: true }));
    this.lastSeen = Math.max(this.lastSeen, Number(res.header.revision));
    return Number(res.header.revision) + this.offset;
  }

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    checkRevision(revision, 'revision');
    const current = await this.revision();
    if (revision > current) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `store: compact: revision ${revision} is in the future (current ${current})`);
    if (revision <= this.floor) return;
    const etcdRevision = revision - this.offset;
    if (etcdRevision > 1) {
      await this.call(() => this.client.kv.compact({ revision: etcdRevision })).catch((err: SkiffError) => {
        // Someone (another master, etcd's own auto-compaction) compacted further already.
        if (!isCompactedError(err)) throw err;
      });
    }
    this.floor = Math.max(this.floor, revision);
  }

  async snapshot(): Promise<Snapshot> {
    const { raw, revision } = await this.listRaw('');
    return { revision, entries: raw };
  }

  async count(): Promise<number> {
    this.checkOpen();
    const { start, end } = this.keys.range('');
    return Number((await this.call(() => this.client.kv.range({ key: start, range_end: end, count_only: true }))).count);
  }

  /** Loads a snapshot (etcd-restore.ts), then closes this store: its revision offset is no longer the root's. */
  async restore(snapshot: Snapshot, options?: RestoreOptions): Promise<{ revision: number }> {
    this.checkOpen();
    try {
      return await this.call(() => restoreEtcd(this.client, this.keys, snapshot, options));
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const w of [...this.watches]) w.close();
    this.client.close();
  }

  /** The etcd client (restore and tests). */
  get etcd(): Etcd3 {
    return this.client;
  }

  /**
   * The leader's fence (master/ha/election.ts): while set, every write also compares the election key's
   * create_revision, so a master that lost its lease (the key is gone, or another's) writes nothing more.
   */
  private fence?: { key: Buffer; createRevision: number };

  /** Sets (or clears) the fence every write carries from now on. */
  setFence(fence: { key: Buffer; createRevision: number } | undefined): void {
    this.fence = fence;
  }

  // One etcd Txn: the keys' compares plus the fence on the root record (and the leader's fence); on failure, read
  // the keys, the record and the election key.
  private async exec(what: string, compare: ICompare[], success: IRequestOp[], keys: Buffer[]): Promise<ITxnResponse> {
    const fence = this.fence;
    const res = await this.call(() =>
      this.client.kv.txn({
        compare: [
          ...compare,
          { key: this.keys.meta, target: 'Mod', result: 'Equal', mod_revision: this.metaModRevision },
          ...(fence ? [{ key: fence.key, target: 'Create', result: 'Equal', create_revision: fence.createRevision } as ICompare] : []),
        ],
        success,
        failure: [...keys.map((k) => ({ request_range: { key: k } })), { request_range: { key: this.keys.meta } }, ...(fence ? [{ request_range: { key: fence.key } }] : [])],
      }),
    );
    this.lastSeen = Math.max(this.lastSeen, Number(res.header.revision));
    if (!res.succeeded) {
      const held = fence && res.responses[keys.length + 1]?.response_range.kvs[0];
      if (fence && (!held || Number(held.create_revision) !== fence.createRevision))
        throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: ${what}: this master lost its leadership (its election key is gone); the write was fenced off`);
      const meta = res.responses[keys.length]?.response_range.kvs[0];
      if (!meta || Number(meta.mod_revision) !== this.metaModRevision) {
        throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: ${what}: the etcd root ${this.keys.root} was restored or wiped after this store opened; restart the master`);
      }
    }
    return res;
  }

  // Compares of update/delete: the key exists and, when asked, has the expected modRevision.
  private existing(k: Buffer, expected: number | undefined): ICompare[] {
    const compare: ICompare[] = [{ key: k, target: 'Create', result: 'Greater', create_revision: 0 }];
    if (expected !== undefined) compare.push({ key: k, target: 'Mod', result: 'Equal', mod_revision: expected - this.offset });
    return compare;
  }

  // The first op of a refused transaction that could not apply, judged on the keys as read in the same revision.
  private txnRefused(ops: CheckedOp[], res: ITxnResponse): SkiffError {
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i]!;
      const cur = res.responses[i]!.response_range.kvs[0];
      const mod = cur ? Number(cur.mod_revision) + this.offset : 0;
      if (o.op === 'create') {
        if (cur) return txnOpError(i, 'SKIFF_ERR_ALREADY_EXISTS', `${o.key}: already exists (modRevision ${mod})`);
      } else if (!cur) return txnOpError(i, 'SKIFF_ERR_NOT_FOUND', `${o.key}: not found`);
      else if (o.expected !== undefined && mod !== o.expected) return txnOpError(i, 'SKIFF_ERR_CONFLICT', `${o.key}: modRevision is ${mod}, expected ${o.expected}`);
    }
    return new SkiffError('SKIFF_ERR_CONFLICT', 'store: txn: refused, and no op explains why; try again');
  }

  private refused(key: string, res: ITxnResponse, expected: number | undefined): never {
    const cur = res.responses[0]!.response_range.kvs[0];
    if (!cur) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `store: ${key}: not found`);
    throw new SkiffError('SKIFF_ERR_CONFLICT', `store: ${key}: modRevision is ${Number(cur.mod_revision) + this.offset}, expected ${expected}`);
  }

  private async pages(prefix: string): Promise<{ raw: RawEntry[]; revision: number }> {
    const { start, end } = this.keys.range(prefix);
    const pageSize = this.options.pageSize ?? 500;
    const raw: RawEntry[] = [];
    let from = start;
    let pinned = 0;
    for (;;) {
      const res = await this.client.kv.range({ key: from, range_end: end, limit: pageSize, revision: pinned });
      if (pinned === 0) pinned = Number(res.header.revision);
      for (const kv of res.kvs) raw.push(rawEntry(this.keys, kv, this.offset));
      if (!res.more || res.kvs.length === 0) break;
      // The next page starts just after the last key of this one.
      from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    this.lastSeen = Math.max(this.lastSeen, pinned);
    return { raw, revision: pinned + this.offset };
  }

  private async explainCancel(prefix: string, resumeAt: number, err: unknown): Promise<SkiffError> {
    const current = Number((await this.client.kv.range({ key: this.keys.meta, count_only: true })).header.revision);
    const oldest = await oldestReadableRevision(this.client, this.keys, current);
    if (oldest > 0) this.floor = Math.max(this.floor, oldest + this.offset);
    if (oldest > resumeAt) return this.compactedError(prefix, resumeAt - 1 + this.offset);
    return storeError(this.location, err);
  }

  private compactedError(prefix: string, fromRevision: number): SkiffError {
    return new SkiffError(
      'SKIFF_ERR_CONFLICT',
      `store: watch ${JSON.stringify(prefix)} from revision ${fromRevision}: history up to revision ${this.floor} was compacted; list again and watch from the list's revision`,
    );
  }

  private async autoCompact(): Promise<void> {
    if (this.closed) return;
    try {
      const target = (await this.revision()) - this.options.retainRevisions;
      if (target > this.floor) await this.compact(target);
    } catch (err) {
      if (!this.closed) this.log.warn('compaction failed; the next interval tries again', { root: this.keys.root, err });
    }
  }

  private async call<R>(fn: () => Promise<R>): Promise<R> {
    try {
      return await fn();
    } catch (err) {
      if (this.closed) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: etcd ${this.keys.root}: closed`);
      throw storeError(this.location, err);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `store: etcd ${this.keys.root}: closed`);
  }
}

function toEntry<T>(e: RawEntry): StoreEntry<T> {
  return { key: e.key, value: JSON.parse(e.text) as T, createRevision: e.createRevision, modRevision: e.modRevision };
}
