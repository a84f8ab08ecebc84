/**
 * The master's HTTPS port: `/healthz` and `/readyz`, Prometheus `/metrics`, the dashboard at `/` with its
 * assets, and MQTT over WebSocket at `/mqtt` (the dashboard's live connection, authenticated by the
 * broker like any MQTT client). Served over TLS with the master's server certificate (as the
 * kube-apiserver serves only HTTPS): `curl --cacert DATA/tls/ca.crt`.
 *
 * `/metrics` is unauthenticated on purpose, like the kube-apiserver's health endpoints and the kubelet's
 * read-only port: Prometheus scrapes without a token, and what it exposes is counts, latencies and the
 * names and labels needed to tell series apart (nodes, namespaces, pods, containers, controllers) — no
 * object data, no env, no Secret, no event message (docs/observability.md). Bind the HTTP port to a
 * private interface (`--bind`) where even names must not be seen.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Broker } from './broker/index.js';
import { serveMqttOverWebSocket, type MqttWebSocket } from './broker/websocket.js';
import { securityHeaders, type DashboardFiles } from './dashboard/server.js';
import type { Telemetry } from './telemetry/registry.js';

/** What the HTTP port serves. */
export interface HttpParts {
  telemetry: Telemetry;
  /** MQTT over WebSocket at /mqtt into this broker. */
  broker: Pick<Broker, 'accept'>;
  /** The dashboard's files; absent with --no-dashboard or when it was not built. */
  dashboard?: DashboardFiles;
}

/** A running HTTP endpoint. */
export interface HttpEndpoint {
  server: Server;
  port: number;
  websocket: MqttWebSocket;
  /** Closes the WebSockets, then the server. */
  close(): Promise<void>;
}

function text(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(body);
}

async function handle(parts: HttpParts, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
  if (path === '/healthz' || path === '/readyz') return text(res, 200, 'ok\n');
  if (path === '/metrics') {
    const body = await parts.telemetry.scrape();
    res.writeHead(200, { 'content-type': parts.telemetry.contentType }).end(body);
    return;
  }
  if (parts.dashboard?.serve(req, res, path)) return;
  if (path === '/' && !parts.dashboard) return text(res, 404, 'the dashboard is off (--no-dashboard) or was not built (npm run build)\n');
  text(res, 404, 'not found\n', parts.dashboard ? securityHeaders(req.headers.host) : {});
}

/** Starts the HTTP server. */
export async function startHttp(port: number, host: string, parts: HttpParts, tls: { key: string; cert: string }): Promise<HttpEndpoint> {
  const server = createServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, (req, res) => {
    handle(parts, req, res).catch((err: Error) => {
      if (!res.headersSent) text(res, 500, `error: ${err.message}\n`);
      else res.destroy();
    });
  });
  const websocket = serveMqttOverWebSocket(server, parts.broker);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    websocket,
    async close() {
      websocket.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}
