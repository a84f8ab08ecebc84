/**
 * `skiff logs`, as kubectl logs: one pod (`POD`, `pod/POD`), the pod a workload or service stands for
 * (`deploy/web`: kubectl's pick, or every pod with --all-pods), or every pod a selector matches (`-l`),
 * with one container, `-c`, or `--all-containers`; `--prefix` names the source of every line; `-f`
 * follows every stream at once (at most --max-log-requests of them). Logs of a Completed or Failed pod
 * stay readable until the pod is deleted (its node keeps them).
 */
import { SkiffError, parseDuration, type Pod } from '../../protocol/index.js';
import { intFlag, namespaceOption, str, type Command, type Values } from '../args.js';
import { podsOf } from '../pods.js';
import { defaultNamespace } from '../target.js';
import type { Api, CommandContext } from '../types.js';

/** One stream: a container of a pod. */
interface Stream {
  pod: Pod;
  container: string;
}

/** The logs verb. */
export const logs: Command = {
  summary: "print a pod's container logs",
  usage: `Usage:
  skiff logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER] [flags]
  skiff logs [-f] -l SELECTOR [--all-containers] [--prefix] [flags]

Examples:
  skiff logs web-7d9c-x2x1
  skiff logs deploy/web --since 10m --timestamps
  skiff logs -l app=web --all-containers --prefix -f
  skiff logs job/backup            (a Completed job's pod: its logs stay until the pod is deleted)

Flags:
  -c, --container NAME      the container (default: the pod's only or first container)
  --all-containers          every container of the pods
  -l, --selector SELECTOR   every pod this label selector matches
  --all-pods                with TYPE/NAME: every pod of the workload, not the one kubectl would pick
  --prefix                  start each line with [pod/NAME/CONTAINER]
  -f, --follow              keep printing new lines until Ctrl-C or the containers end
  --max-log-requests N      the most streams -f follows at once (default 5)
  -p, --previous            the logs of the previous (restarted) instance
  --since DUR               only lines newer than this, e.g. 10s, 5m, 2h
  --since-time TIME         only lines at or after this RFC 3339 time
  --timestamps              start each line with its time (RFC 3339; Skiff dates lines to within a second)
  --tail N                  only the last N lines (default: all; 10 with -l)
  --pod-running-timeout DUR how long TYPE/NAME waits for a pod to exist (default 20s)
  -n, --namespace NS        the namespace (default: the context's, else "default")
`,
  options: {
    ...namespaceOption,
    container: { type: 'string', short: 'c' },
    'all-containers': { type: 'boolean' },
    selector: { type: 'string', short: 'l' },
    'all-pods': { type: 'boolean' },
    prefix: { type: 'boolean' },
    follow: { type: 'boolean', short: 'f' },
    'max-log-requests': { type: 'string' },
    previous: { type: 'boolean', short: 'p' },
    since: { type: 'string' },
    'since-time': { type: 'string' },
    timestamps: { type: 'boolean' },
    tail: { type: 'string' },
    'pod-running-timeout': { type: 'string' },
  },
  async run(ctx, values, positionals) {
    const namespace = str(values, 'namespace') ?? defaultNamespace;
    const selector = str(values, 'selector');
    const [target, ...rest] = positionals;
    if (!target && !selector) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff logs: a pod name, TYPE/NAME or -l SELECTOR is required, e.g. "skiff logs web-7d9c-x2x1"');
    if (target && selector) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff logs: only one of a pod (or TYPE/NAME) and -l SELECTOR may be given');
    if (rest.length > 1 || (selector && rest.length)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff logs: unexpected argument "${rest[rest.length - 1]}"`);
    // `logs POD C` as kubectl takes it: a second positional is the container.
    const container = str(values, 'container') ?? rest[0];
    if (container && values['all-containers']) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff logs: --container and --all-containers cannot be used together');
    const params = logParams(values, selector !== undefined);
    const api = await ctx.api();
    const pods = selector ? await podsBySelector(api, selector, namespace) : await podsOfTarget(ctx, api, target, namespace, values);
    const streams = pods.flatMap((pod) => containersOf(ctx, pod, container, values['all-containers'] === true, pods.length === 1 && !selector));
    const prefix = values.prefix === true;
    if (!values.follow) {
      for (const s of streams) write(ctx, s, prefix, await logText(api, s, params));
      return 0;
    }
    const max = intFlag(values, 'max-log-requests') ?? 5;
    if (streams.length > max)
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `you are attempting to follow ${streams.length} log streams, but maximum allowed concurrency is ${max}, use --max-log-requests to increase the limit`);
    await Promise.all(streams.map((s) => followOne(ctx, api, s, params, prefix, prefix || streams.length > 1)));
    return 0;
  },
};

/** The request parameters every stream shares. */
function logParams(values: Values, bySelector: boolean): Record<string, unknown> {
  const since = str(values, 'since');
  const sinceTime = str(values, 'since-time');
  if (since !== undefined && sinceTime !== undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'at most one of --since or --since-time may be specified');
  const sinceMs = since !== undefined ? parseDuration(since) : undefined;
  if (since !== undefined && sinceMs === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--since: must be a duration such as 10s, 5m or 2h, got "${since}"`);
  if (sinceTime !== undefined && Number.isNaN(Date.parse(sinceTime))) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--since-time: must be an RFC 3339 time such as 2026-01-10T12:00:00Z, got "${sinceTime}"`);
  // kubectl: -1 (all) for one pod, 10 with a selector.
  const tail = str(values, 'tail') === '-1' ? undefined : (intFlag(values, 'tail') ?? (bySelector ? 10 : undefined));
  return {
    ...(values.previous ? { previous: true } : {}),
    ...(tail !== undefined ? { tailLines: tail } : {}),
    ...(sinceMs !== undefined ? { sinceSeconds: Math.ceil(sinceMs / 1000) } : {}),
    ...(sinceTime !== undefined ? { sinceTime } : {}),
    ...(values.timestamps ? { timestamps: true } : {}),
  };
}

async function podsBySelector(api: Api, selector: string, namespace: string): Promise<Pod[]> {
  const list = await api.request<{ items?: Pod[] }>('list', { kind: 'Pod', namespace, labelSelector: selector });
  const pods = (list.items ?? []).filter((p) => p.spec.nodeName);
  if (pods.length === 0) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `no pods found in namespace "${namespace}" matching ${selector}`);
  return pods;
}

/** `POD`, `pod/POD` or `TYPE/NAME` (waiting up to --pod-running-timeout for the workload to have a pod). */
async function podsOfTarget(ctx: CommandContext, api: Api, target: string, namespace: string, values: Values): Promise<Pod[]> {
  const slash = target.indexOf('/');
  const [type, name] = slash < 0 ? ['pod', target] : [target.slice(0, slash), target.slice(slash + 1)];
  if (!name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff logs: "${target}" must be POD or TYPE/NAME`);
  const timeoutMs = parseDuration(str(values, 'pod-running-timeout') ?? '20s') ?? 20_000;
  const deadline = ctx.now() + timeoutMs;
  for (;;) {
    const pods = (await podsOf(api, type, name, namespace)).filter((p) => p.spec.nodeName);
    if (pods.length > 0) {
      if (values['all-pods'] || pods.length === 1) return pods;
      ctx.io.stderr(`Found ${pods.length} pods, using pod/${pods[0].metadata.name}\n`);
      return [pods[0]];
    }
    if (ctx.now() >= deadline || ctx.io.signal?.aborted) throw new SkiffError('SKIFF_ERR_TIMEOUT', `timed out waiting for a pod of ${target} to be scheduled`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The streams of one pod: the named container, every one, or kubectl's default (saying so when it chose). */
function containersOf(ctx: CommandContext, pod: Pod, container: string | undefined, all: boolean, single: boolean): Stream[] {
  const names = pod.spec.containers.map((c) => c.name);
  if (all) return names.map((c) => ({ pod, container: c }));
  if (container) {
    if (!names.includes(container)) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `container ${container} is not valid for pod ${pod.metadata.name} (it has: ${names.join(', ')})`);
    return [{ pod, container }];
  }
  const preferred = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  const chosen = preferred && names.includes(preferred) ? preferred : names[0];
  if (names.length > 1 && single && !preferred) ctx.io.stderr(`Defaulted container "${chosen}" out of: ${names.join(', ')}\n`);
  return [{ pod, container: chosen }];
}

function request(s: Stream, params: Record<string, unknown>): Record<string, unknown> {
  return { name: s.pod.metadata.name, namespace: s.pod.metadata.namespace, container: s.container, ...params };
}

async function logText(api: Api, s: Stream, params: Record<string, unknown>): Promise<string> {
  const v = await api.request<unknown>('logs', request(s, params));
  if (typeof v === 'string') return v;
  const o = (v ?? {}) as { text?: string; lines?: string[] };
  return typeof o.text === 'string' ? o.text : Array.isArray(o.lines) ? o.lines.map((l) => l + '\n').join('') : '';
}

/** Writes text, each line prefixed with its source when asked. */
function write(ctx: CommandContext, s: Stream, prefix: boolean, text: string): void {
  if (!prefix || text === '') return void ctx.io.stdout(text);
  const tag = `[pod/${s.pod.metadata.name}/${s.container}] `;
  const lines = text.split('\n');
  const last = lines.pop();
  ctx.io.stdout(lines.map((l) => tag + l + '\n').join('') + (last ? tag + last : ''));
}

/** Follows one stream; with several (or prefixes), whole lines only, so the lines of the streams never mix. */
async function followOne(ctx: CommandContext, api: Api, s: Stream, params: Record<string, unknown>, prefix: boolean, byLine: boolean): Promise<void> {
  let partial = '';
  await api.stream(
    'logs',
    { ...request(s, params), follow: true },
    (res) => {
      const text = typeof res.chunk === 'string' ? res.chunk : typeof res.result === 'string' ? res.result : '';
      if (!byLine) return void ctx.io.stdout(text);
      const all = partial + text;
      const cut = all.lastIndexOf('\n') + 1;
      partial = all.slice(cut);
      if (cut > 0) write(ctx, s, prefix, all.slice(0, cut));
    },
    ctx.io.signal,
  );
  if (partial) write(ctx, s, prefix, partial + '\n');
}
