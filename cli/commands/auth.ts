/**
 * `skiff auth can-i VERB TYPE[/NAME] [--subresource S] [-n NS] [-q]`, as kubectl: asks the master whether
 * this identity may do that (the same rule that guards each request, master/api/access.ts); prints yes
 * or no, exit 0 for yes, 1 for no. `skiff auth whoami` prints the identity the client connects as.
 */
import { SkiffError, findKind } from '../../protocol/index.js';
import { namespaceOption, str, type Command } from '../args.js';
import { renderTable } from '../format/table.js';

/** The auth verb. */
export const auth: Command = {
  summary: 'check what you may do: auth can-i VERB TYPE, auth whoami',
  usage: `Usage:
  skiff auth can-i VERB TYPE[/NAME] [--subresource S] [-n NS] [-q]
  skiff auth whoami

Examples:
  skiff auth can-i create deployments
  skiff auth can-i get pods --subresource=log
  skiff auth can-i '*' '*'

Flags:
  --subresource S          log, exec, portforward or scale
  -q, --quiet              no output: the exit status says (0 yes, 1 no)
  -n, --namespace NS       the namespace (default: the context's, else "default")
`,
  options: { ...namespaceOption, subresource: { type: 'string' }, quiet: { type: 'boolean', short: 'q' } },
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
    const api = await ctx.api();
    const r = await api.request<{ allowed: boolean; reason: string }>('can-i', {
      action: verb,
      kind: type,
      ...(subresource ? { subresource } : {}),
      ...(str(values, 'namespace') ? { namespace: str(values, 'namespace') } : {}),
    });
    if (!values.quiet) ctx.io.stdout(r.allowed ? 'yes\n' : `no\n`);
    return r.allowed ? 0 : 1;
  },
};
