/**
 * The object layer (the API server's role): typed objects on top of the Store. It owns server-side
 * metadata (uid, resourceVersion = the store's modRevision, generation, creationTimestamp), apply
 * semantics (created / configured / unchanged), optimistic-concurrency retries, and graceful pod
 * deletion. Everything that writes objects goes through here.
 */
import { randomUUID } from 'node:crypto';
import { Checker, SkiffError, applyDefaults, checkObjectSize, checkPodCounts, defaultMaxReplicas, keyBytesAtMost, kindOf, objectKey, kindPrefix, scalarBytesAtMost, type KindInfo, type KindMap, type KindName, type KObject, type Namespace, type Pod } from '../protocol/index.js';
import { AdmissionBatch } from './admission/batch.js';
import type { AdmissionPlugin } from './admission/types.js';
import { applyOne, type Applied, type ApplyOptions } from './apply.js';
import { isoNow, realClock, type Clock } from './clock.js';
import type { Store, StoreEntry, TxnOp } from './store/types.js';
import { isDiskFull } from './disk.js';
import { jsonCopy, jsonEqual, writeCheck } from './json-value.js';
import { CachedReads, fenceOf, type ObjectCache } from './object-reads.js';
import { randomSuffix } from './name-suffix.js';

export type { Applied, ApplyOptions } from './apply.js';
export type { ObjectCache } from './object-reads.js';
export { randomSuffix } from './name-suffix.js';

/** How many times a read-modify-write is retried on a resourceVersion conflict. */
const conflictRetries = 20;

/** How many names a generateName create tries before giving up (Kubernetes' apiserver retries too). */
const generateNameTries = 8;

/** The most a generation bump adds to an object's JSON bytes (protocol/limits.ts's bound of a `generation` key and a number). */
const generationBytes = keyBytesAtMost('generation') + scalarBytesAtMost(0);

/** The free-space guard of the data dir (disk.ts): growth refused when low, a reserve to give up when full. */
export interface SpaceGuard {
  admitGrowth(what: string): void;
  release(): boolean;
}

/** What the object layer enforces beyond each kind's rules. */
export interface ObjectsOptions {
  /** The most pods one object may ask for (spec.replicas, parallelism, ...): the master's --max-replicas. */
  maxReplicas?: number;
  /** Refuses creates and applies on a nearly full disk; without it, nothing is refused for space. */
  disk?: SpaceGuard;
  /** Stamps creationTimestamp and deletionTimestamp; the real clock by default (tests pass a fake one). */
  clock?: Clock;
  /** Draws generateName suffixes; randomSuffix by default (tests pass one that collides on purpose). */
  nameSuffix?: () => string;
  /**
   * The informers' cache: mutate's current object and admission's Namespace, ResourceQuotas and LimitRanges are read
   * from it when it has them, exactly as from the store (object-reads.ts); without it, every read goes to the store.
   */
  cache?: ObjectCache;
}

/** Stamps the store revision into the object's resourceVersion. */
function withVersion<T extends KObject>(e: StoreEntry<T>): T {
  applyDefaults(e.value).metadata.resourceVersion = String(e.modRevision);
  return e.value;
}

/** A per-kind step of apply that fills server-allocated fields (Services: master/services/allocate.ts). */
export interface Admission {
  readonly kind: string;
  /** Runs an admission and its write after every earlier one, so allocations never collide. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** The object to write; throws SKIFF_ERR_VALIDATION naming the field. `pending`: objects the same apply is about to store. */
  admit(next: KObject, current: KObject | undefined, pending: readonly KObject[]): Promise<KObject>;
}

/** `deployments.apps`: a kind's plural with its group, as Kubernetes names it in messages. */
export function qualifiedPlural(info: KindInfo): string {
  return info.plural + (info.apiVersion.includes('/') ? '.' + info.apiVersion.split('/')[0] : '');
}

/** What a validating admission step says of an object it lets through: warnings for the client, notes for the audit log. */
export interface AdmissionNotes {
  warnings?: string[];
  audit?: string[];
}

/**
 * A validating admission step (Pod Security): sees every object created or applied, after defaults and the
 * mutating admissions, and refuses it by throwing (a SkiffError naming the rule) or lets it through with notes.
 */
export interface Validator {
  validate(next: KObject, current: KObject | undefined): Promise<AdmissionNotes | undefined>;
}

