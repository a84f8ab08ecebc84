/**
 * `skiff wait --for=condition=C[=V] | --for=delete | --for=jsonpath='{PATH}'[=VALUE] TYPE/NAME... [-l SEL|--all]
 * [--timeout 30s]`, as kubectl wait: each object is checked when it changes (a watch) and every second,
 * until its condition holds (`pod/web condition met`), it is gone (`pod/web deleted`), or the timeout
 * passes (`timed out waiting for the condition on pods/web`, exit 1).
 */
import { SkiffError, isObject, parseDuration, type KindInfo, type KObject } from '../../protocol/index.js';
import { streamDropped } from '../client.js';
import { namespaceOption, str, type Command, type Values } from '../args.js';
import { evalPath, text } from '../format/jsonpath-eval.js';
import { relaxedPath } from '../format/jsonpath.js';
import { resourceName } from '../format/output.js';
import { namespaceParam, parseTarget } from '../target.js';
import type { Api, CommandContext } from '../types.js';

/** What to wait for. */
type Goal =
  | { kind: 'delete' }
  | { kind: 'condition'; type: string; status: string }
  | { kind: 'jsonpath'; path: ReturnType<typeof relaxedPath>['path']; value?: string };

/** Parses `--for`. */
export function parseGoal(s: string): Goal {
  if (s === 'delete') return { kind: 'delete' };
  if (s.startsWith('condition=')) {
    const [type, status = 'True'] = s.slice('condition='.length).split('=');
    if (!type) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', '--for=condition=NAME: a condition name is required, e.g. --for=condition=Ready');
    return { kind: 'condition', type, status };
  }
  if (s.startsWith('jsonpath=')) {
    const rest = s.slice('jsonpath='.length);
    const close = rest.lastIndexOf('}');
    const expr = close >= 0 ? rest.slice(0, close + 1) : rest.split('=')[0];
    const after = rest.slice(expr.length);
    if (after !== '' && !after.startsWith('=')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--for=jsonpath: expected '{PATH}'=VALUE, got "${rest}"`);
    return { kind: 'jsonpath', path: relaxedPath(expr).path, ...(after ? { value: after.slice(1) } : {}) };
  }
  throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `unrecognized condition: "${s}" (use condition=NAME[=VALUE], delete or jsonpath='{PATH}'=VALUE)`);
}

/** Whether an object (undefined: it does not exist) meets the goal. */
export function meets(goal: Goal, o: KObject | undefined): boolean {
  if (goal.kind === 'delete') return o === undefined;
  if (!o) return false;
  if (goal.kind === 'condition') {
    // Any kind may be waited on: its status is read as data, not trusted to have conditions.
    const conds: unknown[] = isObject(o.status) && Array.isArray(o.status.conditions) ? o.status.conditions : [];
    return conds.some((c) => isObject(c) && String(c.type).toLowerCase() === goal.type.toLowerCase() && String(c.status).toLowerCase() === goal.status.toLowerCase());
  }
  const vals = evalPath(goal.path, o, o);
  return goal.value === undefined ? vals.length > 0 : vals.length > 0 && vals.every((v) => text(v) === goal.value);
}

/** The wait verb. */
export const wait: Command = {
  summary: 'wait for objects to meet a condition, or to be deleted',
  usage: `Usage:
  skiff wait --for=condition=NAME[=VALUE] TYPE/NAME... | TYPE (-l SELECTOR | --all) [--timeout DUR]
  skiff wait --for=delete TYPE/NAME... [--timeout DUR]
  skiff wait --for=jsonpath='{.status.phase}'=Running TYPE/NAME... [--timeout DUR]

Examples:
  skiff wait --for=condition=Ready pod -l app=web --timeout=60s
  skiff wait --for=condition=Available deployment/web
  skiff wait --for=delete pod/web-1

Flags:
  --for GOAL               condition=NAME[=VALUE] (VALUE defaults to True), delete, or jsonpath='{PATH}'[=VALUE]
  --timeout DUR            give up after this long (default 30s; 0 checks once)
  -l, --selector SELECTOR  every object of the type with these labels
  --all                    every object of the type in the namespace
  -n, --namespace NS       the namespace (default: the context's, else "default")
`,
  options: { ...namespaceOption, for: { type: 'string' }, timeout: { type: 'string' }, selector: { type: 'string', short: 'l' }, all: { type: 'boolean' } },
  async run(ctx, values, positionals) {
    const forText = str(values, 'for');
    if (!forText) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff wait: --for is required, e.g. --for=condition=Ready');
    const goal = parseGoal(forText);
    const timeoutText = str(values, 'timeout') ?? '30s';
    const timeoutMs = parseDuration(timeoutText);
    if (timeoutMs === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--timeout: must be a duration such as 30s or 5m, got "${timeoutText}"`);
    const { kind, names } = parseTarget('wait', positionals);
    const scope = namespaceParam(kind, values);
    const api = await ctx.api();
    const targets = names.length ? names : await selected(api, kind, scope, values);
    if (targets.length === 0) throw new SkiffError('SKIFF_ERR_NOT_FOUND', 'no matching resources found');
    const deadline = ctx.now() + timeoutMs;
    for (const name of targets) {
      const o = await untilMet(ctx, api, kind, scope, name, goal, deadline);
      ctx.io.stdout(`${resourceName(o)} ${goal.kind === 'delete' ? 'deleted' : 'condition met'}\n`);
    }
    return 0;
  },
};

async function selected(api: Api, kind: KindInfo, scope: { namespace?: string }, values: Values): Promise<string[]> {
  const selector = str(values, 'selector');
  if (!selector && !values.all) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff wait: name the ${kind.plural}, or select them with -l SELECTOR or --all`);
  const list = await api.request<{ items?: KObject[] }>('list', { kind: kind.kind, ...scope, ...(selector ? { labelSelector: selector } : {}) });
  return (list.items ?? []).map((o) => o.metadata.name);
}

/**
 * Checks the object on every change of it (a watch on its name) and every second, until it meets the goal;
 * resolves with the last version seen (for the message), rejects at the deadline.
 */
async function untilMet(ctx: CommandContext, api: Api, kind: KindInfo, scope: { namespace?: string }, name: string, goal: Goal, deadline: number): Promise<KObject> {
  const ref = { apiVersion: kind.apiVersion, kind: kind.kind, metadata: { name, ...scope } } as KObject;
  let last: KObject = ref;
  const fetch = async () => {
    const o = await api.request<KObject>('get', { kind: kind.kind, name, ...scope }).catch((err) => {
      if (err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND' && goal.kind === 'delete') return undefined;
      throw err;
    });
    if (o) last = o;
    return meets(goal, o);
  };
  if (await fetch()) return last;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  ctx.io.signal?.addEventListener('abort', onAbort, { once: true });
  let settle!: (v: KObject | Error) => void;
  const outcome = new Promise<KObject | Error>((r) => (settle = r));
  let checking = false;
  const check = () => {
    if (checking) return;
    checking = true;
    fetch()
      .then((ok) => (ok ? settle(last) : ctx.now() >= deadline ? settle(timedOut(kind, name)) : undefined), (err) => settle(err as Error))
      .finally(() => (checking = false));
  };
  const watching = api.stream('watch', { kind: kind.kind, ...scope, fieldSelector: `metadata.name=${name}` }, (res) => res.event && check(), stop.signal).catch((err) => streamDropped(err) || settle(err as Error)); // dropped: the poll goes on
  const poll = setInterval(check, 1000);
  const timer = setTimeout(() => settle(timedOut(kind, name)), Math.max(0, deadline - ctx.now()));
  stop.signal.addEventListener('abort', () => settle(new SkiffError('SKIFF_ERR_TIMEOUT', 'interrupted')), { once: true });
  const result = await outcome;
  clearInterval(poll);
  clearTimeout(timer);
  ctx.io.signal?.removeEventListener('abort', onAbort);
  stop.abort();
  await watching;
  if (result instanceof Error) throw result;
  return result;
}

function timedOut(kind: KindInfo, name: string): SkiffError {
  return new SkiffError('SKIFF_ERR_TIMEOUT', `timed out waiting for the condition on ${kind.plural}/${name}`);
}
