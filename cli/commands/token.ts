/**
 * `skiff token create NAME [--access view|edit|admin] | list [--nodes] | revoke NAME | rotate-join`: user tokens
 * for people and programs, the node credentials issued at join, and the join token.
 */
import { SkiffError } from '../../protocol/index.js';
import type { Command } from '../args.js';
import type { CommandContext } from '../types.js';
import { age } from '../format/age.js';
import { renderTable } from '../format/table.js';

const accesses = ['view', 'edit', 'admin'];
const actions = ['create', 'list', 'revoke', 'rotate-join'];

/** The token verb. */
export const token: Command = {
  summary: 'create, list or revoke user tokens; list node credentials; rotate the join token',
  usage: `Usage:
  skiff token create NAME [--access view|edit|admin]   prints the new token once
  skiff token list                                     user tokens
  skiff token list --nodes                             node credentials issued at join, with their Node's state
  skiff token revoke NAME                              ends the token's sessions at once
  skiff token rotate-join                              a new join token (printed once, written to DATA/join.token)

Access: view reads (get, describe, logs, watch); edit also changes workloads (apply, delete, scale,
rollout, drain) and publishes autoscaling metrics; admin may do everything, tokens and nodes included.
Use a token with: skiff --user NAME --token TOKEN ..., or any MQTT client (user NAME, password TOKEN).
Every node credential has a Node: skiff delete node NAME revokes it. Rotating the join token leaves
joined nodes as they are and stops the old token from joining new ones.
`,
  options: { access: { type: 'string' }, nodes: { type: 'boolean' } },
  async run(ctx, values, positionals) {
    const [action, name, ...rest] = positionals;
    if (!actions.includes(action ?? '')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token: expected create, list, revoke or rotate-join, got ${action ? `"${action}"` : 'nothing'}`);
    const named = action === 'create' || action === 'revoke';
    if (named && !name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: a token name is required`);
    const extra = named ? rest[0] : name;
    if (extra !== undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: unexpected argument "${extra}"`);
    if (values.nodes && action !== 'list') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: --nodes goes with list`);
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
    const res = await api.request<{ token: string; access: string }>('token', { action: 'create', name, access: access ?? 'view' });
    ctx.io.stderr(`token "${name}" created with ${res.access} access; it is shown only now:\n`);
    ctx.io.stdout(`${res.token}\n`);
    return 0;
  },
};

async function listTokens(ctx: CommandContext): Promise<number> {
  const { items } = await (await ctx.api()).request<{ items: { name: string; access: string; createdAt: string }[] }>('token', { action: 'list' });
  if (items.length === 0) {
    ctx.io.stderr('No tokens found.\n');
    return 0;
  }
  const now = ctx.io.now?.() ?? Date.now();
  ctx.io.stdout(renderTable(['NAME', 'ACCESS', 'AGE'], items.map((t) => [t.name, t.access, age(t.createdAt, now)])));
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
