/**
 * Which verbs each access level may use (RBAC at edge scale: three roles, like Kubernetes' default
 * `view`, `edit` and `admin` ClusterRoles). The `admin` identity (admin.token) has admin access.
 */
import { SkiffError, type ApiVerb } from '../../protocol/index.js';
import type { Identity } from '../broker/acl.js';

const view: ReadonlySet<string> = new Set(['get', 'list', 'describe', 'watch', 'logs', 'version', 'cancel', 'top']);
const edit: ReadonlySet<string> = new Set([...view, 'apply', 'delete', 'scale', 'rollout', 'cordon', 'uncordon', 'drain', 'exec']);

/** The access level of an identity on the API (agents and joiners have none). */
export function accessOf(id: Identity): 'view' | 'edit' | 'admin' | undefined {
  if (id.role === 'admin') return 'admin';
  if (id.role === 'user') return id.access;
  return undefined;
}

/** Throws SKIFF_ERR_FORBIDDEN unless the identity may use the verb. */
export function authorizeVerb(id: Identity, verb: ApiVerb | string): void {
  const access = accessOf(id);
  const ok = access === 'admin' || (access === 'edit' && edit.has(verb)) || (access === 'view' && view.has(verb));
  if (!ok) throw new SkiffError('SKIFF_ERR_FORBIDDEN', `${id.role === 'user' ? `user "${id.name}" (${access} access)` : `${id.role} ${id.name}`} may not ${verb}`);
}
