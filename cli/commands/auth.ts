/**
 * `skiff auth can-i VERB TYPE[/NAME] [--subresource S] [-n NS | -A] [--as TOKEN-NAME] [-q]`, as kubectl: asks the
 * master whether this identity (or, for a cluster-wide admin, the token `--as` names) may do that — the same rule
 * table that guards each request (master/api/access.ts); prints yes or no, exit 0 for yes, 1 for no (the API
 * verb answers the reason too). `skiff auth whoami` prints the identity the client connects as.
 */
import { SkiffError, findKind } from '../../protocol/index.js';
import { namespaceOption, str, type Command } from '../args.js';
import { renderTable } from '../format/table.js';

/** The auth verb. */
export const auth: Command = {
  summary: 'check what you may do: auth can-i VERB TYPE, auth whoami',
  usage: `Usage:
  skiff auth can-i VERB TYPE[/NAME] [--subresource S] [-n NS | -A] [--as TOKEN-NAME] [-q]
  skiff auth whoami

VERB is a kubectl verb (get, list, watch, create, update, patch, delete, *) or a Skiff verb
(logs, exec, portforward, cp, scale, rollout, cordon, drain, top, token, jointoken, backup, secrets).

Examples:
  skiff auth can-i create deployments
  skiff auth can-i get pods --subresource=log
  skiff auth can-i get secrets               yes for view access too: names, keys and sizes, never values
  skiff auth can-i delete nodes --as grafana (cluster admin) what the token "grafana" may do
  skiff auth can-i '*' '*'

Flags:
  --subresource S          log, exec, portforward or scale
  -q, --quiet              no output: the exit status says (0 yes, 1 no)
  -n, --namespace NS       the namespace (default: the token's own, else the context's, else "default")
  -A, --all-namespaces     ask about every namespace at once
  --as NAME                ask about the token NAME (cluster-wide admin access only)
`,
  options: {
    ...namespaceOption,
    'all-namespaces': { type: 'boolean', short: 'A' },
    subresource: { type: 'string' },
    as: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
  },
  async run(ctx, values, positionals) {
    const [sub, verb, resource] = positionals;
    if (sub === 'whoami') {
      const conn = ctx.connection();
      ctx.io.stdout(renderTable(['ATTRIBUTE', 'VALUE'], [['Username', conn.user], ['Server', conn.server]]));
      return 0;
    }
    if (sub !== 'can-i') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff auth: ${sub ? `unknown subcommand "${sub}"` : 'a subcommand is required'}; subcommands: can-i, whoami`);
    if (!verb || !resource) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'you must specify two arguments: verb resource or verb resource/resourceName, e.g. "skiff auth can-i create pods"');
    // `pods/log` is a subresource in kubectl's spelling; `pod/web` names an object.
    const slash = resource.indexOf('/');
    let type = slash < 0 ? resource : resource.slice(0, slash);
    let subresource = str(values, 'subresource');
    if (slash >= 0 && ['log', 'exec', 'portforward', 'scale'].includes(resource.slice(slash + 1))) subresource ??= resource.slice(slash + 1);
    if (type !== '*' && !findKind(type)) {
      ctx.io.stderr(`Warning: the server doesn't have a resource type '${type}'\n`);
      type = '*';
    }
    const namespace = str(values, 'namespace');
    if (namespace && values['all-namespaces']) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff auth can-i: use either --namespace or --all-namespaces, not both');
    const api = await ctx.api();
    const r = await api.request<{ allowed: boolean; reason: string }>('can-i', {
      action: verb,
      kind: type,
      ...(subresource ? { subresource } : {}),
      ...(namespace ? { namespace } : {}),
      ...(values['all-namespaces'] ? { allNamespaces: true } : {}),
      ...(str(values, 'as') ? { as: str(values, 'as') } : {}),
    });
    if (!values.quiet) ctx.io.stdout(r.allowed ? 'yes\n' : 'no\n');
    return r.allowed ? 0 : 1;
  },
};
