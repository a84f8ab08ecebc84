/**
 * The objects a changing verb works on (label, annotate, taint, set): `TYPE NAME...`, `TYPE/NAME...`,
 * `TYPE --all` or `TYPE -l SELECTOR`, read fresh from the master; and the patch every such verb sends,
 * retried when another writer got there first (the precondition is the resourceVersion it read).
 */
import { SkiffError, type KindInfo, type KObject } from '../protocol/index.js';
import { str, type Values } from './args.js';
import { namespaceParam, parseTarget } from './target.js';
import type { Api } from './types.js';

/** Reads the objects the arguments name. */
export async function targetObjects(api: Api, verb: string, resources: string[], values: Values): Promise<{ kind: KindInfo; objects: KObject[] }> {
  const { kind, names } = parseTarget(verb, resources);
  const scope = namespaceParam(kind, values);
  const selector = str(values, 'selector');
  if (names.length > 0 && (values.all || selector)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${verb}: names cannot be combined with --all or --selector`);
  if (names.length === 0 && !values.all && !selector) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${verb}: name the ${kind.plural}, or select them with --all or -l SELECTOR`);
  if (names.length > 0) return { kind, objects: await Promise.all(names.map((name) => api.request<KObject>('get', { kind: kind.kind, name, ...scope }))) };
  const list = await api.request<{ items?: KObject[] }>('list', { kind: kind.kind, ...scope, ...(selector ? { labelSelector: selector } : {}) });
  return { kind, objects: list.items ?? [] };
}

/**
 * Sends `change(current)` as a merge patch with the current resourceVersion as precondition; on a
 * conflict reads the object again and recomputes (at most 5 times). `change` returns undefined for
 * "nothing to do" and may throw to refuse (e.g. --overwrite is false). A conflict caused by a status
 * write alone (the object's generation did not move: its controller reporting a rollout's progress) is
 * not one of the 5 — kubectl sends these patches with no precondition at all — but is retried after a
 * short wait, 50 times at most: while a Deployment's pods come up its status changes every few ms.
 */
export async function patchWithRetry(
  api: Api,
  o: KObject,
  change: (cur: KObject) => Record<string, unknown> | undefined,
  opts: { dryRun?: boolean; resourceVersion?: string } = {},
): Promise<KObject | undefined> {
  let cur = o;
  let statusOnly = 0;
  for (let attempt = 0; ; attempt++) {
    const patch = change(cur);
    if (!patch) return undefined;
    const rv = opts.resourceVersion ?? cur.metadata.resourceVersion;
    const body = { ...patch, metadata: { ...((patch.metadata as object) ?? {}), ...(rv ? { resourceVersion: rv } : {}) } };
    try {
      return await api.request<KObject>('patch', { kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}), patch: body, ...(opts.dryRun ? { dryRun: true } : {}) });
    } catch (err) {
      if (!(err instanceof SkiffError) || err.code !== 'SKIFF_ERR_CONFLICT' || opts.resourceVersion) throw err;
      const next = await api.request<KObject>('get', { kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) });
      const specMoved = next.metadata.generation === undefined || next.metadata.generation !== cur.metadata.generation;
      if (specMoved ? attempt - statusOnly >= 4 : ++statusOnly > 50) throw err;
      if (!specMoved) await new Promise((r) => setTimeout(r, 20));
      cur = next;
    }
  }
}
