/**
 * Apply, the API server's way (Objects.apply and the atomic apply of a whole file): a user's object is
 * validated and defaulted, then either created or laid over the stored one — status and server metadata
 * kept — and admitted (the kind's allocation step, then the admission plugins) before anything is written.
 * Each object is prepared into one store op; the op and the batch's quota charges commit in one transaction.
 * An atomic apply prepares every document of a file in one batch, so each sees the ones before it, and
 * commits them all in one transaction — or, when any document is refused, writes nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import { SkiffError, kindOf, normalizeObject, subjectOf, checkObjectSize, toWireError, unknownFields, type ApplyResult, type KObject, type WireError } from '../protocol/index.js';
import { AdmissionBatch } from './admission/batch.js';
import { modified, notesOf, notFound, qualifiedPlural, type Admission, type Objects } from './objects.js';
import type { StoreEntry, TxnOp } from './store/types.js';

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

/** The outcome of one applied object: the object, what happened, and what the validating admissions noted. */
export interface Applied {
  object: KObject;
  action: ApplyResult['action'];
  warnings?: string[];
  auditNotes?: string[];
}

/** One object's write, prepared and admitted but not yet made. */
interface Prepared extends Applied {
  /** The store write; none when nothing the user owns changes. */
  op?: TxnOp;
  /** The stored object's resourceVersion (updates), for a dry run's answer. */
  was?: string;
}

/** Fields of metadata that the server owns and apply never takes from the user. */
const serverMeta = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp'] as const;

/** How many times an apply is tried again when the store changed under it. */
const retries = 20;

/** The part of an object apply compares: everything but status and server-owned metadata. */
function userPart(o: KObject): unknown {
  const { status: _s, metadata, ...rest } = o;
  const m: Record<string, unknown> = { ...metadata };
  for (const f of serverMeta) delete m[f];
  return { ...rest, metadata: m };
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

/** True for errors that mean "the store moved under this apply": prepare and try again. */
function raced(err: unknown): boolean {
  return err instanceof SkiffError && (err.code === 'SKIFF_ERR_CONFLICT' || err.code === 'SKIFF_ERR_NOT_FOUND' || err.code === 'SKIFF_ERR_ALREADY_EXISTS');
}

/** The user's object over the stored one (status and server metadata kept), admitted; undefined when nothing the user owns changes. */
async function merged(objects: Objects, obj: KObject, cur: KObject, opts: ApplyOptions, batch: AdmissionBatch, admission?: Admission): Promise<KObject | undefined> {
  let next: KObject = { ...structuredClone(obj), status: structuredClone(cur.status) };
  if (next.status === undefined) delete next.status;
  for (const f of serverMeta) (next.metadata as any)[f] = cur.metadata[f];
  if (cur.metadata.ownerReferences && !obj.metadata.ownerReferences) next.metadata.ownerReferences = cur.metadata.ownerReferences;
  // Finalizers are the controllers' (pvc-protection, ...): a manifest without them does not remove them.
  if (cur.metadata.finalizers && !obj.metadata.finalizers) next.metadata.finalizers = cur.metadata.finalizers;
  if (obj.kind === 'Node' && !opts.whole) next.metadata.labels = { ...cur.metadata.labels, ...obj.metadata.labels };
  if (admission) next = await admission.admit(next, cur, batch.pending);
  await objects.admit(next, cur, batch);
  if (isDeepStrictEqual(userPart(next), userPart(cur))) return undefined;
  batch.pending.push(next);
  return next;
}

/** Prepares one normalised object: create or update, admitted in `batch`. */
async function prepare(objects: Objects, obj: KObject, opts: ApplyOptions, batch: AdmissionBatch): Promise<Prepared> {
  const info = kindOf(obj.kind);
  const key = objects.key(info, obj.metadata.namespace, obj.metadata.name);
  const existing = await objects.get(info.kind, obj.metadata.namespace, obj.metadata.name);
  if (existing && opts.create) throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `${qualifiedPlural(info)} "${obj.metadata.name}" already exists`);
  if (opts.resourceVersion !== undefined && existing?.metadata.resourceVersion !== opts.resourceVersion) {
    if (!existing) throw notFound(info, obj.metadata.namespace, obj.metadata.name);
    throw modified(info, obj.metadata.name);
  }
  const admission = objects.admissionOf(info.kind);
  if (!existing) {
    const admitted = admission ? await admission.admit(obj, undefined, batch.pending) : obj;
    const o = await objects.prepareCreate(admitted, batch);
    // The validating admissions (Pod Security) see the object after every mutating one, as Kubernetes orders them.
    const notes = notesOf(await objects.validate(o, undefined));
    return { object: o, action: 'created', op: { op: 'create', key: objects.key(info, o.metadata.namespace, o.metadata.name), value: o }, ...notes };
  }
  const next = await merged(objects, obj, existing, opts, batch, admission);
  if (!next) return { object: existing, action: 'unchanged' };
  next.metadata.generation = generationAfter(existing, next);
  delete next.metadata.resourceVersion;
  checkObjectSize(next);
  const notes = notesOf(await objects.validate(next, existing));
  const op: TxnOp = { op: 'update', key, value: next, expectedModRevision: Number(existing.metadata.resourceVersion) };
  return { object: next, action: 'configured', op, was: existing.metadata.resourceVersion, ...notes };
}

