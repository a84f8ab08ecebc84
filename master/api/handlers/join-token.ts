/**
 * `jointoken {action: 'create' | 'list' | 'revoke', name?, ttlSeconds?, uses?}` (admin access only): join tokens
 * with an expiry and a use count, as kubeadm's `token create --ttl --usages` (docs/security.md "Join tokens").
 * The bootstrap token (DATA/join.token) is listed too; it is replaced with `token rotate-join`, not revoked.
 */
import { randomBytes } from 'node:crypto';
import { Checker, type ApiRequest } from '../../../protocol/index.js';
import { badRequest } from '../params.js';
import type { ApiContext } from '../types.js';

/** The longest TTL: ten years (the CA's own life). */
const MAX_TTL_SECONDS = 10 * 365 * 86_400;

/** A generated name, as kubeadm's token ids: six characters of [a-z0-9]. */
function generatedName(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...randomBytes(6)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** The jointoken verb. */
export async function jointoken(ctx: ApiContext, req: ApiRequest): Promise<unknown> {
  const c = new Checker('request jointoken');
  c.oneOf(req.action, 'action', ['create', 'list', 'revoke'], true);
  c.dnsLabel(req.name, 'name', req.action === 'revoke');
  c.int(req.ttlSeconds, 'ttlSeconds', 0, MAX_TTL_SECONDS);
  c.int(req.uses, 'uses', 1, 1_000_000);
  badRequest(c);
  const tokens = ctx.credentials.joinTokens;
  switch (req.action) {
    case 'create':
      return tokens.create({
        name: (req.name as string | undefined) ?? generatedName(),
        ...(typeof req.ttlSeconds === 'number' ? { ttlMs: req.ttlSeconds * 1000 } : {}),
        ...(typeof req.uses === 'number' ? { uses: req.uses } : {}),
      });
    case 'revoke': {
      const name = req.name as string;
      await tokens.revoke(name);
      // Exchanges under the token end now.
      ctx.kick?.((id) => id.role === 'joiner' && id.token === name);
      return { name, revoked: true };
    }
    default:
      return { items: tokens.list() };
  }
}
