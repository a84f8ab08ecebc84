/**
 * `skiff token create NAME [--access view|edit|admin] [--namespace NS] | list [--nodes] | revoke NAME | rotate-join`: user
 * tokens for people and programs, the node credentials issued at join, and the join token; with `--join`, join tokens
 * with an expiry and a use count (join-token.ts).
 */
import { SkiffError } from '../../protocol/index.js';
import { namespaceOption, str, type Command } from '../args.js';
import type { CommandContext } from '../types.js';
import { age } from '../format/age.js';
import { renderTable } from '../format/table.js';
import { createJoinToken, listJoinTokens, revokeJoinToken } from './join-token.js';

const accesses = ['view', 'edit', 'admin'];
const actions = ['create', 'list', 'revoke', 'rotate-join'];

/** The token verb. */
export const token: Command = {
  summary: 'create, list or revoke user tokens; list node credentials; rotate the join token',
  usage: `Usage:
  skiff token create NAME [--access view|edit|admin] [-n NS]
                                                       prints the new token once; with -n its reads and
                                                       writes are confined to namespace NS
  skiff token list                                     user tokens
  skiff token list --nodes                             node credentials issued at join, with their Node's state
  skiff token revoke NAME                              ends the token's sessions at once
  skiff token rotate-join                              a new bootstrap join token (printed once, written to DATA/join.token)
  skiff token create --join [NAME] [--ttl 24h] [--uses N]   a join token that expires (default 24h; --ttl 0 never)
                                                       and joins at most N nodes; printed once
  skiff token list --join                              join tokens: TTL left, uses, state (valid, expired, used up)
  skiff token revoke --join NAME                       a join token joins nothing more

Access: view reads (get, describe, logs, watch) but never a Secret's values; edit also changes
workloads (apply, delete, scale, rollout, exec, drain), reads Secrets and publishes autoscaling
metrics; admin may do everything, tokens and nodes included. A token created with --namespace works
only in that namespace: it reads cluster-scoped kinds (nodes, namespaces) and writes none, and is
refused -A. Check what a token may do with: skiff auth can-i VERB KIND [--as NAME].
Use a token with: skiff --user NAME --token TOKEN ..., or any MQTT client (user NAME, password TOKEN).
Every node credential has a Node: skiff delete node NAME revokes it. Rotating the join token leaves
joined nodes as they are and stops the old token from joining new ones. Join tokens carry the cluster
CA's hash (skiff1:sha256:<hash>::<secret>): agents pin it and refuse a master it does not match.
`,
  options: { access: { type: 'string' }, nodes: { type: 'boolean' }, join: { type: 'boolean' }, ttl: { type: 'string' }, uses: { type: 'string' }, ...namespaceOption },
  async run(ctx, values, positionals) {
    const [action, name, ...rest] = positionals;
    if (!actions.includes(action ?? '')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token: expected create, list, revoke or rotate-join, got ${action ? `"${action}"` : 'nothing'}`);
    if (values.join) return joinTokens(ctx, values, action!, name, rest);
    if (values.ttl !== undefined || values.uses !== undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: --ttl and --uses go with --join`);
    const named = action === 'create' || action === 'revoke';
    if (named && !name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: a token name is required`);
    const extra = named ? rest[0] : name;
    if (extra !== undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: unexpected argument "${extra}"`);
    if (values.nodes && action !== 'list') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: --nodes goes with list`);
    const namespace = str(values, 'namespace');
    if (namespace !== undefined && action !== 'create') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: --namespace goes with create`);
    const access = values.access;
    if (access !== undefined && (typeof access !== 'string' || !accesses.includes(access)))
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--access: must be one of ${accesses.join(', ')}, got "${String(access)}"`);
    const api = await ctx.api();
    if (action === 'list') return values.nodes ? listNodes(ctx) : listTokens(ctx);
    if (action === 'revoke') {
      await api.request('token', { action: 'revoke', name });
      ctx.io.stdout(`token "${name}" revoked\n`);
      return 0;
    }
    if (action === 'rotate-join') {
      const res = await api.request<{ token: string }>('token', { action: 'rotate-join' });
      ctx.io.stderr('join token rotated; the old one no longer joins nodes (joined nodes keep their credentials). The new token, shown only now:\n');
      ctx.io.stdout(`${res.token}\n`);
      return 0;
    }
    const res = await api.request<{ token: string; access: string }>('token', { action: 'create', name, access: access ?? 'view', ...(namespace ? { namespace } : {}) });
    ctx.io.stderr(`token "${name}" created with ${res.access} access${namespace ? ` in namespace "${namespace}"` : ''}; it is shown only now:\n`);
    ctx.io.stdout(`${res.token}\n`);
    return 0;
  },
};

/** `token ... --join`: join tokens. */
function joinTokens(ctx: CommandContext, values: Parameters<Command['run']>[1], action: string, name: string | undefined, rest: string[]): Promise<number> {
  if (values.access !== undefined || values.nodes) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action} --join: --access and --nodes are for user tokens`);
  const extra = action === 'list' ? name : rest[0];
  if (extra !== undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action} --join: unexpected argument "${extra}"`);
  if (action === 'create') return createJoinToken(ctx, values, name);
  if (action === 'list') return listJoinTokens(ctx);
  if (action === 'revoke') {
    if (!name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff token revoke --join: a join token name is required (skiff token list --join)');
    return revokeJoinToken(ctx, name);
  }
  throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: --join goes with create, list or revoke`);
}

async function listTokens(ctx: CommandContext): Promise<number> {
  const { items } = await (await ctx.api()).request<{ items: { name: string; access: string; namespace?: string; createdAt: string }[] }>('token', { action: 'list' });
  if (items.length === 0) {
    ctx.io.stderr('No tokens found.\n');
    return 0;
  }
  const now = ctx.io.now?.() ?? Date.now();
  ctx.io.stdout(renderTable(['NAME', 'ACCESS', 'NAMESPACE', 'AGE'], items.map((t) => [t.name, t.access, t.namespace ?? '*', age(t.createdAt, now)])));
  return 0;
}

async function listNodes(ctx: CommandContext): Promise<number> {
  const { items } = await (await ctx.api()).request<{ items: { node: string; issuedAt: string; status: string }[] }>('token', { action: 'list', nodes: true });
  if (items.length === 0) {
    ctx.io.stderr('No node credentials found.\n');
    return 0;
  }
  const now = ctx.io.now?.() ?? Date.now();
  ctx.io.stdout(renderTable(['NODE', 'ISSUED', 'NODE STATUS'], items.map((n) => [n.node, age(n.issuedAt, now), n.status])));
  return 0;
}