/** What a prepared object answers without a write: unchanged, or (a dry run) as it would be stored. */
function unwritten(p: Prepared): Applied {
  const { op: _op, was, ...applied } = p;
  if (was === undefined) return applied;
  return { ...applied, object: { ...p.object, metadata: { ...p.object.metadata, resourceVersion: was } } };
}

/** A prepared object as stored: the store's entry gives its resourceVersion. */
function storedAnswer(objects: Objects, p: Prepared, e: StoreEntry): Applied {
  const { op: _op, was: _was, ...applied } = p;
  return { ...applied, object: objects.withVersion(e) };
}

/** Runs `fn` inside the serial steps of `kinds`' admissions (allocations never collide). */
function serially<T>(objects: Objects, kinds: Iterable<string>, fn: () => Promise<T>): Promise<T> {
  let run = fn;
  for (const kind of new Set(kinds)) {
    const a = objects.admissionOf(kind);
    if (a) {
      const inner = run;
      run = () => a.serial(inner);
    }
  }
  return run();
}

/** Applies one user object (Objects.apply). */
export async function applyOne(objects: Objects, raw: unknown, defaultNamespace: string, opts: ApplyOptions): Promise<Applied> {
  const obj = normalizeObject(raw, defaultNamespace, objects.maxReplicas);
  // A dry run stores nothing, so a full disk does not stand in its way.
  if (!opts.dryRun) objects.admitGrowth(`${obj.kind}/${obj.metadata.name}`);
  return serially(objects, [obj.kind], async () => {
    for (let attempt = 1; ; attempt++) {
      const batch = new AdmissionBatch(objects.store, opts.dryRun);
      const p = await prepare(objects, obj, opts, batch);
      if (opts.dryRun || !p.op) return unwritten(p);
      try {
        const [entry] = await objects.commit([p.op], batch);
        return storedAnswer(objects, p, entry!);
      } catch (err) {
        if (!raced(err) || attempt >= retries) throw err;
        // The precondition held when read; a write since then breaks it.
        if (opts.resourceVersion !== undefined) throw modified(kindOf(obj.kind), obj.metadata.name);
        if (opts.create && (err as SkiffError).code === 'SKIFF_ERR_ALREADY_EXISTS') throw new SkiffError('SKIFF_ERR_ALREADY_EXISTS', `${qualifiedPlural(kindOf(obj.kind))} "${obj.metadata.name}" already exists`);
      }
    }
  });
}

/** One document of an atomic apply: its object, or why it was refused. */
type Doc = { raw: unknown; obj?: KObject; error?: WireError };

/** An apply's result with what the audit log alone is told (Pod Security `audit` mode). */
export type AtomicResult = ApplyResult & Pick<Applied, 'auditNotes'>;

