/**
 * Two-way streams between a client and a pod, relayed by the master over MQTT (so they work through NAT:
 * every party only ever connects out to the broker):
 *   portforward `{name, namespace?, port}`: a TCP connection to the pod's port on its node;
 *   cp `{name, namespace?, container?, path, direction: 'from' | 'to'}`: files out of or into the pod;
 *   exec with `stdin` or `tty` (exec.ts): a command with a terminal and/or stdin in a pod's container;
 *   input `{ref, data?, ack?, fin?, entry?, resize?}`: a piece from the client into its stream `ref`.
 * The agent's side answers with pieces the master passes on as they come. Flow control is end to end
 * (protocol/flow.ts: the sender keeps one window in flight, the receiver acknowledges what it wrote out),
 * so the master only forwards and holds nothing; it bounds how many streams are open per client and in all.
 */
import { Checker, SkiffError, chunkBytes, readyStatus, type ApiRequest, type Pod, type RpcRequest, type RpcResponse, type StreamPiece } from '../../../protocol/index.js';
import { badRequest, target } from '../params.js';
import { STREAMING, type ApiCall, type ApiContext } from '../types.js';

/** At most this many open streams per client (a port-forward opens one per TCP connection); 64. */
export const maxStreamsPerClient = 64;
/** At most this many open streams on the master; 1024. */
export const maxStreams = 1024;

/** Open streams: `clientId \0 request id` → the agent call that carries it. */
const open = new WeakMap<ApiContext, Map<string, { clientId: string; rpcId: string }>>();

function streamsOf(ctx: ApiContext): Map<string, { clientId: string; rpcId: string }> {
  let m = open.get(ctx);
  if (!m) open.set(ctx, (m = new Map()));
  return m;
}

/** `portforward`: opens a TCP connection to a port of a running pod. */
export async function portforward(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<typeof STREAMING> {
  const { name, namespace } = target({ ...req, kind: 'Pod' }, true);
  const c = new Checker('request portforward');
  if (typeof req.port === 'string') c.dnsLabel(req.port, 'port');
  else c.port(req.port, 'port', false, true);
  badRequest(c);
  const pod = await runningPod(ctx, namespace!, name, 'forward port');
  return relay(ctx, req, call, pod, 'portForward', { port: req.port });
}

/** `cp`: copies files out of (`from`) or into (`to`) a running pod's container. */
export async function cp(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<typeof STREAMING> {
  const { name, namespace } = target({ ...req, kind: 'Pod' }, true);
  const c = new Checker('request cp');
  c.string(req.path, 'path', true);
  c.string(req.container, 'container');
  c.oneOf(req.direction, 'direction', ['from', 'to'], true);
  badRequest(c);
  const pod = await runningPod(ctx, namespace!, name, 'copy files');
  const names = pod.spec.containers.map((x) => x.name);
  const container = (req.container as string | undefined) || names[0];
  if (!names.includes(container)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container "${container}" is not in pod "${name}" (containers: ${names.join(', ')})`);
  return relay(ctx, req, call, pod, 'cp', { container, path: req.path, direction: req.direction });
}

/** `input`: a piece into an open stream of this client; no answer (a piece for a stream that ended is dropped). */
export async function input(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<typeof STREAMING> {
  const c = new Checker('request input');
  c.string(req.ref, 'ref', true);
  if (req.data !== undefined && !(req.data instanceof Uint8Array && req.data.length <= chunkBytes)) c.fail('data', `must be bytes, at most ${chunkBytes}`);
  c.int(req.ack, 'ack', 0);
  c.bool(req.fin, 'fin');
  c.object(req.entry, 'entry');
  if (c.object(req.resize, 'resize')) {
    c.int(req.resize.rows, 'resize.rows', 1, 10_000, true);
    c.int(req.resize.cols, 'resize.cols', 1, 10_000, true);
  }
  badRequest(c);
  const s = streamsOf(ctx).get(`${call.clientId}\u0000${req.ref}`);
  if (s) ctx.rpc.input(s.rpcId, pieceOf(req));
  return STREAMING;
}

/** The pod, if it runs on a Ready node; else what stands in the way, in kubectl's words where it has some. */
async function runningPod(ctx: ApiContext, namespace: string, name: string, what: string): Promise<Pod> {
  const pod = await ctx.objects.mustGet('Pod', namespace, name);
  const phase = pod.status?.phase ?? 'Pending';
  if (phase !== 'Running' || !pod.spec.nodeName) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `unable to ${what} because pod is not running. Current status=${phase}`);
  const ready = readyStatus(ctx.informers.get('Node', undefined, pod.spec.nodeName));
  if (ready !== 'True') throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `node ${pod.spec.nodeName} of pod "${name}" is not Ready (${ready ?? 'unknown'}): cannot ${what}`);
  return pod;
}

/**
 * Opens the agent's side and passes pieces on until either end finishes; the client's cancel or disconnect
 * ends it. An exec's last answer (its exit code) goes to the client as `{result}` before the end.
 */
export function relay(ctx: ApiContext, req: ApiRequest, call: ApiCall, pod: Pod, method: RpcRequest['method'], extra: Record<string, unknown>): typeof STREAMING {
  const streams = streamsOf(ctx);
  const mine = [...streams.values()].filter((s) => s.clientId === call.clientId).length;
  if (mine >= maxStreamsPerClient || streams.size >= maxStreams)
    throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `too many open port-forward and cp streams (${mine >= maxStreamsPerClient ? `${maxStreamsPerClient} per client` : `${maxStreams} on the master`}); close some and retry`);
  const key = `${call.clientId}\u0000${req.id}`;
  const params = { namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid, ...extra };
  const { id, done } = ctx.rpc.call(pod.spec.nodeName!, method, params, { onPiece: (res) => call.send(pieceOf(res)) });
  streams.set(key, { clientId: call.clientId, rpcId: id });
  let over = false;
  call.onEnd(() => {
    streams.delete(key);
    if (!over) ctx.rpc.cancel(id);
  });
  done.then(
    (result) => {
      over = true;
      if (method === 'exec' && result !== undefined) call.send({ result });
      call.end();
    },
    (err) => ((over = true), call.end(err)),
  );
  return STREAMING;
}

/** Only the fields of a piece, whatever else the message carried. */
function pieceOf(m: StreamPiece | RpcResponse | ApiRequest): StreamPiece {
  const p: StreamPiece = {};
  if (m.data !== undefined) p.data = m.data as Uint8Array;
  if (m.ack !== undefined) p.ack = m.ack as number;
  if (m.fin !== undefined) p.fin = m.fin as boolean;
  if (m.entry !== undefined) p.entry = m.entry as StreamPiece['entry'];
  if (m.resize !== undefined) p.resize = m.resize as StreamPiece['resize'];
  if (m.stream !== undefined) p.stream = m.stream as StreamPiece['stream'];
  return p;
}
