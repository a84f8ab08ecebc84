/**
 * The table columns of `skiff get`, per kind, as kubectl prints them. One printer per kind in a
 * registry; kinds without one get NAME AGE.
 */
import { balancerEngineOf, formatSelector, own, readyStatus, type Deployment, type Endpoints, type KObject, type Node, type ReplicaSet, type Service } from '../../protocol/index.js';
import { age } from './age.js';
import { podReady, podRestarts, podStatus } from './pod-status.js';
import { eventPrinters } from './event-columns.js';
import { storagePrinters } from './storage-columns.js';
import type { Printer, Printers } from './types.js';
import { workloadPrinters } from './workload-columns.js';

const none = '<none>';
const num = (n: unknown) => String(typeof n === 'number' ? n : 0);
const orNone = (s: unknown) => (typeof s === 'string' && s !== '' ? s : none);
const created = (o: KObject, now: number) => age(o.metadata.creationTimestamp, now);

/** CONTAINERS IMAGES SELECTOR of a workload's pod template (deployments, replica sets). */
const workloadWide = {
  wideHeaders: ['CONTAINERS', 'IMAGES', 'SELECTOR'],
  wideRow: (o: Deployment | ReplicaSet) => {
    const cs = o.spec?.template?.spec?.containers ?? [];
    return [orNone(cs.map((c) => c.name).join(',')), orNone(cs.map((c) => c.image ?? '').filter(Boolean).join(',')), orNone(formatSelector(o.spec?.selector))];
  },
};

const printers: Printers = {
  ...workloadPrinters,
  ...eventPrinters,
  ...storagePrinters,
  Pod: {
    headers: ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE'],
    row: (o, now) => [o.metadata.name, podReady(o), podStatus(o), podRestarts(o, now), created(o, now)],
    wideHeaders: ['IP', 'NODE'],
    wideRow: (o) => [orNone(o.status?.podIP), orNone(o.spec?.nodeName)],
  },
  Deployment: {
    headers: ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE'],
    row: (o, now) => [o.metadata.name, `${num(o.status?.readyReplicas)}/${num(o.spec?.replicas ?? 1)}`, num(o.status?.updatedReplicas), num(o.status?.availableReplicas), created(o, now)],
    ...workloadWide,
  },
  ReplicaSet: {
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE'],
    row: (o, now) => [o.metadata.name, num(o.spec?.replicas ?? 1), num(o.status?.replicas), num(o.status?.readyReplicas), created(o, now)],
    ...workloadWide,
  },
  Service: {
    headers: ['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE'],
    row: (o, now) => [o.metadata.name, o.spec?.type ?? 'ClusterIP', orNone(o.spec?.clusterIP), externalIP(o), servicePorts(o), created(o, now)],
    wideHeaders: ['SELECTOR'],
    wideRow: (o) => [orNone(formatSelector(o.spec?.selector))],
  },
  Endpoints: {
    headers: ['NAME', 'ENDPOINTS', 'AGE'],
    row: (o, now) => [o.metadata.name, endpointList(o), created(o, now)],
  },
  Node: {
    headers: ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION'],
    row: (o, now) => [o.metadata.name, nodeStatus(o), nodeRoles(o), created(o, now), orNone(o.status?.nodeInfo?.kubeletVersion)],
    // kubectl's wide columns (EXTERNAL-IP aside: boards have none), then Skiff's.
    wideHeaders: ['INTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME', 'ARCH', 'BALANCER'],
    wideRow: (o) => {
      const info: Partial<NonNullable<NonNullable<Node['status']>['nodeInfo']>> = o.status?.nodeInfo ?? {};
      const ip = (o.status?.addresses ?? []).find((a: { type: string }) => a.type === 'InternalIP')?.address;
      const runtime = info.containerRuntimeVersion ?? (info.runtimes ?? []).join(',');
      return [orNone(ip), orNone(info.osImage), orNone(info.kernelVersion), orNone(runtime), orNone(info.architecture), orNone(balancerEngineOf(o))];
    },
  },
  // kubectl: NAME HOLDER AGE.
  Lease: {
    headers: ['NAME', 'HOLDER', 'AGE'],
    row: (o, now) => [o.metadata.name, orNone(o.spec?.holderIdentity), created(o, now)],
  },
  ConfigMap: {
    headers: ['NAME', 'DATA', 'AGE'],
    row: (o, now) => [o.metadata.name, String(keys(o.data) + keys(o.binaryData)), created(o, now)],
  },
  Secret: {
    headers: ['NAME', 'TYPE', 'DATA', 'AGE'],
    // A view token gets `dataBytes` in place of `data` (the keys without their values): count those.
    row: (o, now) => [o.metadata.name, String(o.type ?? 'Opaque'), String(keys(o.data ?? o.dataBytes)), created(o, now)],
  },
  Namespace: {
    headers: ['NAME', 'STATUS', 'AGE'],
    row: (o, now) => [o.metadata.name, o.status?.phase ?? 'Active', created(o, now)],
  },
};

