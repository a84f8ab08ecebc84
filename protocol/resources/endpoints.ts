/**
 * Endpoints (core/v1): the addresses behind a Service. The master's endpoints controller writes one per
 * Service with a selector (same name); a Service without a selector uses one the user applies, as in
 * Kubernetes. Addresses with identical port sets share a subset (process pods get their own ports).
 */
import { isIP } from 'node:net';
import type { Checker } from '../check.js';
import type { KObject } from '../types.js';

/** One address of a subset. */
export interface EndpointAddress {
  ip: string;
  /** The pod's hostname when its spec.subdomain is this service (a StatefulSet pod): its DNS name is `<hostname>.<service>.<namespace>.svc.cluster.local`. */
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid?: string };
}

/** A port of a subset: `name` is the service port's name. */
export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: 'TCP' | 'UDP';
}

/** Addresses sharing one port set. */
export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** The Endpoints kind. */
export interface Endpoints extends KObject {
  kind: 'Endpoints';
  subsets?: EndpointSubset[];
}

/** Endpoints defaults, as core/v1: a port's protocol is TCP. */
export function defaultEndpoints(o: Endpoints): void {
  for (const s of o.subsets ?? []) for (const p of s.ports ?? []) p.protocol ??= 'TCP';
}

/** Checks subsets: IP addresses, ports 1–65535, TCP/UDP. */
export function checkEndpoints(c: Checker, o: Record<string, any>): void {
  if (!c.array(o.subsets, 'subsets')) return;
  o.subsets.forEach((s: unknown, i: number) => {
    const f = `subsets[${i}]`;
    if (!c.object(s, f, true)) return;
    for (const list of ['addresses', 'notReadyAddresses'] as const)
      if (c.array(s[list], `${f}.${list}`))
        s[list].forEach((a: unknown, j: number) => {
          if (!c.object(a, `${f}.${list}[${j}]`, true)) return;
          if (c.string(a.ip, `${f}.${list}[${j}].ip`, true) && !isIP(a.ip)) c.fail(`${f}.${list}[${j}].ip`, 'must be an IP address', a.ip);
          c.dnsLabel(a.hostname, `${f}.${list}[${j}].hostname`);
        });
    if (c.array(s.ports, `${f}.ports`))
      s.ports.forEach((p: unknown, j: number) => {
        if (!c.object(p, `${f}.ports[${j}]`, true)) return;
        c.port(p.port, `${f}.ports[${j}].port`, false, true);
        c.oneOf(p.protocol, `${f}.ports[${j}].protocol`, ['TCP', 'UDP']);
        if (p.name !== undefined) c.dnsLabel(p.name, `${f}.ports[${j}].name`);
      });
  });
}
