/**
 * The shape check of a `services/{ns}/{name}` payload and what the proxy takes from it: per service port,
 * the backends (ready endpoints with a resolved port) and the addresses to listen on.
 */
import net from 'node:net';
import type { ServiceMessage } from '../../protocol/messages.js';
import { mirrorServiceIP } from '../../protocol/service-ips.js';
import type { Backend } from './backends.js';
import type { ProxyConfig } from './options.js';

const isMap = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535;

/** Checks a decoded payload; returns the first problem, or the message. */
export function checkServiceMessage(v: unknown, namespace: string, name: string): { ok: true; msg: ServiceMessage } | { ok: false; error: string } {
  const bad = (error: string) => ({ ok: false as const, error });
  if (!isMap(v)) return bad('not a map');
  if (v.namespace !== namespace || v.name !== name) return bad(`namespace/name: must match the topic ${namespace}/${name}, got ${v.namespace}/${v.name}`);
  if (!Array.isArray(v.ports)) return bad('ports: must be a list');
  for (const [i, p] of (v.ports as unknown[]).entries()) {
    if (!isMap(p) || !isPort(p.port)) return bad(`ports[${i}].port: must be a port number`);
    if (p.protocol !== 'TCP' && p.protocol !== 'UDP') return bad(`ports[${i}].protocol: must be TCP or UDP`);
    if (p.nodePort !== undefined && !isPort(p.nodePort)) return bad(`ports[${i}].nodePort: must be a port number`);
  }
  if (!Array.isArray(v.endpoints)) return bad('endpoints: must be a list');
  for (const [i, e] of (v.endpoints as unknown[]).entries())
    if (!isMap(e) || typeof e.address !== 'string' || !net.isIP(e.address) || !isMap(e.ports)) return bad(`endpoints[${i}]: must have an IP address and ports`);
  if (v.clusterIP !== undefined && typeof v.clusterIP !== 'string') return bad('clusterIP: must be a string');
  return { ok: true, msg: v as unknown as ServiceMessage };
}

/** The key of a service port within its service: its name, '' when unnamed. */
export const portKey = (p: { name?: string }) => p.name ?? '';

/** The ready backends of one service port, de-duplicated by `address:port`. */
export function backendsOf(msg: ServiceMessage, portName: string): Backend[] {
  const out = new Map<string, Backend>();
  for (const e of msg.endpoints) {
    const port = e.ports[portName];
    if (e.ready === false || !isPort(port)) continue;
    const weight = Number.isInteger(e.weight) && e.weight! >= 0 && e.weight! <= 65535 ? e.weight! : 1;
    const id = `${e.address.includes(':') ? `[${e.address}]` : e.address}:${port}`;
    if (!out.has(id)) out.set(id, { id, address: e.address, port, weight });
  }
  return [...out.values()];
}

/** One address the proxy listens on for one service port. */
export interface ListenSpec {
  /** `TCP/127.77.0.5:80` */
  key: string;
  protocol: 'TCP' | 'UDP';
  host: string;
  port: number;
  portName: string;
  /** What the listener is, for messages: the service's clusterIP port or its NodePort. */
  role: 'clusterIP' | 'nodePort';
}

/**
 * Where a service is served: clusterIP:port (unless headless or disabled), its pod-network mirror when the agent
 * has a pod network (`podServiceRange`: 127.77.a.b → 10.43.a.b, docs/networking.md), and nodePort on each
 * node-port address.
 */
export function listenersOf(msg: ServiceMessage, cfg: ProxyConfig): ListenSpec[] {
  const out: ListenSpec[] = [];
  const add = (protocol: 'TCP' | 'UDP', host: string, port: number, portName: string, role: ListenSpec['role']) => out.push({ key: `${protocol}/${host}:${port}`, protocol, host, port, portName, role });
  const clusterIP = msg.clusterIP && net.isIP(msg.clusterIP) ? msg.clusterIP : undefined;
  const mirror = clusterIP && cfg.podServiceRange ? mirrorServiceIP(clusterIP, cfg.podServiceRange) : undefined;
  for (const p of msg.ports) {
    if (clusterIP && cfg.clusterIPs) add(p.protocol, clusterIP, p.port, portKey(p), 'clusterIP');
    if (mirror) add(p.protocol, mirror, p.port, portKey(p), 'clusterIP');
    if (p.nodePort && (msg.type === 'NodePort' || msg.type === 'LoadBalancer'))
      for (const a of cfg.nodePortAddresses) add(p.protocol, a, p.nodePort, portKey(p), 'nodePort');
  }
  return out;
}
