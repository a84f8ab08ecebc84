/**
 * The cluster's names, as CoreDNS's kubernetes plugin answers them, from the services this agent knows (the
 * retained `services/{ns}/{name}` messages): `<service>.<namespace>.svc.cluster.local` is an A record of the
 * service's pod-network address (protocol/service-ips.ts), or of its ready endpoints for a headless service.
 * Pure: a question in, an answer out (dns-server.ts does the sockets and forwards other names upstream).
 */
import { decodeObject } from '../../protocol/codec.js';
import type { ServiceMessage } from '../../protocol/messages.js';
import { clusterDomain, mirrorServiceIP } from '../../protocol/service-ips.js';
import { checkServiceMessage } from '../proxy/message.js';

/** CoreDNS's kubernetes plugin default TTL: 5 s. */
export const CLUSTER_TTL_S = 5;

/** What the cluster zone says about one name and type. */
export type ClusterAnswer =
  /** Not a cluster name: ask upstream. */
  | { kind: 'upstream' }
  /** A cluster name that does not exist (NXDOMAIN). */
  | { kind: 'nxdomain' }
  /** The name exists; these A records (none: NODATA, e.g. an AAAA question). */
  | { kind: 'records'; addresses: string[] };

/** The services by `namespace/name`, kept from the service messages. */
export class ClusterNames {
  private readonly services = new Map<string, { clusterIP?: string; endpoints: string[] }>();

  constructor(
    /** The /16 where clusterIPs are mirrored for pods (`10.43.0.0`). */
    private readonly podRange: string,
  ) {}

  /** A message on `services/{namespace}/{name}` (empty: deleted); one that does not check out is ignored. */
  handle(namespace: string, name: string, payload: Buffer): void {
    if (payload.length === 0) return this.set(namespace, name, undefined);
    try {
      const checked = checkServiceMessage(decodeObject(payload).value, namespace, name);
      if (checked.ok) this.set(namespace, name, checked.msg);
    } catch {
      // not a service message: the proxy logs it
    }
  }

  /** A service message (checked by the caller) or, with `undefined`, its deletion. */
  set(namespace: string, name: string, msg: ServiceMessage | undefined): void {
    const key = `${namespace}/${name}`;
    if (!msg) {
      this.services.delete(key);
      return;
    }
    const endpoints = [...new Set(msg.endpoints.filter((e) => e.ready !== false).map((e) => e.address))].sort();
    this.services.set(key, { ...(msg.clusterIP && msg.clusterIP !== 'None' ? { clusterIP: msg.clusterIP } : {}), endpoints });
  }

  /** How many services it knows (for tests and stats). */
  get size(): number {
    return this.services.size;
  }

  /** Answers one question (`name` without its trailing dot, any case). */
  answer(name: string, type: string): ClusterAnswer {
    const n = name.toLowerCase().replace(/\.$/, '');
    if (n !== clusterDomain && !n.endsWith(`.${clusterDomain}`)) return { kind: 'upstream' };
    const labels = n.slice(0, -(clusterDomain.length + 1)).split('.');
    // <service>.<namespace>.svc: the only names this zone serves (pod records are not modelled).
    if (labels.length !== 3 || labels[2] !== 'svc') return labels.length < 3 && labels[labels.length - 1] === 'svc' ? { kind: 'records', addresses: [] } : { kind: 'nxdomain' };
    const svc = this.services.get(`${labels[1]}/${labels[0]}`);
    if (!svc) return { kind: 'nxdomain' };
    if (type !== 'A' && type !== 'ANY') return { kind: 'records', addresses: [] };
    const mirror = svc.clusterIP ? mirrorServiceIP(svc.clusterIP, this.podRange) : undefined;
    return { kind: 'records', addresses: mirror ? [mirror] : svc.endpoints };
  }
}
