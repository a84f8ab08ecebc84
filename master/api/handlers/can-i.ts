/**
 * `can-i {action, kind, namespace?, subresource?}` → `{allowed, reason}`: Kubernetes' SelfSubjectAccessReview
 * for `skiff auth can-i`. The kubectl verb (and subresource) is mapped to the API verb it needs and checked
 * with the same rule that guards every request (access.ts `mayUse`), so the answer cannot differ from what
 * the request would meet. Skiff's roles are per verb, not per kind or namespace: the kind and namespace are
 * checked for existence only.
 */
import { Checker, SkiffError, findKind, type ApiRequest } from '../../../protocol/index.js';
import { accessOf, mayUse, mayWrite } from '../access.js';
import { badRequest } from '../params.js';
import type { ApiCall, ApiContext } from '../types.js';

/** kubectl's verbs → the API verbs they need (`*` needs them all). */
const byVerb = new Map<string, string[]>([
  ['get', ['get', 'describe']],
  ['list', ['list']],
  ['watch', ['watch']],
  ['create', ['apply']],
  ['update', ['apply']],
  ['patch', ['patch']],
  ['delete', ['delete']],
  ['deletecollection', ['delete']],
]);

/** Subresources → the API verb they need, whatever the kubectl verb (get pods/log, create pods/exec, ...). */
const bySubresource = new Map<string, string>([
  ['log', 'logs'],
  ['exec', 'exec'],
  ['portforward', 'portforward'],
  ['scale', 'scale'],
  ['rollback', 'rollout'],
]);

/** The can-i verb. */
export async function canI(_ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<{ allowed: boolean; reason: string }> {
  const c = new Checker('request can-i');
  c.string(req.action, 'action', true);
  c.string(req.kind, 'kind', true);
  c.string(req.subresource, 'subresource');
  c.string(req.namespace, 'namespace');
  badRequest(c);
  const action = (req.action as string).toLowerCase();
  const sub = req.subresource as string | undefined;
  const kind = req.kind === '*' ? undefined : findKind(req.kind as string);
  if (req.kind !== '*' && !kind) throw new SkiffError('SKIFF_ERR_UNKNOWN_KIND', `the server doesn't have a resource type "${req.kind}"`);
  const needed = sub !== undefined ? [bySubresource.get(sub)] : action === '*' ? [...new Set([...byVerb.values()].flat())] : byVerb.get(action);
  const access = accessOf(call.identity) ?? 'none';
  if (!needed || needed.some((v) => v === undefined)) return { allowed: false, reason: `Skiff has no ${sub !== undefined ? `subresource "${sub}"` : `verb "${action}"`}` };
  const missing = (needed as string[]).filter((v) => !mayUse(call.identity, v));
  if (missing.length) return { allowed: false, reason: `${access} access may not ${missing.join(', ')}` };
  const writes = (needed as string[]).some((v) => v === 'apply' || v === 'patch' || v === 'delete');
  if (writes && kind && !mayWrite(call.identity, kind.kind)) return { allowed: false, reason: `only admin access may change ${kind.plural}` };
  return { allowed: true, reason: `${access} access` };
}
