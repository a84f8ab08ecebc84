/** `skiff token create NAME [--access view|edit|admin] | list | revoke NAME`: user tokens for people and programs. */
import { SkiffError } from '../../protocol/index.js';
import type { Command } from '../args.js';
import { age } from '../format/age.js';
import { renderTable } from '../format/table.js';

const accesses = ['view', 'edit', 'admin'];

/** The token verb. */
export const token: Command = {
  summary: 'create, list or revoke user tokens (MQTT user name = token name)',
  usage: `Usage:
  skiff token create NAME [--access view|edit|admin]   prints the new token once
  skiff token list
  skiff token revoke NAME                              ends the token's sessions at once

Access: view reads (get, describe, logs, watch); edit also changes workloads (apply, delete, scale,
rollout, drain) and publishes autoscaling metrics; admin may do everything, tokens included.
Use a token with: skiff --user NAME --token TOKEN ..., or any MQTT client (user NAME, password TOKEN).
`,
  options: { access: { type: 'string' } },
  async run(ctx, values, positionals) {
    const [action, name, ...rest] = positionals;
    if (!['create', 'list', 'revoke'].includes(action ?? '')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token: expected create, list or revoke, got ${action ? `"${action}"` : 'nothing'}`);
    if (action !== 'list' && !name) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: a token name is required`);
    if (rest.length > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff token ${action}: unexpected argument "${rest[0]}"`);
    const access = values.access;
    if (access !== undefined && (typeof access !== 'string' || !accesses.includes(access)))
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--access: must be one of ${accesses.join(', ')}, got "${String(access)}"`);
    const api = await ctx.api();
    if (action === 'list') {
      const { items } = await api.request<{ items: { name: string; access: string; createdAt: string }[] }>('token', { action: 'list' });
      if (items.length === 0) {
        ctx.io.stderr('No tokens found.\n');
        return 0;
      }
      const now = ctx.io.now?.() ?? Date.now();
      ctx.io.stdout(renderTable(['NAME', 'ACCESS', 'AGE'], items.map((t) => [t.name, t.access, age(t.createdAt, now)])));
      return 0;
    }
    if (action === 'revoke') {
      await api.request('token', { action: 'revoke', name });
      ctx.io.stdout(`token "${name}" revoked\n`);
      return 0;
    }
    const res = await api.request<{ token: string; access: string }>('token', { action: 'create', name, access: access ?? 'view' });
    ctx.io.stderr(`token "${name}" created with ${res.access} access; it is shown only now:\n`);
    ctx.io.stdout(`${res.token}\n`);
    return 0;
  },
};
