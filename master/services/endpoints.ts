/**
 * The pure part of the endpoints controller: which pods back a service, at which address and port.
 * A pod counts when the selector matches, it is bound to a node, not terminating, and (for the ready
 * list) its Ready condition is True on a node whose Ready condition is True — Kubernetes' endpoints
 * controller rule plus the node check its node lifecycle controller achieves by marking pods NotReady.
 * The address is the node's (process pods share the host network); the port is the pod's target port.
 */
import { isReady, matchesSelector, own, type EndpointAddress, type Endpoints, type EndpointSubset, type Node, type Pod, type Service, type ServiceMessage, type ServicePort } from '../../protocol/index.js';

/** The pod annotation that sets an endpoint's balancer weight (0..65535, default 1). */
export const weightAnnotation = 'service.skiff.io/weight';

/**
 * The port on the pod a service port targets, or undefined when the pod has none: a number is used as
 * is; a name is looked up among the containers' ports (protocol must match), and a port the agent picked
 * (containerPort 0 on a process pod) comes from the pod's `status.ports`. A container pod in its own network
 * namespace is reached through the node port its agent published for that container port (`status.ports`
 * entries with `containerPort`), since other nodes reach it at the node's address.
 */
export function resolveTargetPort(sp: ServicePort, pod: Pod): number | undefined {
  const target = sp.targetPort!;
  const protocol = sp.protocol;
  const published = (port: number) => pod.status?.ports?.find((s) => s.containerPort === port && s.protocol === protocol)?.port ?? port;
  if (typeof target === 'number') return published(target);
  for (const c of pod.spec.containers)
    for (const p of c.ports ?? []) {
      if (p.name !== target || p.protocol !== protocol) continue;
      if (p.containerPort) return published(p.containerPort);
      const bound = pod.status?.ports?.find((s) => s.containerName === c.name && s.name === target && s.protocol === protocol);
      return bound?.port || undefined;
    }
  return undefined;
}

/** The address of a pod's node: its InternalIP, else what the pod reports. */
function addressOf(pod: Pod, node: Node | undefined): string | undefined {
  return node?.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? pod.status?.hostIP ?? pod.status?.podIP;
}

function weightOf(pod: Pod): number | undefined {
  const w = pod.metadata.annotations?.[weightAnnotation];
  if (w === undefined || !/^\d{1,5}$/.test(w) || Number(w) > 65535) return undefined;
  return Number(w);
}

/**
 * The hostname an endpoint carries (Kubernetes' endpoints controller): the pod's spec.hostname when its
 * spec.subdomain names this service — a StatefulSet's pods with serviceName. The cluster DNS answers
 * `<hostname>.<service>.<namespace>.svc.cluster.local` with that endpoint.
 */
export function hostnameFor(svc: Service, pod: Pod): string | undefined {
  return pod.spec.hostname && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace ? pod.spec.hostname : undefined;
}

/** A service's message and Endpoints subsets, from the cached pods and nodes. */
export function endpointsOf(svc: Service, pods: Pod[], nodeOf: (name: string) => Node | undefined): { message: ServiceMessage; subsets: EndpointSubset[] } {
  const message = baseMessage(svc);
  const groups = new Map<string, EndpointSubset>();
  const selected = pods
    .filter((p) => p.spec.nodeName && !p.metadata.deletionTimestamp && matchesSelector({ matchLabels: svc.spec.selector }, p.metadata.labels))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  for (const pod of selected) {
    const node = nodeOf(pod.spec.nodeName!);
    const address = addressOf(pod, node);
    if (!address) continue;
    const ports: Record<string, number> = {};
    for (const sp of svc.spec.ports) {
      const n = resolveTargetPort(sp, pod);
      if (n) ports[sp.name ?? ''] = n;
    }
    if (Object.keys(ports).length === 0) continue;
    const ready = isReady(pod) && isReady(node) && pod.status?.phase === 'Running';
    const weight = weightOf(pod);
    const hostname = hostnameFor(svc, pod);
    if (ready) message.endpoints.push({ address, node: pod.spec.nodeName!, pod: pod.metadata.name, ready: true, ports, ...(weight !== undefined ? { weight } : {}), ...(hostname ? { hostname } : {}) });
    // Endpoints: addresses with the same resolved ports share a subset, as Kubernetes' repacking does.
    // own(): a port may be named "constructor" (a valid DNS label), which a plain lookup finds on Object.prototype.
    const epPorts = svc.spec.ports.filter((sp) => own(ports, sp.name ?? '')).map((sp) => ({ ...(sp.name ? { name: sp.name } : {}), port: ports[sp.name ?? ''], protocol: sp.protocol }));
    const gk = JSON.stringify(epPorts);
    const subset = groups.get(gk) ?? { ports: epPorts };
    groups.set(gk, subset);
    const entry: EndpointAddress = { ip: address, ...(hostname ? { hostname } : {}), nodeName: pod.spec.nodeName, targetRef: { kind: 'Pod', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name, uid: pod.metadata.uid } };
    if (ready) (subset.addresses ??= []).push(entry);
    else (subset.notReadyAddresses ??= []).push(entry);
  }
  return { message, subsets: [...groups.values()] };
}

/** A selector-less service's message from the Endpoints the user applied (every listed address is ready). */
export function messageFromEndpoints(svc: Service, ep: Endpoints | undefined): ServiceMessage {
  const message = baseMessage(svc);
  for (const s of ep?.subsets ?? [])
    for (const a of s.addresses ?? []) {
      const ports: Record<string, number> = {};
      for (const sp of svc.spec.ports) {
        const p = (s.ports ?? []).find((x) => (x.name ?? '') === (sp.name ?? '') && x.protocol === sp.protocol);
        if (p) ports[sp.name ?? ''] = p.port;
      }
      if (Object.keys(ports).length) message.endpoints.push({ address: a.ip, node: a.nodeName ?? '', pod: a.targetRef?.name ?? '', ready: true, ports });
    }
  return message;
}

function baseMessage(svc: Service): ServiceMessage {
  return {
    namespace: svc.metadata.namespace ?? 'default',
    name: svc.metadata.name,
    type: svc.spec.type!,
    sessionAffinity: svc.spec.sessionAffinity!,
    ...(svc.spec.clusterIP ? { clusterIP: svc.spec.clusterIP } : {}),
    ...(svc.metadata.annotations ? { annotations: svc.metadata.annotations } : {}),
    ports: svc.spec.ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol!, targetPort: p.targetPort!, ...(p.nodePort ? { nodePort: p.nodePort } : {}) })),
    endpoints: [],
  };
}

/** True when a service's endpoints come from its selector (a missing or empty selector means the user manages Endpoints). */
export const hasSelector = (svc: Service) => Object.keys(svc.spec.selector ?? {}).length > 0;