/** Typed object access over the store. */
export class Objects {
  private readonly admissions = new Map<string, Admission>();
  private readonly plugins: AdmissionPlugin[] = [];
  /** The most pods one object may ask for (see ObjectsOptions). */
  readonly maxReplicas: number;
  private readonly disk?: SpaceGuard;
  private readonly validators: Validator[] = [];
  /** What creationTimestamp and deletionTimestamp read. */
  readonly clock: Clock;
  private readonly nameSuffix: () => string;
  /** The reads the informers' cache answers (object-reads.ts). */
  readonly reads: CachedReads;

  constructor(
    readonly store: Store,
    options: ObjectsOptions = {},
  ) {
    this.maxReplicas = options.maxReplicas ?? defaultMaxReplicas;
    this.disk = options.disk;
    this.clock = options.clock ?? realClock;
    this.nameSuffix = options.nameSuffix ?? randomSuffix;
    this.reads = new CachedReads(store, options.cache);
  }

  /**
   * Runs one store write; when it fails because the disk is full, gives up the disk reserve and tries
   * once more (so a delete frees space), else reports SKIFF_ERR_UNAVAILABLE naming the disk.
   */
  private async stored<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (!isDiskFull(err)) throw err;
      if (this.disk?.release()) return this.stored(write);
      throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `the store's disk is full (${(err as Error).message}): delete objects or free space on the disk`);
    }
  }

  /**
   * The pod-count rule for a change that does not come through apply (scale): throws
   * SKIFF_ERR_VALIDATION naming the field, exactly as apply would.
   */
  checkPodCounts(o: KObject): void {
    const info = kindOf(o.kind);
    const c = new Checker(`${info.kind}/${o.metadata.name}`);
    checkPodCounts(c, info.podCounts, o, this.maxReplicas);
    c.throwIfAny();
  }

  /** Adds the admission step of a kind (master/index.ts wires them). */
  addAdmission(a: Admission): void {
    this.admissions.set(a.kind, a);
  }

  /** Adds a validating admission step, run on every create and apply after the others. */
  addValidator(v: Validator): void {
    this.validators.push(v);
  }

  /** Runs the validators; throws the first refusal, else gathers their notes. */
  async validate(next: KObject, current: KObject | undefined): Promise<AdmissionNotes> {
    const notes: Required<AdmissionNotes> = { warnings: [], audit: [] };
    for (const v of this.validators) {
      const n = await v.validate(next, current);
      notes.warnings.push(...(n?.warnings ?? []));
      notes.audit.push(...(n?.audit ?? []));
    }
    return notes;
  }

  /** The store key of an object. */
  key(kind: string | KindInfo, namespace: string | undefined, name: string): string {
    return objectKey(typeof kind === 'string' ? kindOf(kind) : kind, namespace, name);
  }

  /** One object, or undefined. */
  get<K extends KindName>(kind: K, namespace: string | undefined, name: string): Promise<KindMap[K] | undefined>;
  get(kind: string, namespace: string | undefined, name: string): Promise<KObject | undefined>;
  async get(kind: string, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    const e = await this.store.get<KObject>(this.key(kind, namespace, name));
    return e ? withVersion(e) : undefined;
  }

  /** One object, or SKIFF_ERR_NOT_FOUND with the kubectl wording. */
  mustGet<K extends KindName>(kind: K, namespace: string | undefined, name: string): Promise<KindMap[K]>;
  mustGet(kind: string, namespace: string | undefined, name: string): Promise<KObject>;
  async mustGet(kind: string, namespace: string | undefined, name: string): Promise<KObject> {
    const o = await this.get(kind, namespace, name);
    if (!o) throw notFound(kindOf(kind), namespace, name);
    return o;
  }

  /** The store's current revision (a consistent read from the cache waits for the cache to reach it). */
  revision(): Promise<number> {
    return this.store.revision();
  }

  /**
   * Without waiting, when the store can tell: a revision no read or acknowledged write has gone past (Store
   * `revealedRevision`); a consistent read from the cache may wait for the cache to reach this instead of `revision()`.
   */
  revealedRevision(): number | undefined {
    return this.store.revealedRevision?.();
  }

  /** Every object of a kind (in one namespace, or all). */
  list<K extends KindName>(kind: K, namespace?: string): Promise<{ items: KindMap[K][]; revision: number }>;
  list(kind: string, namespace?: string): Promise<{ items: KObject[]; revision: number }>;
  async list(kind: string, namespace?: string): Promise<{ items: KObject[]; revision: number }> {
    const info = kindOf(kind);
    const { entries, revision } = await this.store.list<KObject>(kindPrefix(info, namespace));
    return { items: entries.map(withVersion), revision };
  }

  /**
   * Creates an object, filling server metadata (`generateName` gets a random suffix), admitted as every
   * create is (LimitRange defaults, quota: a quota refusal is SKIFF_ERR_FORBIDDEN), then validated
   * (controllers creating pods meet Pod Security as users do). A quota charged by someone else meanwhile
   * means admitting again.
   */
  async create<T extends KObject>(obj: T): Promise<T> {
    const info = kindOf(obj.kind);
    const generated = !obj.metadata.name && !!obj.metadata.generateName;
    this.disk?.admitGrowth(`${info.kind}/${obj.metadata.name || obj.metadata.generateName || '?'}`);
    for (let attempt = 1; ; attempt++) {
      // A retry after a lost quota race reads the quotas from the store: the cache may not have the winner's charge yet.
      const batch = new AdmissionBatch(this.store, false, this.reads, attempt > 1);
      // Kubernetes generates the name before admission, so a refusal names a pod: prepareCreate draws it.
      const o = await this.prepareCreate(obj, batch);
      await this.validate(o, undefined);
      try {
        const [e] = await this.commit([{ op: 'create', key: this.key(info, o.metadata.namespace, o.metadata.name), value: o }], batch);
        return withVersion(e as StoreEntry<T>);
      } catch (err) {
        if (!(err instanceof SkiffError)) throw err;
        const mine = !err.details?.[0] || err.details[0].field === 'ops[0]';
        // Five random characters collide now and then among thousands of pods: draw again.
        if (err.code === 'SKIFF_ERR_ALREADY_EXISTS' && mine) {
          if (!generated || attempt >= generateNameTries) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `${info.plural} "${o.metadata.name}" already exists`);
        } else if (!((err.code === 'SKIFF_ERR_CONFLICT' || err.code === 'SKIFF_ERR_NOT_FOUND') && !mine && attempt < conflictRetries)) throw err;
      }
    }
  }

  /**
   * Read-modify-write with retries on conflict. `fn` gets a fresh copy and returns the new object,
   * or undefined to leave it unchanged. Bumps generation when the spec changes. Returns the result
   * (or the unchanged object); undefined when the object does not exist. The first read comes from the
   * informers' cache when it has the object (the write is a compare-and-swap on its modRevision, so a stale copy
   * only costs a retry, read from the store); "unchanged" is only ever concluded on the stored object.
   */
  mutate<K extends KindName>(kind: K, namespace: string | undefined, name: string, fn: Mutation<KindMap[K]>): Promise<KindMap[K] | undefined>;
  mutate(kind: string, namespace: string | undefined, name: string, fn: Mutation<KObject>): Promise<KObject | undefined>;
  async mutate(kind: string, namespace: string | undefined, name: string, fn: Mutation<KObject>): Promise<KObject | undefined> {
    const info = kindOf(kind);
    const key = this.key(info, namespace, name);
    let cached = this.reads.cached(info.kind, namespace, name);
    for (let i = 0; i < conflictRetries; i++) {
      const e = cached ? { value: cached, modRevision: Number(cached.metadata.resourceVersion) } : await this.store.get<KObject>(key);
      const fromCache = cached !== undefined;
      cached = undefined;
      if (!e) return undefined;
      // The cache's object is shared (and already defaulted): fn only ever sees a copy.
      const before = fromCache ? e.value : applyDefaults(e.value);
      const next = await fn(jsonCopy(before));
      // resourceVersion is the store's, not fn's: left out of the comparison (the cache's copy carries it, the store's not).
      if (next !== undefined && before.metadata.resourceVersion === undefined) delete next.metadata.resourceVersion;
      else if (next !== undefined) next.metadata.resourceVersion = before.metadata.resourceVersion;
      // Equal, the same spec, and the size bound: one walk (json-value.ts writeCheck).
      const check = next === undefined ? undefined : writeCheck(next, before);
      if (next === undefined || check!.same) {
        if (fromCache) continue; // perhaps a stale copy's answer: ask again on the stored object
        return withVersion(e as StoreEntry<KObject>);
      }
      next.metadata.resourceVersion = undefined;
      let bytesAtMost = check!.bytesAtMost;
      if (!check!.sameSpec) {
        next.metadata.generation = (before.metadata.generation ?? 1) + 1;
        bytesAtMost += generationBytes; // the bound was walked before: the key may be new
      }
      checkObjectSize(next, bytesAtMost);
      try {
        const written = await this.stored(() => this.store.update(key, next, e.modRevision));
        this.reads.wrote(key, written.modRevision);
        return withVersion(written);
      } catch (err) {
        if (err instanceof SkiffError && err.code === 'SKIFF_ERR_CONFLICT') continue;
        if (err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND') return undefined;
        throw err;
      }
    }
    throw new SkiffError('SKIFF_ERR_CONFLICT', `${kind}/${name}: too many concurrent writers, try again`);
  }

  /** Updates an object as a whole; with metadata.resourceVersion set, fails on conflict. */
  async update<T extends KObject>(obj: T): Promise<T> {
    const info = kindOf(obj.kind);
    const expected = obj.metadata.resourceVersion ? Number(obj.metadata.resourceVersion) : undefined;
    const key = this.key(info, obj.metadata.namespace, obj.metadata.name);
    const e = await this.store.get<T>(key);
    if (!e) throw notFound(info, obj.metadata.namespace, obj.metadata.name);
    const next = applyDefaults(jsonCopy(obj));
    for (const f of ['uid', 'creationTimestamp'] as const) (next.metadata as any)[f] = e.value.metadata[f];
    next.metadata.generation = jsonEqual(next.spec, e.value.spec) ? e.value.metadata.generation : (e.value.metadata.generation ?? 1) + 1;
    delete next.metadata.resourceVersion;
    checkObjectSize(next);
    const written = await this.stored(() => this.store.update(key, next, expected ?? e.modRevision));
    this.reads.wrote(key, written.modRevision);
    return withVersion(written);
  }

  /**
   * Applies a user's object: validates and defaults it, creates it or replaces its user-owned part
   * (spec, data, labels, annotations, ...) keeping status and server metadata, admitted (apply.ts). With
   * `dryRun` the same happens up to the write, which is left out: the object returned is what would be
   * stored. With `create` an existing object is an error (kubectl create).
   */
  apply(raw: unknown, defaultNamespace = 'default', opts: ApplyOptions = {}): Promise<Applied> {
    return applyOne(this, raw, defaultNamespace, opts);
  }

  /** The apply step of a kind (Services: allocation), if it has one. */
  admissionOf(kind: string): Admission | undefined {
    return this.admissions.get(kind);
  }

  /** Adds an admission plugin; plugins run in the order added (master/steps.ts wires them). */
  addPlugin(p: AdmissionPlugin): void {
    this.plugins.push(p);
  }

  /** Runs every admission plugin on an object about to be stored (`current`: the one it replaces). */
  async admit(obj: KObject, current: KObject | undefined, batch: AdmissionBatch): Promise<void> {
    for (const p of this.plugins) await p.admit(obj, current, batch);
  }

  /** Refuses growth on a nearly full disk (SKIFF_ERR_UNAVAILABLE naming the disk); nothing without a disk guard. */
  admitGrowth(what: string): void {
    this.disk?.admitGrowth(what);
  }

  /** A stored entry as an object: defaults filled, resourceVersion = its modRevision. */
  withVersion<T extends KObject = KObject>(e: StoreEntry<unknown>): T {
    return withVersion(e as StoreEntry<T>);
  }

  /**
   * A new object ready to store: defaults, server metadata (uid, creationTimestamp, generation 1; a name
   * from generateName), its namespace checked (one the batch creates counts), admitted, within the size
   * limit, and added to the batch's pending objects.
   */
  async prepareCreate<T extends KObject>(obj: T, batch: AdmissionBatch): Promise<T> {
    const info = kindOf(obj.kind);
    const o = applyDefaults(jsonCopy(obj));
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = o.metadata.generateName + this.nameSuffix();
    Object.assign(o.metadata, { uid: randomUUID(), creationTimestamp: isoNow(this.clock), generation: 1 });
    delete o.metadata.resourceVersion;
    delete o.metadata.deletionTimestamp;
    if (info.namespaced) await this.requireNamespace(o.metadata.namespace ?? 'default', batch);
    await this.admit(o, undefined, batch);
    checkObjectSize(o);
    batch.pending.push(o);
    return o;
  }

  /**
   * Writes `ops` and the batch's own (quota charges): one store op when that is all, else one transaction.
   * Returns the entries of `ops`, in order. A full disk is handled as in every write (stored).
   */
  async commit(ops: TxnOp[], batch: AdmissionBatch): Promise<StoreEntry[]> {
    const all = [...ops, ...(await batch.ops())];
    if (all.length > 1) {
      const { entries, revision } = await this.stored(() => this.store.txn(all));
      for (const op of all) this.reads.wrote(op.key, revision, op.op === 'delete');
      return entries.slice(0, ops.length);
    }
    const op = all[0]!;
    if (op.op === 'delete') {
      const gone = await this.stored(() => this.store.delete(op.key, op.expectedModRevision));
      await this.deleted(op.key);
      return [gone];
    }
    const e = await this.stored(() => (op.op === 'create' ? this.store.create(op.key, op.value) : this.store.update(op.key, op.value, op.expectedModRevision)));
    this.reads.wrote(op.key, e.modRevision);
    return [e];
  }

  /** Moves the cache fence past a delete of `key` (a delete's entry is the key's last one, so the revision is asked for). */
  private async deleted(key: string): Promise<void> {
    if (fenceOf(key) !== undefined) this.reads.wrote(key, await this.store.revision(), true);
  }

  /**
   * Deletes an object. Pods bound to a node are deleted gracefully: deletionTimestamp is set and the
   * agent's report that the pod is gone finishes the deletion (see finishPodDeletion). Returns the
   * object as deleted or as marked.
   */
  delete<K extends KindName>(kind: K, namespace: string | undefined, name: string, opts?: { force?: boolean }): Promise<KindMap[K]>;
  delete(kind: string, namespace: string | undefined, name: string, opts?: { force?: boolean }): Promise<KObject>;
  async delete(kind: string, namespace: string | undefined, name: string, opts: { force?: boolean } = {}): Promise<KObject> {
    const info = kindOf(kind);
    if (info.kind === 'Namespace') return this.deleteNamespace(name);
    const finalized = await this.markFinalized(info, namespace, name);
    if (finalized) return finalized;
    if (info.kind === 'Pod' && !opts.force) {
      const marked = await this.mutate('Pod', namespace, name, (p) => {
        if (!p.spec?.nodeName || p.metadata.deletionTimestamp || podFinished(p)) return undefined;
        p.metadata.deletionTimestamp = isoNow(this.clock);
        return p;
      });
      if (!marked) throw notFound(info, namespace, name);
      // A finished pod has nothing left to stop (and is no longer in its node's desired set): remove it now.
      if (marked.spec?.nodeName && !podFinished(marked)) return marked;
    }
    try {
      const gone = await this.stored(() => this.store.delete<KObject>(this.key(info, namespace, name)));
      await this.deleted(gone.key);
      return withVersion(gone);
    } catch (err) {
      if (err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND') throw notFound(info, namespace, name);
      throw err;
    }
  }

  /**
   * An object with finalizers is only marked (deletionTimestamp, once) by a delete; the controllers that own
   * the finalizers remove them and the last removal deletes it (removeFinalizer). Undefined: no finalizers.
   */
  private async markFinalized(info: KindInfo, namespace: string | undefined, name: string): Promise<KObject | undefined> {
    const cur = await this.get(info.kind, namespace, name);
    if (!cur?.metadata.finalizers?.length) return undefined;
    const marked = await this.mutate(info.kind, namespace, name, (o) => {
      if (o.metadata.deletionTimestamp || !o.metadata.finalizers?.length) return undefined;
      o.metadata.deletionTimestamp = isoNow(this.clock);
      return o;
    });
    if (!marked) throw notFound(info, namespace, name);
    return marked.metadata.finalizers?.length ? marked : undefined;
  }

  /**
   * Removes one finalizer of the object with `uid`; when it was the last and the object is being deleted,
   * the object goes (Kubernetes' finalizer rule). Nothing happens to another object of that name.
   */
  async removeFinalizer(kind: string, namespace: string | undefined, name: string, uid: string, finalizer: string): Promise<void> {
    const after = await this.mutate(kind, namespace, name, (o) => {
      if (o.metadata.uid !== uid || !o.metadata.finalizers?.includes(finalizer)) return undefined;
      o.metadata.finalizers = o.metadata.finalizers.filter((f) => f !== finalizer);
      if (o.metadata.finalizers.length === 0) delete o.metadata.finalizers;
      return o;
    });
    if (!after || after.metadata.uid !== uid || after.metadata.finalizers?.length || !after.metadata.deletionTimestamp) return;
    await this.deleteWhile(this.key(kind, namespace, name), uid, (o) => !o.metadata.finalizers?.length && !!o.metadata.deletionTimestamp);
  }

  /**
   * Deletes the object at `key` while it is still the one with `uid` and `ok` holds, re-reading past a write that
   * lands between the read and the delete (the precondition is the uid, as Kubernetes' final deletes, not the
   * version): a swallowed conflict would leave the object half-deleted for good, since what asked for it asks once.
   */
  private async deleteWhile(key: string, uid: string | undefined, ok: (o: KObject) => boolean): Promise<void> {
    for (let i = 0; i < conflictRetries; i++) {
      const e = await this.store.get<KObject>(key);
      if (!e || (uid && e.value.metadata.uid !== uid) || !ok(e.value)) return;
      try {
        await this.stored(() => this.store.delete(key, e.modRevision));
        return await this.deleted(key);
      } catch (err) {
        if (err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND') return;
        if (!(err instanceof SkiffError) || err.code !== 'SKIFF_ERR_CONFLICT') throw err;
      }
    }
  }

  /** Removes a pod object for good once its agent reported it stopped (or its node is gone). */
  async finishPodDeletion(namespace: string, name: string, uid?: string): Promise<void> {
    await this.deleteWhile(this.key('Pod', namespace, name), uid, () => true);
  }

  /**
   * Namespaces go as in Kubernetes: `default` may not be deleted; another turns Terminating
   * (deletionTimestamp, status.phase) and the namespace controller removes it once it is empty.
   */
  private async deleteNamespace(name: string): Promise<Namespace> {
    if (name === 'default') throw new SkiffError('SKIFF_ERR_FORBIDDEN', 'namespaces "default" is forbidden: this namespace may not be deleted');
    const marked = await this.mutate('Namespace', undefined, name, (n) => {
      if (n.metadata.deletionTimestamp) return undefined;
      n.metadata.deletionTimestamp = isoNow(this.clock);
      n.status = { ...(n.status ?? {}), phase: 'Terminating' };
      return n;
    });
    if (!marked) throw notFound(kindOf('Namespace'), undefined, name);
    return marked;
  }

  /** Removes a Terminating namespace for good (the namespace controller, once nothing is left in it). */
  async finishNamespaceDeletion(name: string): Promise<void> {
    const key = this.key('Namespace', undefined, name);
    const e = await this.store.get<KObject>(key);
    if (!e || !e.value.metadata.deletionTimestamp) return;
    try {
      await this.stored(() => this.store.delete(key, e.modRevision));
      await this.deleted(key);
    } catch (err) {
      if (!(err instanceof SkiffError) || (err.code !== 'SKIFF_ERR_NOT_FOUND' && err.code !== 'SKIFF_ERR_CONFLICT')) throw err;
    }
  }

  private async requireNamespace(ns: string, batch?: AdmissionBatch): Promise<void> {
    const n = (await this.reads.namespace(ns)) ?? batch?.pendingOf('Namespace').find((o) => o.metadata.name === ns);
    if (!n) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `namespaces "${ns}" not found`);
    if (n.metadata.deletionTimestamp) throw new SkiffError('SKIFF_ERR_FORBIDDEN', `namespace "${ns}" is being terminated`);
  }
}

/** The non-empty parts of admission notes, as an Applied carries them. */
export function notesOf(n: AdmissionNotes): Pick<Applied, 'warnings' | 'auditNotes'> {
  return { ...(n.warnings?.length ? { warnings: n.warnings } : {}), ...(n.audit?.length ? { auditNotes: n.audit } : {}) };
}

/** A read-modify-write step: the new object, or undefined to leave it unchanged. */
export type Mutation<T extends KObject> = (o: T) => T | undefined | Promise<T | undefined>;

/** A pod that ran to the end (Succeeded or Failed): its agent already dropped it. */
function podFinished(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/** The kubectl wording of a lost optimistic-concurrency race. */
export function modified(info: KindInfo, name: string): SkiffError {
  return new SkiffError('SKIFF_ERR_CONFLICT', `Operation cannot be fulfilled on ${qualifiedPlural(info)} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
}

/** The kubectl wording of a missing object: `deployments.apps "web" not found`. */
export function notFound(info: KindInfo, namespace: string | undefined, name: string): SkiffError {
  const group = info.apiVersion.includes('/') ? '.' + info.apiVersion.split('/')[0] : '';
  const where = info.namespaced ? ` in namespace "${namespace ?? 'default'}"` : '';
  return new SkiffError('SKIFF_ERR_NOT_FOUND', `${info.plural}${group} "${name}" not found${where}`);
}
