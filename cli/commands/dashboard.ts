/**
 * `skiff dashboard [--open] [--url URL]`: prints a link to the master's dashboard that logs in by itself —
 * the user and token ride in the URL's fragment (`#user=admin&token=...`), which a browser never sends
 * to a server, so the token reaches no access log; the page removes it from the address bar at once.
 * The address comes from `--url`, else the client config's `dashboard` (the master writes it), else the
 * server's host on port 8080 (HTTPS: the browser is shown the cluster CA's certificate, DATA/tls/ca.crt).
 */
import { spawn } from 'node:child_process';
import { SkiffError } from '../../protocol/index.js';
import { str, type Command } from '../args.js';
import { defaultConfigPath, readConfig, resolveConnection } from '../config.js';

/** The dashboard's base URL for this connection. */
export function dashboardBase(explicit: string | undefined, configured: string | undefined, server: string): string {
  // The master serves its dashboard over HTTPS (the cluster CA's server certificate) on 8080 by default.
  const raw = explicit ?? configured ?? `https://${new URL(server.replace(/^(mqtts?|tcp|ssl|wss?):/, 'http:')).hostname}:8080/`;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--url: must be an http(s) URL such as http://pi.local:8080/, got "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--url: must be an http(s) URL, got "${raw}"`);
  u.hash = '';
  return u.toString();
}

/** The link that logs in: the base URL with `#user=...&token=...`. */
export function dashboardLink(base: string, user: string, token: string): string {
  return `${base}#${new URLSearchParams({ user, token }).toString()}`;
}

/** Opens a URL in the desktop's browser (xdg-open, open, start). */
function openInBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/** The dashboard verb. */
export const dashboard: Command = {
  summary: 'print (or open) a link to the dashboard that logs in with your token',
  usage: `Usage:
  skiff dashboard [--open] [--url URL]

The link carries the token in its fragment (#user=...&token=...): browsers never send a fragment to a
server. Anyone who sees the link has the token: for a wall screen, create a view token
(skiff token create wall --access view) and use --token and --user.

Flags:
  --open         open the link in the desktop's browser instead of printing it
  --url URL      the dashboard's address (default: from the client config, else https://SERVER-HOST:8080/)
`,
  options: { open: { type: 'boolean' }, url: { type: 'string' } },
  async run(ctx, values) {
    const conn = resolveConnection({ server: str(values, 'server'), token: str(values, 'token'), user: str(values, 'user'), config: str(values, 'config') }, ctx.io.env);
    if (!conn.token) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff dashboard: no token (pass --token, set SKIFF_TOKEN, or use the client config the master writes)');
    const explicit = str(values, 'config') ?? ctx.io.env.SKIFF_CONFIG;
    const file = readConfig(explicit ?? defaultConfigPath(ctx.io.env), explicit !== undefined) as { dashboard?: unknown };
    const link = dashboardLink(dashboardBase(str(values, 'url'), typeof file.dashboard === 'string' ? file.dashboard : undefined, conn.server), conn.user, conn.token);
    if (values.open) {
      openInBrowser(link);
      ctx.io.stdout(`opened the dashboard (${link.split('#')[0]})\n`);
    } else ctx.io.stdout(link + '\n');
    return 0;
  },
};
