/** `skiff logs POD [-c C] [-f] [--previous] [--tail N]`. */
import { SkiffError } from '../../protocol/index.js';
import { intFlag, namespaceOption, str, type Command } from '../args.js';
import { defaultNamespace } from '../target.js';

/** The logs verb. */
export const logs: Command = {
  summary: "print a pod's container logs",
  usage: `Usage:
  skiff logs POD [-c CONTAINER] [-f] [--previous] [--tail N] [-n NS]

Examples:
  skiff logs web-7d9c-x2x1
  skiff logs -f web-7d9c-x2x1 -c server --tail 20

Flags:
  -c, --container NAME     the container (default: the pod's only or first container)
  -f, --follow             keep printing new lines until Ctrl-C or the container ends
  -p, --previous           the logs of the previous (restarted) instance
  --tail N                 only the last N lines
  -n, --namespace NS       the namespace (default "default")
`,
  options: {
    ...namespaceOption,
    container: { type: 'string', short: 'c' },
    follow: { type: 'boolean', short: 'f' },
    previous: { type: 'boolean', short: 'p' },
    tail: { type: 'string' },
  },
  async run(ctx, values, positionals) {
    const [target, ...rest] = positionals;
    if (!target) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff logs: a pod name is required, e.g. "skiff logs web-7d9c-x2x1"');
    if (rest.length > 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff logs: unexpected argument "${rest[1]}"`);
    // `logs pod/NAME` as kubectl takes it; a second positional is the container, as in `kubectl logs POD C`.
    const name = target.replace(/^(pods?|po)\//, '');
    const container = str(values, 'container') ?? rest[0];
    const tailLines = intFlag(values, 'tail');
    const params = {
      name,
      namespace: str(values, 'namespace') ?? defaultNamespace,
      ...(container ? { container } : {}),
      ...(values.previous ? { previous: true } : {}),
      ...(tailLines !== undefined ? { tailLines } : {}),
    };
    const api = await ctx.api();
    if (!values.follow) {
      ctx.io.stdout(logText(await api.request('logs', params)));
      return 0;
    }
    await api.stream('logs', { ...params, follow: true }, (res) => {
      if (typeof res.chunk === 'string') ctx.io.stdout(res.chunk);
      else if (res.result !== undefined && res.result !== null) ctx.io.stdout(logText(res.result));
    }, ctx.io.signal);
    return 0;
  },
};

/** The master answers logs as text, or `{text}` / `{lines}`. */
function logText(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = (v ?? {}) as { text?: string; lines?: string[] };
  if (typeof o.text === 'string') return o.text;
  if (Array.isArray(o.lines)) return o.lines.map((l) => l + '\n').join('');
  return '';
}