/**
 * Applies every document of a file as one transaction: all are stored, or — when any is refused (invalid,
 * forbidden, over quota, in the way) — none is, and each refused document says why while the others say
 * they were not applied. `authorize` checks the caller may write each document.
 */
export async function applyAtomic(
  objects: Objects,
  raws: unknown[],
  defaultNamespace: string,
  opts: ApplyOptions,
  authorize: (kind: string, name: string, raw: unknown) => void,
): Promise<AtomicResult[]> {
  // Namespaces first, so a file that creates a namespace and objects in it works in one go.
  const ordered = [...raws].sort((a, b) => Number((b as any)?.kind === 'Namespace') - Number((a as any)?.kind === 'Namespace'));
  const docs: Doc[] = ordered.map((raw) => {
    try {
      const [kind, name] = subjectOf(raw).split('/');
      authorize(kind!, name!, raw);
      return { raw, obj: normalizeObject(raw, defaultNamespace, objects.maxReplicas) };
    } catch (err) {
      return { raw, error: toWireError(err) };
    }
  });
  if (!opts.dryRun && docs.every((d) => d.obj)) objects.admitGrowth(`${docs.length} objects`);
  return serially(objects, docs.flatMap((d) => (d.obj ? [d.obj.kind] : [])), async () => {
    for (let attempt = 1; ; attempt++) {
      const batch = new AdmissionBatch(objects.store, opts.dryRun);
      const prepared = new Map<Doc, Prepared>();
      for (const d of docs) {
        if (!d.obj) continue;
        try {
          prepared.set(d, await prepare(objects, d.obj, opts, batch));
        } catch (err) {
          d.error = toWireError(err);
        }
      }
      if (docs.some((d) => d.error)) return refusedAll(docs);
      if (opts.dryRun) return docs.map((d) => result(d, unwritten(prepared.get(d)!)));
      const writing = docs.filter((d) => prepared.get(d)!.op);
      try {
        const entries = writing.length ? await objects.commit(writing.map((d) => prepared.get(d)!.op!), batch) : [];
        const stored = new Map<Doc, StoreEntry>(writing.map((d, i) => [d, entries[i]!]));
        return docs.map((d) => {
          const p = prepared.get(d)!;
          const e = stored.get(d);
          return result(d, e ? storedAnswer(objects, p, e) : unwritten(p));
        });
      } catch (err) {
        if (!raced(err) || attempt >= retries) {
          const error = toWireError(err);
          return docs.map((d) => ({ ...identify(d), action: 'failed' as const, error }));
        }
      }
    }
  });
}

/** kind, namespace and name of a document, as far as it has them. */
function identify(d: Doc): Pick<ApplyResult, 'kind' | 'namespace' | 'name'> {
  if (d.obj) return { kind: d.obj.kind, namespace: d.obj.metadata.namespace, name: d.obj.metadata.name };
  const [kind, name] = subjectOf(d.raw).split('/');
  return { kind: kind!, name: name!, namespace: (d.raw as any)?.metadata?.namespace };
}

/** A document's result, with apply's unknown-field warnings and the validating admissions' notes. */
function result(d: Doc, a: Applied): AtomicResult {
  const warnings = [...unknownFields(a.object.kind, d.raw).map((f) => `unknown field "${f}"`), ...(a.warnings ?? [])];
  return { ...identify(d), action: a.action, object: a.object, ...(warnings.length ? { warnings } : {}), ...(a.auditNotes ? { auditNotes: a.auditNotes } : {}) };
}

/** Every document failed: the refused ones with their error, the others as not applied because of them. */
function refusedAll(docs: Doc[]): ApplyResult[] {
  const culprits = docs.filter((d) => d.error).map((d) => subjectOf(d.raw));
  const because = `not applied: the apply is atomic and ${culprits.join(', ')} ${culprits.length > 1 ? 'were' : 'was'} refused`;
  return docs.map((d) => ({
    ...identify(d),
    action: 'failed' as const,
    error: d.error ?? { code: 'SKIFF_ERR_BAD_REQUEST', message: `${subjectOf(d.raw)}: ${because}` },
  }));
}
