/**
 * Serves the dashboard's files: the bundle `npm run build` wrote (scripts/build-dashboard.mjs), read
 * once into memory and gzipped once, so a Pi serves each page from RAM. Hashed assets
 * (`/assets/app-3F2A1B.js`) are cached by browsers for a year (`immutable`); `index.html` is revalidated
 * every time. Every answer carries a strict Content-Security-Policy: scripts only from the master,
 * connections only back to it (the MQTT WebSocket).
 *
 * Lookups are in a Map built from the directory at start-up: a request path is never joined to a
 * file-system path.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** One file, ready to send. */
interface Asset {
  type: string;
  body: Buffer;
  gzip?: Buffer;
  /** Hashed name: cache for a year. */
  immutable: boolean;
}

const types = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.json', 'application/json'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.ico', 'image/x-icon'],
]);

/** Where the built dashboard is: beside the compiled server, or (tests run the TypeScript sources) in dist/. */
export function findPublicDir(): string | undefined {
  const beside = fileURLToPath(new URL('./public/', import.meta.url));
  const built = fileURLToPath(new URL('../../dist/master/dashboard/public/', import.meta.url));
  return [beside, built].find((d) => existsSync(join(d, 'index.html')));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** The Content-Security-Policy of every dashboard answer; connections may go back to `host` only. */
export function contentSecurityPolicy(host: string | undefined): string {
  // A Host header is the client's string: only a plain host[:port] goes into the header.
  const self = host && /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    // xterm.js and uPlot set element styles; no inline scripts are allowed anywhere.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${self}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The dashboard's static files. */
export class DashboardFiles {
  private readonly files = new Map<string, Asset>();

  /** Loads every file of `dir` (index.html at `/`). */
  constructor(readonly dir: string) {
    for (const path of walk(dir)) {
      if (path.endsWith('.map')) continue;
      const url = '/' + relative(dir, path).split(sep).join('/');
      const type = types.get(extname(path)) ?? 'application/octet-stream';
      const body = readFileSync(path);
      // Text assets are gzipped once here; an image or a tiny file is sent as is.
      const gzip = /^(text|application\/json|image\/svg)/.test(type) && body.length > 512 ? gzipSync(body, { level: 9 }) : undefined;
      this.files.set(url === '/index.html' ? '/' : url, { type, body, gzip, immutable: /-[A-Z0-9]{8,}\.\w+$/.test(url) });
    }
  }

  /** Total bytes of the files as sent gzipped (the bundle figure of docs/observability.md). */
  get gzipBytes(): number {
    let n = 0;
    for (const a of this.files.values()) n += (a.gzip ?? a.body).length;
    return n;
  }

  /** Answers GET/HEAD of a dashboard path; false when it is not one of the files. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const a = this.files.get(path === '/index.html' ? '/' : path);
    if (!a) return false;
    const gzip = a.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const body = gzip ? a.gzip! : a.body;
    res.writeHead(200, {
      'content-type': a.type,
      'content-length': body.length,
      'cache-control': a.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
      ...securityHeaders(req.headers.host),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  }
}

/** Headers on every dashboard answer. */
export function securityHeaders(host: string | undefined): Record<string, string> {
  return {
    'content-security-policy': contentSecurityPolicy(host),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    // The token lives in the URL fragment or the tab's storage; no page of ours ever sends it onwards.
    'referrer-policy': 'no-referrer',
  };
}