const generic: Printer = { headers: ['NAME', 'AGE'], row: (o, now) => [o.metadata.name, created(o, now)] };

function keys(m: unknown): number {
  return m && typeof m === 'object' ? Object.keys(m).length : 0;
}

/** PORT(S): `80/TCP`, `80:30080/TCP` with a node port, comma-separated. */
function servicePorts(o: Service): string {
  const ports = o.spec?.ports ?? [];
  return orNone(ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(','));
}

/** ENDPOINTS as kubectl prints them: ready `ip:port` pairs, the first three, then `+ N more...`. */
function endpointList(o: Endpoints): string {
  const all: string[] = [];
  for (const s of o.subsets ?? []) for (const a of s.addresses ?? []) for (const p of s.ports ?? []) all.push(`${a.ip}:${p.port}`);
  if (all.length === 0) return none;
  return all.length > 3 ? `${all.slice(0, 3).join(',')} + ${all.length - 3} more...` : all.join(',');
}

/** EXTERNAL-IP: the load balancer's ingress, `<pending>` until it has one, `<none>` for other types. */
function externalIP(o: Service): string {
  if (o.spec?.type !== 'LoadBalancer') return none;
  const ingress = o.status?.loadBalancer?.ingress ?? [];
  return ingress.length ? ingress.map((i) => i.ip ?? i.hostname).join(',') : '<pending>';
}

/** STATUS of a node: its Ready condition (Ready, NotReady, Unknown), `,SchedulingDisabled` when cordoned. */
export function nodeStatus(o: Node): string {
  const ready = readyStatus(o);
  const s = ready === 'True' ? 'Ready' : ready === 'False' ? 'NotReady' : 'Unknown';
  return o.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

/** ROLES from `node-role.kubernetes.io/<role>` labels and `kubernetes.io/role`, as kubectl finds them. */
function nodeRoles(o: Node): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(o.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/') && k.length > 24) roles.add(k.slice(24));
    else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : none;
}

/** Options of a table. */
export interface TableOptions {
  wide?: boolean;
  /** `-A`: a NAMESPACE column first. */
  withNamespace?: boolean;
}

/**
 * The headers and row function for a kind (its canonical Kind name); `row` takes objects of that kind.
 * The registry is typed per kind, and this is where a kind name meets it: the one place that trusts
 * `kind` to describe the objects the caller passes.
 */
export function columnsFor(kind: string, opts: TableOptions = {}): { headers: string[]; row(o: KObject, now: number): string[] } {
  const p = own(printers as Record<string, Printer | undefined>, kind) ?? generic;
  const headers = [...(opts.withNamespace ? ['NAMESPACE'] : []), ...p.headers, ...(opts.wide && p.wideHeaders ? p.wideHeaders : [])];
  return {
    headers,
    row: (o, now) => [
      ...(opts.withNamespace ? [o.metadata.namespace ?? ''] : []),
      ...p.row(o, now),
      ...(opts.wide && p.wideRow ? p.wideRow(o, now) : []),
    ],
  };
}
