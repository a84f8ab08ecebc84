/**
 * The context of one admission: what one write — or one atomic apply of a whole file — is about to store,
 * and the quota charges it makes. Documents of one file share a batch, so each sees those before it (a
 * namespace the file creates, a quota an earlier pod charged, a clusterIP an earlier service took). The
 * charges are updates of the ResourceQuotas' status.used, expected at the revision they were read, written
 * in the same store transaction as the objects: a quota is never charged for an object that was not stored,
 * and two writers racing for the last unit of a quota cannot both win (one gets a conflict and admits again).
 * What admission lists (quotas, limit ranges) comes from the informers' cache when `reads` allows it
 * (object-reads.ts): a quota read there is copied before it is charged, and a stale one fails the same
 * compare-and-swap as a raced one.
 */
import { kindOf, kindPrefix, objectKey, type KObject, type LimitRange } from '../../protocol/index.js';
import type { ResourceQuota } from '../../protocol/index.js';
import type { CachedReads, ReadObject } from '../object-reads.js';
import type { Store, TxnOp } from '../store/types.js';

/** A ResourceQuota as read for this batch, with the charges made to it so far. */
export interface ChargedQuota {
  quota: ResourceQuota;
  key: string;
  modRevision: number;
  charged: boolean;
}

/** One admission's shared state. */
export class AdmissionBatch {
  /** Objects this batch is about to store, in order. */
  readonly pending: KObject[] = [];
  private readonly quotas = new Map<string, Promise<ChargedQuota[]>>();

  constructor(
    private readonly store: Store,
    /** A dry run: everything is checked, nothing will be written. */
    readonly dryRun = false,
    /** Where lists may come from the cache; without it, from the store. */
    private readonly reads?: CachedReads,
    /** Read from the store even with `reads` (a retry after a lost quota race). */
    private readonly fromStore = false,
  ) {}

  /** The objects of a kind admission reads in a namespace, from the cache when `reads` allows it, else from the store. */
  private async listed<T extends KObject>(kind: 'ResourceQuota' | 'LimitRange', namespace: string): Promise<ReadObject<T>[]> {
    if (this.reads) return this.reads.list<T>(kind, namespace, this.fromStore);
    const { entries } = await this.store.list<T>(kindPrefix(kindOf(kind), namespace));
    return entries.map((e) => ({ value: e.value, modRevision: e.modRevision, cached: false }));
  }

  /** The ResourceQuotas of a namespace as stored (or cached), with what this batch has charged to them. */
  quotasOf(namespace: string): Promise<ChargedQuota[]> {
    let p = this.quotas.get(namespace);
    if (!p) {
      const info = kindOf('ResourceQuota');
      p = this.listed<ResourceQuota>('ResourceQuota', namespace).then((read) =>
        // Charging writes into the quota: a cached one is shared, so it is charged on a copy.
        read.map((e) => ({ quota: e.cached ? structuredClone(e.value) : e.value, key: objectKey(info, namespace, e.value.metadata.name), modRevision: e.modRevision, charged: false })),
      );
      this.quotas.set(namespace, p);
    }
    return p;
  }

  /** The LimitRanges of a namespace as stored (or cached; shared then: never change them), then those this batch is about to store. */
  async limitRangesOf(namespace: string): Promise<LimitRange[]> {
    const read = await this.listed<LimitRange>('LimitRange', namespace);
    return [...read.map((e) => e.value), ...(this.pendingOf('LimitRange', namespace) as LimitRange[])];
  }

  /** Pending objects of a kind (in one namespace). */
  pendingOf(kind: string, namespace?: string): KObject[] {
    return this.pending.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
  }

  /** The writes this batch adds to its objects': every charged quota, expected unchanged since it was read. */
  async ops(): Promise<TxnOp[]> {
    const out: TxnOp[] = [];
    for (const list of this.quotas.values())
      for (const q of await list) if (q.charged) out.push({ op: 'update', key: q.key, value: q.quota, expectedModRevision: q.modRevision });
    return out;
  }
}
