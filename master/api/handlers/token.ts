/**
 * `token {action: 'create' | 'list' | 'revoke' | 'rotate-join', name?, access?, namespace?, nodes?}`: user tokens, node
 * credentials and the join token (cluster-wide admin access only). A token created with a namespace is confined to
 * it (access.ts), as a RoleBinding confines a ClusterRole.
 */
import { Checker, SkiffError, readyStatus, type ApiRequest, type Node } from '../../../protocol/index.js';
import { BOOTSTRAP } from '../../join-tokens.js';
import { badRequest } from '../params.js';
import type { ApiContext } from '../types.js';

/** The token verb. */
export async function token(ctx: ApiContext, req: ApiRequest): Promise<unknown> {
  const c = new Checker('request token');
  c.oneOf(req.action, 'action', ['create', 'list', 'revoke', 'rotate-join'], true);
  if (req.action === 'create' || req.action === 'revoke') c.dnsLabel(req.name, 'name', true);
  c.oneOf(req.access, 'access', ['view', 'edit', 'admin']);
  c.dnsLabel(req.namespace, 'namespace');
  if (req.namespace !== undefined && req.action !== 'create') c.fail('namespace', 'goes with create only');
  c.bool(req.nodes, 'nodes');
  if (req.name === 'admin') c.fail('name', 'is reserved for the administrator');
  badRequest(c);
  const name = req.name as string;
  switch (req.action) {
    case 'create': {
      const access = (req.access as 'view' | 'edit' | 'admin' | undefined) ?? 'view';
      const namespace = req.namespace as string | undefined;
      const secret = await ctx.credentials.createToken(name, access, namespace);
      return { name, access, ...(namespace ? { namespace } : {}), token: secret };
    }
    case 'revoke':
      if (!ctx.credentials.listTokens().some((t) => t.name === name) && ctx.credentials.joinTokens.secretOf(name) !== undefined)
        throw new SkiffError('SKIFF_ERR_NOT_FOUND', `tokens "${name}" not found; "${name}" is a join token: skiff token revoke --join ${name}`);
      await ctx.credentials.revokeToken(name);
      // Sessions opened with the token end now, not at their next reconnect.
      ctx.kick?.((id) => id.role === 'user' && id.name === name);
      return { name, revoked: true };
    case 'rotate-join': {
      const secret = ctx.credentials.rotateJoinToken();
      // Exchanges under the old token end now; nodes that joined keep their own credentials.
      ctx.kick?.((id) => id.role === 'joiner' && id.token === BOOTSTRAP);
      return { token: secret };
    }
    default:
      if (req.nodes === true)
        return {
          items: ctx.credentials.listNodes().map((n) => ({ ...n, status: nodeState(ctx.informers.get('Node', undefined, n.node)) })),
        };
      return { items: ctx.credentials.listTokens() };
  }
}

/** How `token list --nodes` shows a credential's Node: Ready, NotReady, or missing (then it is revoked at the next start). */
function nodeState(n: Node | undefined): string {
  if (!n) return 'NoNode';
  return readyStatus(n) === 'True' ? 'Ready' : 'NotReady';
}
