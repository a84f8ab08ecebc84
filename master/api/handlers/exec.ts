/**
 * The `exec` verb: runs a command in a pod's container on the pod's node (the agent's `exec` RPC) and relays
 * its output as `{chunk, stream}`, then `{result: {exitCode}}`, then `done`. With `stdin` or `tty` it is
 * interactive: a two-way stream relayed as port-forward's (channel.ts), the client's keystrokes in through
 * `input`. The client's cancel (or its disconnect) cancels the RPC, and the agent kills the command.
 */
import { Checker, SkiffError, readyStatus, type ApiRequest } from '../../../protocol/index.js';
import { badRequest, target } from '../params.js';
import { relay } from './channel.js';
import { STREAMING, type ApiCall, type ApiContext } from '../types.js';

/** The agent's deadline when the request names none (edge-agent/rpc/exec.ts): 5 min. */
const DEFAULT_TIMEOUT_S = 300;
/** How long past the command's deadline the master waits for the agent's last word; 10 s. */
const ANSWER_GRACE_MS = 10_000;

/** `exec {name, namespace?, container?, command: string[], timeoutSeconds?}`: streams the command's output and exit code. */
export async function exec(ctx: ApiContext, req: ApiRequest, call: ApiCall): Promise<typeof STREAMING> {
  const { name, namespace } = target({ ...req, kind: 'Pod' }, true);
  const c = new Checker('request exec');
  c.string(req.container, 'container');
  if (c.stringList(req.command, 'command') && (req.command as string[]).length === 0) c.fail('command', 'must name a command');
  if (req.command === undefined || req.command === null) c.fail('command', 'is required');
  c.int(req.timeoutSeconds, 'timeoutSeconds', 1);
  c.bool(req.stdin, 'stdin');
  c.bool(req.tty, 'tty');
  c.int(req.rows, 'rows', 1, 10_000);
  c.int(req.cols, 'cols', 1, 10_000);
  badRequest(c);
  const pod = await ctx.objects.mustGet('Pod', namespace, name);
  const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((x) => x.name);
  const container = (req.container as string | undefined) || pod.spec.containers[0].name;
  if (!names.includes(container)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container "${container}" is not in pod "${name}" (containers: ${names.join(', ')})`);
  // Kubernetes: "cannot exec into a container in a completed pod"; its node has already let it go.
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `container "${container}" is not running: pod "${name}" has completed (phase ${phase})`);
  const node = pod.spec.nodeName;
  if (!node) throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `pod "${name}" is not scheduled yet: container "${container}" is not running`);
  // An unreachable agent would leave the call waiting for its whole deadline: refuse it up front.
  const ready = readyStatus(ctx.informers.get('Node', undefined, node));
  if (ready !== 'True') throw new SkiffError('SKIFF_ERR_UNAVAILABLE', `node ${node} of pod "${name}" is not Ready (${ready ?? 'unknown'}): cannot exec`);
  if (req.stdin === true || req.tty === true) {
    const extra = { container, command: req.command, stdin: req.stdin === true, tty: req.tty === true, rows: req.rows, cols: req.cols, timeoutSeconds: req.timeoutSeconds };
    return relay(ctx, req, call, pod, 'exec', extra);
  }
  const timeoutSeconds = (req.timeoutSeconds as number | undefined) ?? DEFAULT_TIMEOUT_S;
  const params = { namespace, name, uid: pod.metadata.uid, container, command: req.command, timeoutSeconds };
  // No deadline of the RPC's own beyond the command's: the agent kills the command at timeoutSeconds and answers.
  const { id, done } = ctx.rpc.call(node, 'exec', params, {
    timeoutMs: timeoutSeconds * 1000 + ANSWER_GRACE_MS,
    onChunk: (chunk, res) => call.send({ chunk, ...(res.stream ? { stream: res.stream } : {}) }),
  });
  let cancelled = false;
  call.onEnd(() => {
    cancelled = true;
    ctx.rpc.cancel(id);
  });
  done.then(
    (result) => {
      if (cancelled) return; // the client's cancel already ended the stream
      call.send({ result });
      call.end();
    },
    (err) => call.end(err),
  );
  return STREAMING;
}
