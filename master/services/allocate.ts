/**
 * Service address allocation, done once at apply time (the API server's job in Kubernetes):
 * - `spec.clusterIP`: a free address of 127.77.0.0/16 (every 127/8 address routes to lo on Linux, so a
 *   user-space proxy on each node can listen on it without virtual interfaces); kept across applies and
 *   immutable once set, as Kubernetes' `spec.clusterIP: field is immutable`; `None` makes a headless service.
 *   127.77.0.10 is never given: its pod-network mirror is the cluster DNS server (protocol/service-ips.ts).
 * - `spec.ports[].nodePort` of NodePort/LoadBalancer services: in 30000–32767 (kube-apiserver's default
 *   --service-node-port-range), unique per protocol across services, kept across applies.
 * Allocation reads every Service and writes in one serialised step per master (`ServiceAdmission`), so
 * two applies never take the same address.
 */
import { SkiffError, type KObject, type Service } from '../../protocol/index.js';
import { clusterDnsHost } from '../../protocol/service-ips.js';
import type { Objects } from '../objects.js';

/** The clusterIP range: 127.77.0.0/16 minus its first and last address. */
export const clusterIPBase = (127 << 24) | (77 << 16);
const clusterIPCount = 65536;
/** kube-apiserver's default --service-node-port-range. */
export const nodePortRange = { min: 30000, max: 32767 } as const;

const ipv4 = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m || m.slice(1).some((x) => Number(x) > 255)) return undefined;
  return m.slice(1).reduce((n, x) => n * 256 + Number(x), 0);
}

/** FNV-1a of `namespace/name`: where the search for a free address starts, so a re-created service tends to get its old address back. */
function startOf(s: string, span: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h % span;
}

function invalid(svc: Service, field: string, rule: string, got?: unknown): SkiffError {
  return new SkiffError('SKIFF_ERR_VALIDATION', `Service/${svc.metadata.name}: ${field}: ${rule}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`, [{ field, rule }]);
}

const hasNodePorts = (s: Service) => s.spec.type === 'NodePort' || s.spec.type === 'LoadBalancer';

/** The clusterIP for `next`: its own (checked), the current one, or a free one. */
function clusterIPFor(next: Service, current: Service | undefined, others: Service[]): string {
  const asked = next.spec.clusterIP;
  const have = current?.spec.clusterIP;
  if (have && asked !== undefined && asked !== '' && asked !== have) throw invalid(next, 'spec.clusterIP', `field is immutable (is ${have})`, asked);
  if (have) return have;
  const taken = new Set(others.map((o) => o.spec.clusterIP).filter(Boolean));
  if (asked === 'None') return 'None';
  if (asked !== undefined && asked !== '') {
    const n = parseIPv4(asked);
    if (n === undefined || n >>> 16 !== clusterIPBase >>> 16 || (n & 0xffff) === 0 || (n & 0xffff) === 0xffff)
      throw invalid(next, 'spec.clusterIP', 'must be "None" or an address in 127.77.0.0/16 (the service range)', asked);
    if (taken.has(asked)) throw invalid(next, 'spec.clusterIP', 'provided IP is already allocated', asked);
    if ((n & 0xffff) === clusterDnsHost) throw invalid(next, 'spec.clusterIP', 'is reserved: its pod-network mirror is the cluster DNS server (docs/networking.md)', asked);
    return asked;
  }
  const span = clusterIPCount - 2;
  const start = startOf(`${next.metadata.namespace}/${next.metadata.name}`, span);
  for (let k = 0; k < span; k++) {
    const n = clusterIPBase + 1 + ((start + k) % span);
    const ip = ipv4(n >>> 0);
    if (!taken.has(ip) && (n & 0xffff) !== clusterDnsHost) return ip;
  }
  throw new SkiffError('SKIFF_ERR_VALIDATION', `Service/${next.metadata.name}: spec.clusterIP: no address left in 127.77.0.0/16`);
}

/** Fills nodePorts of a NodePort/LoadBalancer service: given ones checked, current ones kept, others allocated. */
function assignNodePorts(next: Service, current: Service | undefined, others: Service[]): void {
  if (!hasNodePorts(next)) return;
  const taken = new Set<string>();
  for (const o of others) if (hasNodePorts(o)) for (const p of o.spec.ports) if (p.nodePort) taken.add(`${p.protocol}/${p.nodePort}`);
  const mine = new Set<string>();
  const keyOf = (p: { protocol?: string }, n: number) => `${p.protocol}/${n}`;
  next.spec.ports.forEach((p, i) => {
    if (p.nodePort === undefined) return;
    const f = `spec.ports[${i}].nodePort`;
    if (p.nodePort < nodePortRange.min || p.nodePort > nodePortRange.max) throw invalid(next, f, `must be in the node port range ${nodePortRange.min}-${nodePortRange.max}`, p.nodePort);
    if (taken.has(keyOf(p, p.nodePort))) throw invalid(next, f, 'provided port is already allocated', p.nodePort);
    if (mine.has(keyOf(p, p.nodePort))) throw invalid(next, f, 'duplicate node port for this protocol', p.nodePort);
    mine.add(keyOf(p, p.nodePort));
  });
  const kept = hasNodePorts(current ?? next) && current ? current.spec.ports : [];
  for (const p of next.spec.ports) {
    if (p.nodePort !== undefined) continue;
    // Kubernetes keeps an allocated nodePort when the port (same name or number, same protocol) stays.
    const old = kept.find((o) => o.nodePort && o.protocol === p.protocol && (o.name ?? '') === (p.name ?? '') && (p.name || o.port === p.port));
    if (old?.nodePort && !mine.has(keyOf(p, old.nodePort))) p.nodePort = old.nodePort;
    else {
      const span = nodePortRange.max - nodePortRange.min + 1;
      const start = startOf(`${next.metadata.namespace}/${next.metadata.name}/${p.name ?? p.port}`, span);
      let k = 0;
      for (; k < span; k++) {
        const n = nodePortRange.min + ((start + k) % span);
        if (!taken.has(keyOf(p, n)) && !mine.has(keyOf(p, n))) {
          p.nodePort = n;
          break;
        }
      }
      if (k === span) throw invalid(next, 'spec.ports', `no node port left in ${nodePortRange.min}-${nodePortRange.max}`);
    }
    mine.add(keyOf(p, p.nodePort!));
  }
}

/** Allocates a service's clusterIP and nodePorts against the other services (pure: the unit-tested rule). */
export function allocateService(next: Service, current: Service | undefined, all: Service[]): Service {
  const out = structuredClone(next);
  const others = all.filter((o) => !(o.metadata.namespace === next.metadata.namespace && o.metadata.name === next.metadata.name));
  out.spec.clusterIP = clusterIPFor(out, current, others);
  assignNodePorts(out, current, others);
  return out;
}

/** The admission step `Objects.apply` runs for Services: serialised, against the stored services. */
export class ServiceAdmission {
  readonly kind = 'Service';
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly objects: Objects) {}

  /** Runs `fn` (an allocation and its write) after every earlier one. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Fills clusterIP and nodePorts of `next`, against the stored services and those the same apply is about to store. */
  async admit(next: KObject, current: KObject | undefined, pending: readonly KObject[] = []): Promise<KObject> {
    const { items } = await this.objects.list('Service');
    return allocateService(next as Service, current as Service | undefined, [...items, ...pending.filter((o): o is Service => o.kind === 'Service')]);
  }
}
