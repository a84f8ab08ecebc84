/**
 * Which verbs each access level may use (RBAC at edge scale: three roles, like Kubernetes' default
 * `view`, `edit` and `admin` ClusterRoles). The `admin` identity (admin.token) has admin access.
 */
import { SkiffError, kindOf, type ApiVerb } from '../../protocol/index.js';
import type { Identity } from '../broker/acl.js';

const view: ReadonlySet<string> = new Set(['get', 'list', 'describe', 'watch', 'logs', 'version', 'cancel', 'top', 'can-i', 'whoami']);
// port-forward and cp open streams into pods, as exec does (Kubernetes' edit role has pods/portforward and pods/exec);
// `input` feeds a stream the same client opened, so it needs what opening it needed.
const edit: ReadonlySet<string> = new Set([...view, 'apply', 'delete', 'scale', 'rollout', 'cordon', 'uncordon', 'drain', 'exec', 'patch', 'portforward', 'cp', 'input']);

/** The access level of an identity on the API (agents and joiners have none). */
export function accessOf(id: Identity): 'view' | 'edit' | 'admin' | undefined {
  if (id.role === 'admin') return 'admin';
  if (id.role === 'user') return id.access;
  return undefined;
}

/**
 * Kinds only admin access may create, change or delete. Nodes: Kubernetes' `edit` role has no write on nodes,
 * and here a Node stands for a credential — deleting one revokes it, creating one names a board that never joined.
 * (Cordon, uncordon and drain stay with edit: they only mark a node unschedulable and move its pods.)
 */
const adminOnlyKinds: ReadonlySet<string> = new Set(['Node']);

function who(id: Identity): string {
  return id.role === 'user' ? `user "${id.name}" (${id.access} access)` : `${id.role} ${id.name}`;
}

/** True when the identity may use the verb (the rule `authorizeVerb` enforces and `skiff auth can-i` reports). */
export function mayUse(id: Identity, verb: ApiVerb | string): boolean {
  const access = accessOf(id);
  return access === 'admin' || (access === 'edit' && edit.has(verb)) || (access === 'view' && view.has(verb));
}

/** True when the identity may write (apply, patch, delete) objects of the kind: the rule `authorizeWrite` enforces. */
export function mayWrite(id: Identity, kind: string): boolean {
  let canonical = kind;
  try {
    canonical = kindOf(kind).kind;
  } catch {
    return true; // an unknown kind fails later with its own error
  }
  return !adminOnlyKinds.has(canonical) || accessOf(id) === 'admin';
}

/** Throws SKIFF_ERR_FORBIDDEN unless the identity may use the verb. */
export function authorizeVerb(id: Identity, verb: ApiVerb | string): void {
  if (!mayUse(id, verb)) throw new SkiffError('SKIFF_ERR_FORBIDDEN', `${who(id)} may not ${verb}`);
}

/** Throws SKIFF_ERR_FORBIDDEN unless the identity may write (apply, patch, delete) objects of `kind` (any spelling kindOf knows). */
export function authorizeWrite(id: Identity, verb: 'apply' | 'patch' | 'delete', kind: string): void {
  if (!mayWrite(id, kind))
    throw new SkiffError('SKIFF_ERR_FORBIDDEN', `${who(id)} may not ${verb} ${kindOf(kind).plural}: only admin access may create, change or delete them`);
}

/** Who the caller is and which of `verbs` it may use: the `whoami` verb (the dashboard shows only what the token may do). */
export function whoami(id: Identity, verbs: readonly string[]): { name: string; role: Identity['role']; access?: 'view' | 'edit' | 'admin'; verbs: string[] } {
  return { name: id.name, role: id.role, access: accessOf(id), verbs: verbs.filter((v) => mayUse(id, v)) };
}
