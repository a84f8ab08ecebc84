/**
 * `can-i {action, kind, namespace?, subresource?, as?}` → `{allowed, reason}`: Kubernetes' SelfSubjectAccessReview
 * (and, with `as`, a SubjectAccessReview an admin asks about a token) for `skiff auth can-i`. The kubectl verb (and
 * subresource) is mapped to the API verb it needs and decided by the same rule table every request meets
 * (access.ts `decide`), so the answer cannot differ from what the request would get.
 */
import { Checker, SkiffError, findKind, type ApiRequest } from '../../../protocol/index.js';
import type { Identity } from '../../broker/acl.js';
import { accessOf, decide, namespaceOf, seesSecretValues, who, type Decision } from '../access.js';
import { badRequest } from '../params.js';
import type { ApiCall, ApiContext } from '../types.js';

/** kubectl's verbs → the API verbs they need (all of them). */
const byVerb = new Map<string, string[]>([
  ['get', ['get', 'describe']],
  ['list', ['list']],
  ['watch', ['watch']],
  ['create', ['apply']],
  ['update', ['apply']],
  ['patch', ['patch']],
  ['delete', ['delete']],
  ['deletecollection', ['delete']],
  ['*', ['get', 'list', 'watch', 'apply', 'patch', 'delete']],
]);

/** Subresources → the API verb they need, whatever the kubectl verb (get pods/log, create pods/exec, ...). */
const bySubresource = new Map<string, string>([
  ['log', 'logs'],
  ['exec', 'exec'],
  ['portforward', 'portforward'],
  ['scale', 'scale'],
  ['rollback', 'rollout'],
]);

/** API verbs asked by their own name (`skiff auth can-i drain nodes`, `can-i token`). */
const apiVerbs: ReadonlySet<string> = new Set(['logs', 'exec', 'portforward', 'cp', 'scale', 'rollout', 'cordon', 'uncordon', 'drain', 'top', 'describe', 'apply', 'token', 'jointoken', 'backup', 'secrets']);

/** The identity `as` names: a user token (admin only may ask about another identity). */
function subject(ctx: ApiContext, call: ApiCall, as: string | undefined): Identity {
  if (as === undefined || as === call.identity.name) return call.identity;
  if (accessOf(call.identity) !== 'admin' || namespaceOf(call.identity))
    throw new SkiffError('SKIFF_ERR_FORBIDDEN', `${who(call.identity)} may not ask on behalf of another identity (--as needs cluster-wide admin access)`);
  if (as === 'admin') return { role: 'admin', name: 'admin' };
  const scope = ctx.credentials.tokenScope(as);
  if (!scope) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `tokens "${as}" not found`);
  return { role: 'user', name: as, ...scope };
}

/** The can-i verb. */
export async function canI(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<Decision> {
  const c = new Checker('request can-i');
  c.string(req.action, 'action', true);
  c.string(req.kind, 'kind');
  c.string(req.subresource, 'subresource');
  c.string(req.namespace, 'namespace');
  c.string(req.as, 'as');
  c.bool(req.allNamespaces, 'allNamespaces');
  badRequest(c);
  const id = subject(ctx, call, req.as as string | undefined);
  const action = (req.action as string).toLowerCase();
  const sub = req.subresource as string | undefined;
  const kind = req.kind === undefined || req.kind === '*' ? undefined : findKind(req.kind as string);
  if (req.kind !== undefined && req.kind !== '*' && !kind) throw new SkiffError('SKIFF_ERR_UNKNOWN_KIND', `the server doesn't have a resource type "${req.kind}"`);
  const needed = sub !== undefined ? [bySubresource.get(sub)] : apiVerbs.has(action) ? [action] : byVerb.get(action);
  if (!needed || needed.some((v) => v === undefined)) return { allowed: false, reason: `Skiff has no ${sub !== undefined ? `subresource "${sub}"` : `verb "${action}"`}` };
  // A namespaced subject asked without -n is asked about its own namespace, as its requests default to it.
  const namespace = (req.namespace as string | undefined) || namespaceOf(id) || 'default';
  for (const verb of needed as string[]) {
    const d = decide(id, { verb, kind: kind?.kind, namespace, allNamespaces: req.allNamespaces === true });
    if (!d.allowed) return d;
  }
  if (kind?.kind === 'Secret' && !seesSecretValues(id) && !sub) return { allowed: true, reason: `${accessOf(id)} access: Secrets without their values (metadata, keys and sizes)` };
  return decide(id, { verb: needed[0] as string, kind: kind?.kind, namespace, allNamespaces: req.allNamespaces === true });
}
