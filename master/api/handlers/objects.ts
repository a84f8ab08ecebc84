/** The object verbs: get, list, delete, scale, describe, cordon/uncordon. */
import { Checker, SkiffError, type ApiRequest, type KObject, type Pod } from '../../../protocol/index.js';
import { notFound } from '../../objects.js';
import { badRequest, selection, target } from '../params.js';
import { namespaceOf } from '../access.js';
import type { ApiCall, ApiContext } from '../types.js';
import { getEvent, listEvents } from './events.js';
import { sharedObjects } from '../encoding.js';
import { listIndex } from '../list-index.js';
import { waitForCache } from '../cache-wait.js';

/** `get {kind, name, namespace?}` → the object. */
export async function get(ctx: ApiContext, req: ApiRequest): Promise<KObject> {
  const { kind, name, namespace } = target(req, true);
  if (kind.kind === 'Event') return getEvent(ctx, namespace!, name);
  return ctx.objects.mustGet(kind.kind, namespace, name);
}

/**
 * How long each cached list waited for the informers to reach the store's revision, ms, and how many revisions behind
 * the store they were when it began, by the list's result: read by the server for an answer's `timing`
 * (SKIFF_API_TIMING, server.ts).
 */
export const listWaits = new WeakMap<object, ListWait>();

/** See `listWaits`. */
export interface ListWait {
  waitMs: number;
  behind: number;
}

/** `list {kind, namespace?, allNamespaces?, labelSelector?, fieldSelector?}` → `{kind: 'List', items}`. */
export async function list(ctx: ApiContext, req: ApiRequest): Promise<{ apiVersion: 'v1'; kind: 'List'; items: KObject[]; metadata: { resourceVersion: string } }> {
  const { kind, namespace } = target(req, false);
  const c = new Checker('request list');
  c.bool(req.allNamespaces, 'allNamespaces');
  badRequest(c);
  const selected = selection(req, kind);
  const scope = req.allNamespaces ? undefined : namespace;
  if (kind.kind === 'Event') return listEvents(ctx, scope, selected);
  const began = performance.now();
  const { items, revision, cached, wait } = await consistentList(ctx, kind.kind, scope);
  const all = !req.labelSelector && !req.fieldSelector;
  const answer = { apiVersion: 'v1' as const, kind: 'List' as const, items: all ? items : items.filter(selected), metadata: { resourceVersion: String(revision) } };
  listWaits.set(answer, wait ?? { waitMs: performance.now() - began, behind: 0 });
  if (!cached) return answer;
  // A whole kind or namespace listed from the cache: its changes' bytes are made ahead of the next such list (list-warm.ts).
  const warmer = all ? listIndex(ctx.informers, kind.kind).warmer : undefined;
  return sharedObjects(answer, warmer && ((format) => warmer.listed(format, kind.namespaced ? scope : undefined)));
}

/**
 * A list as fresh as the store, served from the informers' cache (Kubernetes' consistent reads from the watch cache,
 * 1.31): the cache is waited for until it has seen every revision a read or an acknowledged write may have revealed
 * before this request, and the cache answers — no decoding of every object from the store per list (10,000 pods: issue
 * 16). That revision is read without waiting when the store can tell it (SQLite: the revision on disk, as reads and
 * answers wait for the fsync); otherwise (etcd) it is the store's current revision. A cache that does not catch up
 * within a second, and Secrets (kept sealed, read through the sealing store), are listed from the store as before.
 * Cached objects are shared: nothing here or after changes them (redact.ts copies). The order is the store's (by key:
 * namespace, then name), kept by list-index.ts rather than sorted per request.
 */
async function consistentList(ctx: ApiContext, kind: string, namespace: string | undefined): Promise<{ items: KObject[]; revision: number; cached?: true; wait?: ListWait }> {
  if (kind === 'Secret') return ctx.objects.list(kind, namespace);
  const began = performance.now();
  const revision = ctx.objects.revealedRevision() ?? (await ctx.objects.revision());
  const behind = revision - ctx.informers.revision;
  if (ctx.informers.revision < revision) await waitForCache(ctx, revision);
  if (ctx.informers.revision < revision) return ctx.objects.list(kind, namespace);
  return { items: listIndex(ctx.informers, kind).list(namespace), revision: ctx.informers.revision, cached: true, wait: { waitMs: performance.now() - began, behind } };
}

