/**
 * `skiff token create|list|revoke --join`: join tokens with an expiry and a use count (docs/security.md "Join
 * tokens"), as kubeadm's `token create --ttl`. The default TTL is kubeadm's, 24h; `--ttl 0` never expires.
 */
import { SkiffError, durationFlag } from '../../protocol/index.js';
import { intFlag, str, type Values } from '../args.js';
import { age, humanDuration } from '../format/age.js';
import { renderTable } from '../format/table.js';
import type { CommandContext } from '../types.js';

/** kubeadm's default token TTL. */
const DEFAULT_TTL = '24h';

/** One join token as the API lists it. */
interface Listed {
  name: string;
  createdAt: string;
  expiresAt?: string;
  usesLimit?: number;
  used: number;
  state: string;
}

/** `token create --join [NAME] [--ttl DUR] [--uses N]`: prints the token once, on stdout. */
export async function createJoinToken(ctx: CommandContext, values: Values, name: string | undefined): Promise<number> {
  const ttlMs = durationFlag('--ttl', str(values, 'ttl') ?? DEFAULT_TTL);
  if (ttlMs % 1000 !== 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--ttl: must be whole seconds, got "${str(values, 'ttl')}"`);
  const uses = intFlag(values, 'uses');
  if (uses === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', '--uses: must be at least 1 (leave it out for any number of joins)');
  const res = await (await ctx.api()).request<{ name: string; token: string; expiresAt?: string }>('jointoken', {
    action: 'create',
    ...(name ? { name } : {}),
    ttlSeconds: ttlMs / 1000,
    ...(uses !== undefined ? { uses } : {}),
  });
  const limits = [res.expiresAt ? `expires ${res.expiresAt}` : 'never expires', uses !== undefined ? `${uses} join${uses === 1 ? '' : 's'}` : 'any number of joins'];
  ctx.io.stderr(`join token "${res.name}" created (${limits.join(', ')}); it is shown only now. On a board: skiff-agent join --master mqtts://MASTER:8883 --token-file FILE\n`);
  ctx.io.stdout(`${res.token}\n`);
  return 0;
}

/** `token list --join`. */
export async function listJoinTokens(ctx: CommandContext): Promise<number> {
  const { items } = await (await ctx.api()).request<{ items: Listed[] }>('jointoken', { action: 'list' });
  const now = ctx.now();
  const ttl = (t: Listed) => (t.expiresAt ? (Date.parse(t.expiresAt) > now ? humanDuration(Date.parse(t.expiresAt) - now) : '0s') : '<forever>');
  const uses = (t: Listed) => (t.usesLimit !== undefined ? `${t.used}/${t.usesLimit}` : `${t.used}/-`);
  ctx.io.stdout(renderTable(['NAME', 'TTL', 'USES', 'STATE', 'AGE'], items.map((t) => [t.name, ttl(t), uses(t), t.state, age(t.createdAt, now)])));
  return 0;
}

/** `token revoke --join NAME`. */
export async function revokeJoinToken(ctx: CommandContext, name: string): Promise<number> {
  await (await ctx.api()).request('jointoken', { action: 'revoke', name });
  ctx.io.stdout(`join token "${name}" revoked\n`);
  return 0;
}
