/** The streaming verbs: `watch` (object changes) and `logs` (with `follow`). */
import { Checker, SkiffError, type ApiRequest, type KObject } from '../../../protocol/index.js';
import type { ChangeHandler } from '../../informer.js';
import { badRequest, selection, target } from '../params.js';
import { STREAMING, type ApiCall, type ApiContext } from '../types.js';
import { watchEvents } from './events.js';

/** `watch {kind, namespace?, allNamespaces?, labelSelector?, fieldSelector?}`: the current objects as ADDED, then every change. */
export async function watch(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<typeof STREAMING> {
  const { kind, namespace } = target(req, false);
  const selected = selection(req, kind);
  const all = req.allNamespaces === true || !kind.namespaced;
  if (kind.kind === 'Event') return watchEvents(ctx, all ? undefined : namespace, selected, call);
  const wanted = (o: KObject) => (all || o.metadata.namespace === namespace) && selected(o);
  const handler: ChangeHandler = (obj, old, o) => {
    if (!wanted(o)) return;
    call.send({ event: { type: !obj ? 'DELETED' : old ? 'MODIFIED' : 'ADDED', object: o } });
  };
  ctx.informers.on(kind.kind, handler);
  call.onEnd(() => ctx.informers.off(kind.kind, handler));
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