/** `delete {kind, name, namespace?, cascade?: 'background' | 'orphan' | 'foreground'}`. */
export async function del(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<KObject> {
  const { kind, name, namespace } = target(req, true);
  const c = new Checker('request delete');
  c.oneOf(req.cascade, 'cascade', ['background', 'foreground', 'orphan']);
  c.bool(req.force, 'force');
  badRequest(c);
  const obj = await ctx.objects.mustGet(kind.kind, namespace, name);
  if (req.cascade === 'orphan')
    for (const dk of ['ReplicaSet', 'Pod', 'PersistentVolumeClaim'])
      for (const d of ctx.informers.list(dk, namespace))
        if (d.metadata.ownerReferences?.some((r) => r.uid === obj.metadata.uid))
          await ctx.objects.mutate(dk, d.metadata.namespace, d.metadata.name, (cur) => {
            cur.metadata.ownerReferences = cur.metadata.ownerReferences?.filter((r) => r.uid !== obj.metadata.uid);
            if (cur.metadata.ownerReferences?.length === 0) delete cur.metadata.ownerReferences;
            return cur;
          });
  const deleted = await ctx.objects.delete(kind.kind, namespace, name, { force: req.force === true });
  if (kind.kind === 'Node') {
    await ctx.credentials.revokeNode(name);
    ctx.kick?.((id) => (id.role === 'node' || id.role === 'joiner') && id.name === name);
  }
  return deleted;
}

/** `scale {kind, name, namespace?, replicas}` for Deployments, ReplicaSets and StatefulSets. */
export async function scale(ctx: ApiContext, req: ApiRequest): Promise<KObject> {
  const { kind, name, namespace } = target(req, true);
  const c = new Checker('request scale');
  c.int(req.replicas, 'replicas', 0, Infinity, true);
  badRequest(c);
  const scalable = ['Deployment', 'ReplicaSet', 'StatefulSet'] as const;
  const which = scalable.find((k) => k === kind.kind);
  if (!which) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${kind.plural} cannot be scaled: only deployments, replicasets and statefulsets have replicas`);
  const res = await ctx.objects.mutate(which, namespace, name, (o) => {
    o.spec.replicas = req.replicas as number;
    // The same rule as apply (--max-replicas), so scale is no way around it.
    ctx.objects.checkPodCounts(o);
    return o;
  });
  if (!res) throw notFound(kind, namespace, name);
  return res;
}

/** `describe {kind, name, namespace?}` → `{object, events, pods?}` (pods for nodes and workloads). */
export async function describe(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<{ object: KObject; events: unknown[]; pods?: Pod[] }> {
  const { kind, name, namespace } = target(req, true);
  const object = kind.kind === 'Event' ? getEvent(ctx, namespace!, name) : await ctx.objects.mustGet(kind.kind, namespace, name);
  const events = ctx.events.of(kind.kind, namespace, name);
  // A namespaced token sees the node, and of its pods only those of its own namespace.
  const own = namespaceOf(call.identity);
  if (kind.kind === 'Node') return { object, events, pods: ctx.informers.list('Pod', own).filter((p) => p.spec.nodeName === name) };
  return { object, events };
}

/** `cordon` / `uncordon {name}`: sets spec.unschedulable of a node. */
export function cordon(unschedulable: boolean) {
  return async (ctx: ApiContext, req: ApiRequest): Promise<KObject> => {
    const { name } = target({ ...req, kind: 'Node' }, true);
    const res = await ctx.objects.mutate('Node', undefined, name, (n) => {
      n.spec = { ...(n.spec ?? {}), unschedulable };
      if (!unschedulable) delete n.spec.unschedulable;
      return n;
    });
    if (!res) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `nodes "${name}" not found`);
    return res;
  };
}

/**
 * `drain {name}`: cordons the node and evicts its pods (graceful deletion), except DaemonSet pods,
 * which belong on every node (kubectl drain --ignore-daemonsets), and finished pods. Controllers
 * recreate the evicted pods elsewhere. Returns the evicted pods' names.
 */
export async function drain(ctx: ApiContext, req: ApiRequest): Promise<{ evicted: string[]; skipped: string[] }> {
  await cordon(true)(ctx, req);
  const evicted: string[] = [];
  const skipped: string[] = [];
  for (const p of ctx.informers.list('Pod')) {
    if (p.spec.nodeName !== req.name || p.metadata.deletionTimestamp) continue;
    const key = `${p.metadata.namespace}/${p.metadata.name}`;
    if (p.metadata.ownerReferences?.some((r) => r.controller && r.kind === 'DaemonSet') || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') {
      skipped.push(key);
      continue;
    }
    await ctx.objects.delete('Pod', p.metadata.namespace, p.metadata.name).catch(() => undefined);
    ctx.events.object('Pod', p.metadata.namespace, p.metadata.name, 'Normal', 'Evicted', `Evicted by drain of node ${req.name}`);
    evicted.push(key);
  }
  return { evicted, skipped };
}
