/**
 * `apply`: YAML/JSON text or objects. Each document is applied on its own and gets its own result (as kubectl
 * apply), or — `atomic` — all of them in one store transaction, so either every document is stored or none
 * (master/apply.ts applyAtomic).
 */
import { Checker, SkiffError, findKind, isObject, kindOf, parseManifests, subjectOf, toWireError, unknownFields, type ApiRequest } from '../../../protocol/index.js';
import type { Identity } from '../../broker/acl.js';
import { applyAtomic, type ApplyOptions } from '../../apply.js';
import type { Objects } from '../../objects.js';
import { authorize } from '../access.js';
import type { AuditedResult } from '../audit.js';
import { badRequest } from '../params.js';
import type { ApiCall, ApiContext } from '../types.js';

/** How documents are applied: ApplyOptions, and all-or-none. */
export interface ApplyDocumentsOptions extends ApplyOptions {
  /** Store every document or none (one transaction). */
  atomic?: boolean;
}

/** The namespace a raw document will land in (its own, else the default); validation refuses a malformed one later. */
function namespaceOfDoc(doc: unknown, fallback: string): string {
  const ns = isObject(doc) && isObject(doc.metadata) ? doc.metadata.namespace : undefined;
  return typeof ns === 'string' && ns !== '' ? ns : fallback;
}

/**
 * Throws unless `identity` may apply `doc` (the rule table with the document's own kind and namespace, before
 * anything is read or written); Events are never applied.
 */
function mayApply(identity: Identity, doc: unknown, kind: string, name: string, namespace: string): void {
  authorize(identity, { verb: 'apply', kind, namespace: namespaceOfDoc(doc, namespace) });
  // Events live in the master's memory (master/events/), written by the master and its agents only.
  if (findKind(kind)?.kind === 'Event') throw new SkiffError('SKIFF_ERR_VALIDATION', `Event/${name}: kind: events are recorded by the master and the agents; they cannot be applied`);
}

/**
 * Applies documents in order as `identity`; one bad (or forbidden) document does not stop the others (as kubectl
 * apply) unless `atomic`.
 */
export async function applyDocuments(objects: Objects, identity: Identity, docs: unknown[], namespace = 'default', opts: ApplyDocumentsOptions = {}, echo = false): Promise<AuditedResult[]> {
  const { atomic, ...applyOpts } = opts;
  const keep = (r: AuditedResult): AuditedResult => (applyOpts.dryRun || echo || !r.object ? r : (({ object: _o, ...rest }) => rest)(r));
  if (atomic) {
    const results = await applyAtomic(objects, docs, namespace, applyOpts, (kind, name, doc) => mayApply(identity, doc, kind, name, namespace));
    return results.map(keep);
  }
  const results: AuditedResult[] = [];
  // Namespaces first, so a file that creates a namespace and objects in it works in one go.
  const ordered = [...docs].sort((a, b) => Number((b as any)?.kind === 'Namespace') - Number((a as any)?.kind === 'Namespace'));
  for (const doc of ordered) {
    const [kind, name] = subjectOf(doc).split('/');
    try {
      mayApply(identity, doc, kind!, name!, namespace);
      const { object, action, warnings: admission, auditNotes } = await objects.apply(doc, namespace, applyOpts);
      // Fields no kind describes are kept but are likely typos: said, as kubectl's warn mode does.
      const warnings = [...unknownFields(object.kind, doc).map((f) => `unknown field "${f}"`), ...(admission ?? [])];
      results.push(
        keep({
          kind: object.kind,
          namespace: object.metadata.namespace,
          name: object.metadata.name,
          action,
          object,
          ...(warnings.length ? { warnings } : {}),
          ...(auditNotes ? { auditNotes } : {}),
        }),
      );
    } catch (err) {
      results.push({ kind: kind!, name: name!, namespace: (doc as any)?.metadata?.namespace, action: 'failed', error: toWireError(err) });
    }
  }
  return results;
}

/** The `apply` verb: `{manifest: string}` or `{objects: [...]}`, optional default `namespace`, `dryRun`, `create`, `atomic`, `echo` (results carry the objects). */
export async function apply(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<{ results: AuditedResult[] }> {
  const c = new Checker('request apply');
  if (req.manifest === undefined && req.objects === undefined) c.fail('manifest', 'is required (or objects)');
  c.string(req.manifest, 'manifest');
  c.array(req.objects, 'objects');
  c.string(req.namespace, 'namespace');
  c.bool(req.dryRun, 'dryRun');
  c.bool(req.create, 'create');
  c.bool(req.atomic, 'atomic');
  c.bool(req.echo, 'echo');
  badRequest(c);
  const docs = typeof req.manifest === 'string' ? parseManifests(req.manifest) : (req.objects as unknown[]);
  if (docs.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'request apply: nothing to apply');
  const opts = { dryRun: req.dryRun === true, create: req.create === true, atomic: req.atomic === true };
  return { results: await applyDocuments(ctx.objects, call.identity, docs, (req.namespace as string) || 'default', opts, req.echo === true) };
}

/** Names the group of a kind as kubectl prints it (`deployment.apps`). */
export function qualifiedKind(kind: string): string {
  const info = kindOf(kind);
  const group = info.apiVersion.includes('/') ? '.' + info.apiVersion.split('/')[0] : '';
  return info.singular + group;
}
