/**
 * The object layer (the API server's role): typed objects on top of the Store. It owns server-side
 * metadata (uid, resourceVersion = the store's modRevision, generation, creationTimestamp), apply
 * semantics (created / configured / unchanged), optimistic-concurrency retries, and graceful pod
 * deletion. Everything that writes objects goes through here.
 */
import { randomUUID, randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { Checker, SkiffError, applyDefaults, checkObjectSize, checkPodCounts, defaultMaxReplicas, kindOf, normalizeObject, objectKey, kindPrefix, type KindInfo, type KindMap, type KindName, type KObject, type ApplyResult, type Namespace, type Pod } from '../protocol/index.js';
import { isoNow, realClock, type Clock } from './clock.js';
import type { Store, StoreEntry } from './store/types.js';
import { isDiskFull } from './disk.js';

/** Fields of metadata that the server owns and apply never takes from the user. */
const serverMeta = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp'] as const;

/** How many times a read-modify-write is retried on a resourceVersion conflict. */
const conflictRetries = 20;

/** How many names a generateName create tries before giving up (Kubernetes' apiserver retries too). */
const generateNameTries = 8;

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
}

/** Stamps the store revision into the object's resourceVersion. */
function withVersion<T extends KObject>(e: StoreEntry<T>): T {
  applyDefaults(e.value).metadata.resourceVersion = String(e.modRevision);
  return e.value;
}

/** A random lowercase suffix as Kubernetes' generateName uses (5 characters). */
export function randomSuffix(n = 5): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(n);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/** The part of an object apply compares: everything but status and server-owned metadata. */
function userPart(o: KObject): unknown {
  const { status: _s, metadata, ...rest } = o;
  const m: Record<string, unknown> = { ...metadata };
  for (const f of serverMeta) delete m[f];
  return { ...rest, metadata: m };
}

/** A per-kind step of apply that fills server-allocated fields (Services: master/services/allocate.ts). */
export interface Admission {
  readonly kind: string;
  /** Runs an admission and its write after every earlier one, so allocations never collide. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
  /** The object to write; throws SKIFF_ERR_VALIDATION naming the field. */
  admit(next: KObject, current: KObject | undefined): Promise<KObject>;
}

/** How `apply` stores: for real or as a dry run, and whether an existing object is an error. */
export interface ApplyOptions {
  /** Validate, default and admit, but store nothing (kubectl --dry-run=server). */
  dryRun?: boolean;
  /** Fail with SKIFF_ERR_ALREADY_EXISTS when the object exists (kubectl create). */
  create?: boolean;
  /** A precondition: the object exists at this resourceVersion, else SKIFF_ERR_CONFLICT (patch, edit). */
  resourceVersion?: string;
  /**
   * The object is a whole one (a patch applied to the stored object), not a user's manifest: Node labels
   * are taken as given instead of merged over the agent's.
   */
  whole?: boolean;
}

/** Equal but for resourceVersion (which a read stamps in and a stored value lacks). */
function sameContent(a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => ({ ...o, metadata: { ...o.metadata, resourceVersion: '' } });
  return isDeepStrictEqual(strip(a), strip(b));
}

