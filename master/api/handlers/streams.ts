/** The streaming verbs: `watch` (object changes) and `logs` (with `follow`). */
import { Checker, SkiffError, type ApiRequest, type KObject } from '../../../protocol/index.js';
import type { ChangeHandler } from '../../informer.js';
import { badRequest, selection, target } from '../params.js';
import { STREAMING, type ApiCall, type ApiContext } from '../types.js';
import { watchEvents } from './events.js';
import { sharedObjects } from '../encoding.js';
import { waitForCache } from '../cache-wait.js';

/**
 * `watch {kind, namespace?, allNamespaces?, labelSelector?, fieldSelector?, resourceVersion?}`. Without a
 * resourceVersion (or "0"): the current objects as ADDED, then every change. With one (a list's
 * `metadata.resourceVersion`, or the last event's object's): every change after it, then every change — what a
 * client that listed needs, exactly once; SKIFF_ERR_GONE when it is older than the master keeps (list again).
 */
export async function watch(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<typeof STREAMING> {
  const { kind, namespace } = target(req, false);
  const selected = selection(req, kind);
  const from = resourceVersionOf(req);
  const all = req.allNamespaces === true || !kind.namespaced;
  if (kind.kind === 'Event') {
    if (from) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'request watch: resourceVersion: events are not kept in the store; watch events without one');
    return watchEvents(ctx, all ? undefined : namespace, selected, call);
  }
  const wanted = (o: KObject) => (all || o.metadata.namespace === namespace) && selected(o);
  if (from) return watchFrom(ctx, kind.kind, from, wanted, call);
  const handler: ChangeHandler = (obj, old, o) => {
    if (!wanted(o)) return;
    call.send({ event: sharedObjects({ type: (!obj ? 'DELETED' : old ? 'MODIFIED' : 'ADDED') as 'ADDED' | 'MODIFIED' | 'DELETED', object: o }) });
  };
  ctx.informers.on(kind.kind, handler);
  call.onEnd(() => ctx.informers.off(kind.kind, handler));
  return STREAMING;
}

/** The `resourceVersion` of a watch: a store revision as a decimal string (or number); 0 / absent: none. */
export function resourceVersionOf(req: ApiRequest): number {
  const rv = req.resourceVersion;
  if (rv === undefined || rv === null || rv === '') return 0;
  const n = typeof rv === 'number' ? rv : typeof rv === 'string' && /^[0-9]{1,16}$/.test(rv) ? Number(rv) : NaN;
  if (!Number.isSafeInteger(n) || n < 0) {
    const c = new Checker(`request ${req.verb}`);
    c.fail('resourceVersion', "must be a store revision (a list's metadata.resourceVersion: decimal digits)", rv);
    badRequest(c);
  }
  return n;
}

/**
 * Changes after revision `from`, from the informers' window, then live. A revision the cache has not reached yet (a
 * list answered by the store while the cache lagged) is waited for, up to a second; one the store has not reached
 * either is refused.
 */
async function watchFrom(ctx: ApiContext, kind: string, from: number, wanted: (o: KObject) => boolean, call: ApiCall): Promise<typeof STREAMING> {
  if (ctx.informers.revision < from) await waitForCache(ctx, from);
  if (ctx.informers.revision < from) {
    const now = await ctx.objects.revision();
    if (now < from) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `request watch: resourceVersion: ${from} is newer than the store (at ${now})`);
    throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `request watch: the master's cache has not reached resourceVersion ${from} yet (at ${ctx.informers.revision}); try again`);
  }
  // Nothing awaits between here and the subscription: the replay and the live changes meet without a gap.
  const off = ctx.informers.watchKind(kind, from, (c) => wanted(c.object) && call.send({ event: sharedObjects({ type: c.type, object: c.object }) }));
  call.onEnd(off);
  return STREAMING;
}

/**
 * `logs {name, namespace?, container?, previous?, follow?, tailLines?, sinceSeconds?, sinceTime?, timestamps?}`:
 * asks the pod's agent (also for a pod that ran to the end: its node keeps the logs until the pod is deleted).
 */
export async function logs(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<unknown> {
  const { name, namespace } = target({ ...req, kind: 'Pod' }, true);
  const c = new Checker('request logs');
  c.string(req.container, 'container');
  c.bool(req.previous, 'previous');
  c.bool(req.follow, 'follow');
  c.bool(req.timestamps, 'timestamps');
  c.int(req.tailLines, 'tailLines', 0);
  c.int(req.sinceSeconds, 'sinceSeconds', 0);
  if (c.string(req.sinceTime, 'sinceTime') && Number.isNaN(Date.parse(req.sinceTime))) c.fail('sinceTime', 'must be an RFC 3339 time', req.sinceTime);
  badRequest(c);
  const pod = await ctx.objects.mustGet('Pod', namespace, name);
  const node = pod.spec.nodeName;
  if (!node) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `pod "${name}" is not scheduled yet: no logs`);
  const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((x) => x.name);
  if (req.container && !names.includes(req.container as string)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container "${req.container}" is not in pod "${name}" (containers: ${names.join(', ')})`);
  const params = {
    namespace,
    name,
    uid: pod.metadata.uid,
    container: req.container ?? pod.spec.containers[0].name,
    previous: req.previous,
    tailLines: req.tailLines,
    follow: req.follow,
    timestamps: req.timestamps,
    sinceSeconds: req.sinceSeconds,
    sinceMs: typeof req.sinceTime === 'string' ? Date.parse(req.sinceTime) : undefined,
  };
  if (!req.follow) {
    const { done } = ctx.rpc.call(node, 'logs', params);
    return done;
  }
  const { id, done } = ctx.rpc.call(node, 'logs', params, { timeoutMs: 0, onChunk: (chunk) => call.send({ chunk }) });
  call.onEnd(() => ctx.rpc.cancel(id));
  done.then(
    () => call.end(),
    (err) => call.end(err),
  );
  return STREAMING;
}
