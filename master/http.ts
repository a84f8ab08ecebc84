/**
 * The master's HTTPS endpoint: `/healthz`, `/readyz` and Prometheus `/metrics`. Read-only and
 * unauthenticated on purpose (no object data), like the kube-apiserver's health endpoints; served over TLS with
 * the master's server certificate (as the kube-apiserver serves only HTTPS): `curl --cacert DATA/tls/ca.crt`.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isReady, type Pod, type Node } from '../protocol/index.js';
import type { Informers } from './informer.js';

/** Figures the metrics endpoint reads. */
export interface MetricsSource {
  informers: Informers;
  mqttClients(): number;
  apiCounters(): { ok: number; error: number };
  storeRevision(): number;
}

/** Renders Prometheus text exposition. */
export function renderMetrics(src: MetricsSource): string {
  const pods = src.informers.list<Pod>('Pod');
  const nodes = src.informers.list<Node>('Node');
  const phases = new Map<string, number>();
  for (const p of pods) phases.set(p.status?.phase ?? 'Pending', (phases.get(p.status?.phase ?? 'Pending') ?? 0) + 1);
  const ready = nodes.filter(isReady).length;
  const api = src.apiCounters();
  const lines = [
    '# HELP skiff_nodes Nodes by readiness.',
    '# TYPE skiff_nodes gauge',
    `skiff_nodes{ready="true"} ${ready}`,
    `skiff_nodes{ready="false"} ${nodes.length - ready}`,
    '# HELP skiff_pods Pods by phase.',
    '# TYPE skiff_pods gauge',
    ...[...phases].map(([ph, n]) => `skiff_pods{phase="${ph}"} ${n}`),
    '# HELP skiff_mqtt_clients Connected MQTT clients.',
    '# TYPE skiff_mqtt_clients gauge',
    `skiff_mqtt_clients ${src.mqttClients()}`,
    '# HELP skiff_api_requests_total API requests answered.',
    '# TYPE skiff_api_requests_total counter',
    `skiff_api_requests_total{outcome="ok"} ${api.ok}`,
    `skiff_api_requests_total{outcome="error"} ${api.error}`,
    '# HELP skiff_store_revision The store revision.',
    '# TYPE skiff_store_revision gauge',
    `skiff_store_revision ${src.storeRevision()}`,
  ];
  return lines.join('\n') + '\n';
}

/** Starts the HTTP server. */
export async function startHttp(port: number, host: string, src: MetricsSource, tls: { key: string; cert: string }): Promise<{ server: Server; port: number }> {
  const server = createServer({ key: tls.key, cert: tls.cert, minVersion: 'TLSv1.2' }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405).end();
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderMetrics(src));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
