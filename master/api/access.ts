/**
 * Who may do what on the API: one rule table, as Kubernetes' RBAC authorizer with its default `view`, `edit`
 * and `admin` roles. Every request is reduced to attributes (verb, kind, namespace) and `decide` answers from
 * the table; `authorize` throws that answer, and `skiff auth can-i` reports it (handlers/can-i.ts), so the two
 * never differ. A user token may be confined to one namespace (`skiff token create NAME --namespace shop`), as
 * a RoleBinding confines a ClusterRole. The `admin` identity (admin.token) has cluster-wide admin access.
 *
 * What each role reads of Secrets is the other half of least privilege: view sees their metadata, keys and
 * sizes but never their values (redact.ts).
 */
import { SkiffError, findKind, type ApiRequest } from '../../protocol/index.js';
import type { Identity } from '../broker/acl.js';

/** An access level, weakest first. */
export type Access = 'view' | 'edit' | 'admin';
const rank: Record<Access, number> = { view: 0, edit: 1, admin: 2 };

/** What a request asks to do, as the rules see it (Kubernetes' authorizer attributes). */
export interface Attributes {
  /** The API verb. */
  verb: string;
  /** The canonical kind it acts on, when known. */
  kind?: string;
  /** The namespace of a namespaced kind (undefined with allNamespaces). */
  namespace?: string;
  /** Every namespace at once (`-A`). */
  allNamespaces?: boolean;
}

/** The answer: allowed or not, and why. */
export interface Decision {
  allowed: boolean;
  reason: string;
}

/** How the table sees one verb: the access it needs, whether it changes state, the kind it implies. */
interface VerbRule {
  level: Access;
  write: boolean;
  /** The kind the verb always acts on (logs and exec: Pod; cordon, drain: Node). */
  kind?: string;
  /** Acts on the whole cluster (tokens, backups, the encryption key): a namespaced token may not. */
  cluster?: boolean;
  /** Acts on no object (version, cancel, can-i — whose kind and namespace are what it asks about). */
  objectless?: boolean;
}

const read = (kind?: string): VerbRule => ({ level: 'view', write: false, kind });
const write = (kind?: string): VerbRule => ({ level: 'edit', write: true, kind });
const clusterAdmin: VerbRule = { level: 'admin', write: true, cluster: true };

/** Every verb the API serves, by the access it needs (Kubernetes: view gets, lists and watches; edit writes workloads and execs). */
const verbs = new Map<string, VerbRule>([
  ['get', read()],
  ['list', read()],
  ['watch', read()],
  ['describe', read()],
  ['top', read()],
  ['logs', read('Pod')],
  ['version', { ...read(), objectless: true }],
  ['cancel', { ...read(), objectless: true }],
  ['can-i', { ...read(), objectless: true }],
  ['whoami', { ...read(), objectless: true }],
  ['apply', write()],
  ['patch', write()],
  ['delete', write()],
  ['scale', write()],
  ['rollout', write('Deployment')],
  ['exec', write('Pod')],
  // port-forward and cp open streams into pods, as exec does (Kubernetes' edit role has pods/portforward and pods/exec).
  ['portforward', write('Pod')],
  ['cp', write('Pod')],
  // A piece of a port-forward or cp stream this client opened: what opening it needed was checked then.
  ['input', { ...write(), objectless: true }],
  ['cordon', write('Node')],
  ['uncordon', write('Node')],
  ['drain', write('Node')],
  ['token', clusterAdmin],
  ['jointoken', clusterAdmin],
  ['backup', clusterAdmin],
  ['secrets', clusterAdmin],
  // Fleet upgrades replace the agent on every selected node: the whole cluster's, as Node writes are admin's.
  ['upgrade', clusterAdmin],
]);

/** `rollout status` and `rollout history` only read the Deployment (Kubernetes' view role may run them). */
const readingRolloutActions: ReadonlySet<unknown> = new Set(['status', 'history']);

/**
 * Kinds only cluster-wide admin access may create, change or delete (Kubernetes: only cluster-admin; its `edit` and
 * `admin` roles, even bound in a namespace, have no write on them). Nodes: here a Node stands for a credential —
 * deleting one revokes it, creating one names a board that never joined. (Cordon, uncordon and drain stay with
 * edit: they only mark a node unschedulable and move its pods.) PersistentVolumes and StorageClasses: a volume names
 * a directory on a board, which a claim then mounts into a pod — a host path by another name. ResourceQuotas and
 * LimitRanges: the bounds set on a namespace are not for the namespace's own users to lift.
 */
const adminOnlyKinds: ReadonlySet<string> = new Set(['Node', 'PersistentVolume', 'StorageClass', 'ResourceQuota', 'LimitRange']);
/** Verbs that write a Node but only mark it (spec.unschedulable) and move its pods: edit may. */
const nodeMarking: ReadonlySet<string> = new Set(['cordon', 'uncordon', 'drain']);

