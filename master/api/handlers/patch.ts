/**
 * `patch {kind, name, namespace?, patch, dryRun?}`: a JSON merge patch (RFC 7386) applied to the stored
 * object, then validated, defaulted and admitted exactly as an apply of the result — the server side of
 * `skiff label`, `annotate`, `taint`, `set` and `edit`. A `metadata.resourceVersion` in the patch is a
 * precondition (SKIFF_ERR_CONFLICT when the object moved on, as Kubernetes); without one, a race with
 * another writer is retried on the newer object. Status cannot be patched (it is the controllers' and
 * agents'), nor kind, name or namespace.
 */
import { Checker, SkiffError, applyMergePatch, isObject, type ApiRequest, type KObject } from '../../../protocol/index.js';
import { badRequest, target } from '../params.js';
import type { ApiCall, ApiContext } from '../types.js';

/** How often a patch without a precondition is retried when another writer won the race. */
const retries = 5;

/** The patch verb. */
export async function patch(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<KObject> {
  const { kind, name, namespace } = target(req, true);
  // The same rule as apply: some kinds (Nodes) only admin access may change.
  const c = new Checker('request patch');
  c.object(req.patch, 'patch', true);
  c.bool(req.dryRun, 'dryRun');
  badRequest(c);
  const p = req.patch as Record<string, any>;
  const precondition = isObject(p.metadata) && typeof p.metadata.resourceVersion === 'string' ? p.metadata.resourceVersion : undefined;
  for (const [field, v] of [['kind', p.kind], ['apiVersion', p.apiVersion], ['metadata.name', p.metadata?.name], ['metadata.namespace', p.metadata?.namespace]] as const)
    if (v !== undefined && v !== (field === 'kind' ? kind.kind : field === 'apiVersion' ? kind.apiVersion : field === 'metadata.name' ? name : namespace))
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${kind.kind}/${name}: ${field}: field is immutable`);
  for (let attempt = 0; ; attempt++) {
    const cur = await ctx.objects.mustGet(kind.kind, namespace, name);
    const { status: _ignored, ...body } = p;
    const next = applyMergePatch(cur, body) as KObject;
    if (cur.status !== undefined) next.status = cur.status;
    try {
      const { object } = await ctx.objects.apply(next, namespace, { resourceVersion: precondition ?? cur.metadata.resourceVersion, dryRun: req.dryRun === true, whole: true });
      return object;
    } catch (err) {
      if (precondition !== undefined || attempt >= retries || !(err instanceof SkiffError) || err.code !== 'SKIFF_ERR_CONFLICT') throw err;
    }
  }
}