/** The generation an update gives: one more when the spec changes (Kubernetes' rule). */
function generationAfter(cur: KObject, next: KObject): number | undefined {
  return isDeepStrictEqual(next.spec, cur.spec) ? cur.metadata.generation : (cur.metadata.generation ?? 1) + 1;
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

/** The outcome of one apply: the object, what happened, and what admission noted. */
export interface Applied {
  object: KObject;
  action: ApplyResult['action'];
  warnings?: string[];
  auditNotes?: string[];
}

/** Typed object access over the store. */
export class Objects {
  private readonly admissions = new Map<string, Admission>();
  /** The most pods one object may ask for (see ObjectsOptions). */
  readonly maxReplicas: number;
  private readonly disk?: SpaceGuard;
  private readonly validators: Validator[] = [];
  /** What creationTimestamp and deletionTimestamp read. */
  readonly clock: Clock;

  constructor(
    readonly store: Store,
    options: ObjectsOptions = {},
  ) {
    this.maxReplicas = options.maxReplicas ?? defaultMaxReplicas;
    this.disk = options.disk;
    this.clock = options.clock ?? realClock;
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
  private async validate(next: KObject, current: KObject | undefined): Promise<AdmissionNotes> {
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

  /** Every object of a kind (in one namespace, or all). */
  list<K extends KindName>(kind: K, namespace?: string): Promise<{ items: KindMap[K][]; revision: number }>;
  list(kind: string, namespace?: string): Promise<{ items: KObject[]; revision: number }>;
  async list(kind: string, namespace?: string): Promise<{ items: KObject[]; revision: number }> {
    const info = kindOf(kind);
    const { entries, revision } = await this.store.list<KObject>(kindPrefix(info, namespace));
    return { items: entries.map(withVersion), revision };
  }

  /**
   * Creates an object, filling server metadata. `generateName` gets a random suffix. The validating admissions
   * run first (controllers creating pods meet Pod Security as users do).
   */
  async create<T extends KObject>(obj: T): Promise<T> {
    // Kubernetes generates the name before admission, so a refusal names a pod: admission sees a drawn name;
    // insert draws its own (again on a collision).
    const named = !obj.metadata.name && obj.metadata.generateName ? { ...obj, metadata: { ...obj.metadata, name: obj.metadata.generateName + randomSuffix() } } : obj;
    await this.validate(named, undefined);
    return this.insert(obj);
  }

  /** Creates an object already admitted. */
  private async insert<T extends KObject>(obj: T): Promise<T> {
    const info = kindOf(obj.kind);
    const o = applyDefaults(structuredClone(obj));
    const generated = !o.metadata.name && !!o.metadata.generateName;
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = isoNow(this.clock);
    o.metadata.generation = 1;
    delete o.metadata.resourceVersion;
    delete o.metadata.deletionTimestamp;
    if (info.namespaced) await this.requireNamespace(o.metadata.namespace ?? 'default');
    this.disk?.admitGrowth(`${info.kind}/${o.metadata.name || o.metadata.generateName || '?'}`);
    for (let attempt = 1; ; attempt++) {
      // Five random characters collide now and then among thousands of pods: draw again.
      if (generated) o.metadata.name = o.metadata.generateName + randomSuffix();
      checkObjectSize(o);
      try {
        return withVersion(await this.stored(() => this.store.create(this.key(info, o.metadata.namespace, o.metadata.name), o)));
      } catch (err) {
        if (!(err instanceof SkiffError && err.code === 'SKIFF_ERR_ALREADY_EXISTS')) throw err;
        if (!generated || attempt >= generateNameTries) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `${info.plural} "${o.metadata.name}" already exists`);
      }
    }
  }

  /**
   * Read-modify-write with retries on conflict. `fn` gets a fresh copy and returns the new object,
   * or undefined to leave it unchanged. Bumps generation when the spec changes. Returns the result
   * (or the unchanged object); undefined when the object does not exist.
   */
  mutate<K extends KindName>(kind: K, namespace: string | undefined, name: string, fn: Mutation<KindMap[K]>): Promise<KindMap[K] | undefined>;
  mutate(kind: string, namespace: string | undefined, name: string, fn: Mutation<KObject>): Promise<KObject | undefined>;
  async mutate(kind: string, namespace: string | undefined, name: string, fn: Mutation<KObject>): Promise<KObject | undefined> {
    const key = this.key(kind, namespace, name);
    for (let i = 0; i < conflictRetries; i++) {
      const e = await this.store.get<KObject>(key);
      if (!e) return undefined;
      const before = applyDefaults(e.value);
      const next = await fn(structuredClone(before));
      if (next === undefined || isDeepStrictEqual(next, before)) return withVersion(e);
      next.metadata.resourceVersion = undefined;
      if (!isDeepStrictEqual(next.spec, before.spec)) next.metadata.generation = (before.metadata.generation ?? 1) + 1;
      checkObjectSize(next);
      try {
        return withVersion(await this.stored(() => this.store.update(key, next, e.modRevision)));
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
    const next = applyDefaults(structuredClone(obj));
    for (const f of ['uid', 'creationTimestamp'] as const) (next.metadata as any)[f] = e.value.metadata[f];
    next.metadata.generation = isDeepStrictEqual(next.spec, e.value.spec) ? e.value.metadata.generation : (e.value.metadata.generation ?? 1) + 1;
    delete next.metadata.resourceVersion;
    checkObjectSize(next);
    return withVersion(await this.stored(() => this.store.update(key, next, expected ?? e.modRevision)));
  }

  /**
   * Applies a user's object: validates and defaults it, creates it or replaces its user-owned part
   * (spec, data, labels, annotations, ...) keeping status and server metadata. With `dryRun` the same
   * happens up to the write, which is left out: the object returned is what would be stored. With
   * `create` an existing object is an error (kubectl create).
   */
  async apply(raw: unknown, defaultNamespace = 'default', opts: ApplyOptions = {}): Promise<Applied> {
    const obj = normalizeObject(raw, defaultNamespace, this.maxReplicas);
    // A dry run stores nothing, so a full disk does not stand in its way.
    if (!opts.dryRun) this.disk?.admitGrowth(`${obj.kind}/${obj.metadata.name}`);
    const admission = this.admissions.get(kindOf(obj.kind).kind);
    return admission ? admission.serial(() => this.applyNormalized(obj, opts, admission)) : this.applyNormalized(obj, opts);
  }

  private async applyNormalized(obj: KObject, opts: ApplyOptions, admission?: Admission): Promise<Applied> {
    const info = kindOf(obj.kind);
    const existing = await this.get(info.kind, obj.metadata.namespace, obj.metadata.name);
    if (existing && opts.create) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `${qualifiedPlural(info)} "${obj.metadata.name}" already exists`);
    if (opts.resourceVersion !== undefined && existing?.metadata.resourceVersion !== opts.resourceVersion) {
      if (!existing) throw notFound(info, obj.metadata.namespace, obj.metadata.name);
      throw modified(info, obj.metadata.name);
    }
    if (!existing) {
      const admitted = admission ? await admission.admit(obj, undefined) : obj;
      const notes = await this.validate(admitted, undefined);
      return { object: opts.dryRun ? await this.dryRunCreate(admitted) : await this.insert(admitted), action: 'created', ...notesOf(notes) };
    }
    if (opts.dryRun) {
      const next = await this.merged(obj, existing, opts, admission);
      if (!next) return { object: existing, action: 'unchanged' };
      checkObjectSize(next);
      const notes = await this.validate(next, existing);
      return { object: { ...next, metadata: { ...next.metadata, resourceVersion: existing.metadata.resourceVersion, generation: generationAfter(existing, next) } }, action: 'configured', ...notesOf(notes) };
    }
    let action: ApplyResult['action'] = 'unchanged';
    let notes: AdmissionNotes = {};
    const object = await this.mutate(info.kind, obj.metadata.namespace, obj.metadata.name, async (cur) => {
      // The precondition held when read; a write since then (mutate re-reads) breaks it.
      if (opts.resourceVersion !== undefined && !sameContent(cur, existing)) throw modified(info, obj.metadata.name);
      const next = await this.merged(obj, cur, opts, admission);
      if (next) {
        notes = await this.validate(next, cur);
        action = 'configured';
      }
      return next;
    });
    if (!object) return this.applyNormalized(obj, opts, admission); // deleted in between: create it
    return { object, action, ...notesOf(notes) };
  }

  /** The user's object over the current one (status and server metadata kept); undefined when nothing the user owns changes. */
  private async merged(obj: KObject, cur: KObject, opts: ApplyOptions, admission?: Admission): Promise<KObject | undefined> {
    let next: KObject = { ...structuredClone(obj), status: cur.status };
    if (next.status === undefined) delete next.status;
    for (const f of serverMeta) (next.metadata as any)[f] = cur.metadata[f];
    if (cur.metadata.ownerReferences && !obj.metadata.ownerReferences) next.metadata.ownerReferences = cur.metadata.ownerReferences;
    if (obj.kind === 'Node' && !opts.whole) next.metadata.labels = { ...cur.metadata.labels, ...obj.metadata.labels };
    if (admission) next = await admission.admit(next, cur);
    return isDeepStrictEqual(userPart(next), userPart(cur)) ? undefined : next;
  }

  /** What `create` would store, without storing it (a dry run): the server metadata filled, no resourceVersion. */
  private async dryRunCreate(obj: KObject): Promise<KObject> {
    const info = kindOf(obj.kind);
    if (info.namespaced) await this.requireNamespace(obj.metadata.namespace ?? 'default');
    const o = applyDefaults(structuredClone(obj));
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = o.metadata.generateName + randomSuffix();
    Object.assign(o.metadata, { uid: randomUUID(), creationTimestamp: new Date().toISOString(), generation: 1 });
    delete o.metadata.resourceVersion;
    delete o.metadata.deletionTimestamp;
    checkObjectSize(o);
    return o;
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
      return withVersion(await this.stored(() => this.store.delete<KObject>(this.key(info, namespace, name))));
    } catch (err) {
      if (err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND') throw notFound(info, namespace, name);
      throw err;
    }
  }

  /** Removes a pod object for good once its agent reported it stopped (or its node is gone). */
  async finishPodDeletion(namespace: string, name: string, uid?: string): Promise<void> {
    const key = this.key('Pod', namespace, name);
    const e = await this.store.get<KObject>(key);
    if (!e || (uid && e.value.metadata.uid !== uid)) return;
    try {
      await this.stored(() => this.store.delete(key, e.modRevision));
    } catch (err) {
      if (!(err instanceof SkiffError) || (err.code !== 'SKIFF_ERR_NOT_FOUND' && err.code !== 'SKIFF_ERR_CONFLICT')) throw err;
    }
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
    } catch (err) {
      if (!(err instanceof SkiffError) || (err.code !== 'SKIFF_ERR_NOT_FOUND' && err.code !== 'SKIFF_ERR_CONFLICT')) throw err;
    }
  }

  private async requireNamespace(ns: string): Promise<void> {
    const n = await this.get('Namespace', undefined, ns);
    if (!n) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `namespaces "${ns}" not found`);
    if (n.metadata.deletionTimestamp) throw new SkiffError('SKIFF_ERR_FORBIDDEN', `namespace "${ns}" is being terminated`);
  }
}

/** The non-empty parts of admission notes, as an Applied carries them. */
function notesOf(n: AdmissionNotes): Pick<Applied, 'warnings' | 'auditNotes'> {
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