/** The access level of an identity on the API (agents and joiners have none). */
export function accessOf(id: Identity): Access | undefined {
  if (id.role === 'admin') return 'admin';
  if (id.role === 'user') return id.access;
  return undefined;
}

/** The namespace a user token is confined to, if any. */
export function namespaceOf(id: Identity): string | undefined {
  return id.role === 'user' ? id.namespace : undefined;
}

/** How messages name an identity: `user "ci" (edit access in namespace "shop")`. */
export function who(id: Identity): string {
  if (id.role !== 'user') return `${id.role} ${id.name}`;
  return `user "${id.name}" (${id.access} access${id.namespace ? ` in namespace "${id.namespace}"` : ''})`;
}

/** The canonical kind and whether it is namespaced, or undefined for a kind Skiff does not serve. */
function kindInfo(kind: string | undefined): { kind: string; namespaced: boolean; plural: string } | undefined {
  const info = kind === undefined ? undefined : findKind(kind);
  return info && { kind: info.kind, namespaced: info.namespaced, plural: info.plural };
}

/** The rule of a verb as this request uses it (rollout reads are reads). */
function ruleOf(a: Attributes & { action?: unknown }): VerbRule | undefined {
  const rule = verbs.get(a.verb);
  if (rule && a.verb === 'rollout' && readingRolloutActions.has(a.action)) return read('Deployment');
  return rule;
}

/** Decides whether `id` may do what `a` describes. */
export function decide(id: Identity, a: Attributes & { action?: unknown }): Decision {
  const access = accessOf(id);
  if (!access) return deny(`${who(id)} has no access to the API`);
  const rule = ruleOf(a);
  if (!rule) return deny(`Skiff has no verb "${a.verb}"`);
  if (rank[access] < rank[rule.level]) return deny(`${who(id)} may not ${a.verb}`);
  const ns = namespaceOf(id);
  if (rule.cluster && ns) return deny(`${who(id)} may not ${a.verb}: it acts on the whole cluster, and this token is confined to namespace "${ns}"`);
  const info = rule.objectless ? undefined : kindInfo(rule.kind ?? a.kind);
  if (!info) return allow(access, ns);
  if (rule.write && adminOnlyKinds.has(info.kind) && !nodeMarking.has(a.verb) && (access !== 'admin' || ns))
    return deny(`${who(id)} may not ${a.verb} ${info.plural}: only admin access may create, change or delete them`);
  if (!ns) return allow(access, ns);
  if (!info.namespaced)
    return rule.write ? deny(`${who(id)} may not ${a.verb} ${info.plural}: they are cluster-scoped, and this token is confined to namespace "${ns}"`) : allow(access, ns);
  if (a.allNamespaces) return deny(`${who(id)} may not ${a.verb} ${info.plural} at the cluster scope (all namespaces)`);
  const target = a.namespace ?? 'default';
  if (target !== ns) return deny(`${who(id)} may not ${a.verb} ${info.plural} in namespace "${target}"`);
  return allow(access, ns);
}

function allow(access: Access, ns: string | undefined): Decision {
  return { allowed: true, reason: `${access} access${ns ? ` in namespace "${ns}"` : ''}` };
}

function deny(reason: string): Decision {
  return { allowed: false, reason };
}

/** Throws SKIFF_ERR_FORBIDDEN unless `id` may do what `a` describes. */
export function authorize(id: Identity, a: Attributes & { action?: unknown }): void {
  const d = decide(id, a);
  if (!d.allowed) throw new SkiffError('SKIFF_ERR_FORBIDDEN', d.reason);
}

/**
 * The attributes of an API request. A namespaced token's requests default to its namespace (as a kubeconfig
 * context's namespace does); `kind` is the request's, or the one the verb implies.
 */
export function attributesOf(req: ApiRequest): Attributes & { action?: unknown } {
  const kind = typeof req.kind === 'string' ? req.kind : undefined;
  const namespace = typeof req.namespace === 'string' && req.namespace !== '' ? req.namespace : undefined;
  return { verb: req.verb, kind, namespace, allNamespaces: req.allNamespaces === true, action: req.action };
}

/** True when the identity may read Secret values (Kubernetes: edit and admin may, view may not). */
export function seesSecretValues(id: Identity): boolean {
  const access = accessOf(id);
  return access === 'edit' || access === 'admin';
}

/**
 * Who the caller is and which of `verbs` it may use at all (the `whoami` verb: the dashboard shows only what the token
 * may do). A namespaced token's namespace comes with it; whether a verb is allowed on a given kind and namespace is
 * `can-i`'s question.
 */
export function whoami(id: Identity, verbs: readonly string[]): { name: string; role: Identity['role']; access?: Access; namespace?: string; verbs: string[] } {
  const ns = namespaceOf(id);
  return { name: id.name, role: id.role, access: accessOf(id), ...(ns ? { namespace: ns } : {}), verbs: verbs.filter((v) => decide(id, { verb: v, namespace: ns }).allowed) };
}
