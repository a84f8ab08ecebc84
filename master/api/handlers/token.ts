/** `token {action: 'create' | 'list' | 'revoke', name?, access?}`: user tokens (admin access only). */
import { Checker, type ApiRequest } from '../../../protocol/index.js';
import { badRequest } from '../params.js';
import type { ApiContext } from '../types.js';

/** The token verb. */
export async function token(ctx: ApiContext, req: ApiRequest): Promise<unknown> {
  const c = new Checker('request token');
  c.oneOf(req.action, 'action', ['create', 'list', 'revoke'], true);
  if (req.action !== 'list') c.dnsLabel(req.name, 'name', true);
  c.oneOf(req.access, 'access', ['view', 'edit', 'admin']);
  if (req.name === 'admin') c.fail('name', 'is reserved for the administrator');
  badRequest(c);
  const name = req.name as string;
  switch (req.action) {
    case 'create': {
      const access = (req.access as 'view' | 'edit' | 'admin' | undefined) ?? 'view';
      const secret = await ctx.credentials.createToken(name, access);
      return { name, access, token: secret };
    }
    case 'revoke':
      await ctx.credentials.revokeToken(name);
      // Sessions opened with the token end now, not at their next reconnect.
      ctx.kick?.((id) => id.role === 'user' && id.name === name);
      return { name, revoked: true };
    default:
      return { items: ctx.credentials.listTokens() };
  }
}
