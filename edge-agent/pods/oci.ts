/**
 * The prepare step's part for container pods: the pod's sandbox (its network, published ports, resolver) and
 * each container's OciLaunch (image, entrypoint and cmd, bind mounts of the pod's volume dirs, limits, merged
 * securityContext, registry credentials). Kubernetes' meaning of each field is kept: `command` replaces the
 * image's ENTRYPOINT, `args` its CMD; configMap and secret volumes are mounted read-only; a container's
 * securityContext overrides the pod's.
 */
import path from 'node:path';
import { SkiffError } from '../../protocol/errors.js';
import type { DesiredMessage } from '../../protocol/messages.js';
import type { Container, Pod, PodPortStatus } from '../../protocol/types.js';
import type { BindMount, OciLaunch, OciSecurity, RegistryAuths, SandboxSpec } from '../drivers/container/types.js';
import { pullSecretAuths } from '../drivers/container/auths.js';
import { expand } from './env.js';
import { freePort } from './ports.js';

/** How this agent gives container pods a network (agent.ts decides at start; docs/networking.md). */
export interface PodNetwork {
  mode: 'bridge' | 'host';
  /** The cluster DNS server and the pod-network mirror of the service range (bridge only). */
  dns?: { server: string };
  /** `10.43.0.0`: the /16 where clusterIPs are mirrored for pods (bridge only). */
  serviceRange?: string;
}

/** Kubernetes' search path for a pod in namespace `ns`, and ndots 5. */
export function podResolver(server: string, ns: string): NonNullable<SandboxSpec['dns']> {
  return { servers: [server], searches: [`${ns}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] };
}

/**
 * The node ports a bridge-networked pod publishes: every containerPort gets its hostPort, or the port it had
 * before (an agent restart keeps a pod's endpoints where they were), or a free one.
 */
export async function publishPorts(pod: Pod, previous: PodPortStatus[]): Promise<PodPortStatus[]> {
  const out: PodPortStatus[] = [];
  for (const c of pod.spec.containers)
    for (const p of c.ports ?? []) {
      if (!p.containerPort) throw new SkiffError('SKIFF_ERR_VALIDATION', `container "${c.name}": ports: a container pod's containerPort must be 1–65535 (the agent picks only node ports)`);
      const protocol = p.protocol!;
      const before = previous.find((x) => x.containerName === c.name && x.containerPort === p.containerPort && x.protocol === protocol);
      const port = p.hostPort || before?.port || (await freePort(protocol));
      out.push({ containerName: c.name, ...(p.name ? { name: p.name } : {}), port, protocol, containerPort: p.containerPort });
    }
  return out;
}

/** The ports of a host-networked container pod: containerPorts as they are (the processes bind them on the node). */
export function hostPorts(pod: Pod): PodPortStatus[] {
  return pod.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => ({ containerName: c.name, ...(p.name ? { name: p.name } : {}), port: p.hostPort || p.containerPort || 0, protocol: p.protocol! })));
}

/** The pod's sandbox spec. */
export function sandboxSpec(pod: Pod, net: PodNetwork, ports: PodPortStatus[]): SandboxSpec {
  const ns = pod.metadata.namespace ?? 'default';
  return {
    network: net.mode,
    hostname: pod.spec.hostname ?? pod.metadata.name,
    ports: net.mode === 'bridge' ? ports.map((p) => ({ containerPort: p.containerPort!, hostPort: p.port, protocol: p.protocol })) : [],
    ...(net.mode === 'bridge' && net.dns ? { dns: podResolver(net.dns.server, ns) } : {}),
  };
}

/** The pod's and the container's securityContext, the container's fields winning. */
export function mergedSecurity(pod: Pod, c: Container): OciSecurity {
  const p = pod.spec.securityContext ?? {};
  const s = c.securityContext ?? {};
  const runAsUser = s.runAsUser ?? p.runAsUser;
  const runAsGroup = s.runAsGroup ?? p.runAsGroup;
  return {
    ...(runAsUser !== undefined ? { runAsUser } : {}),
    ...(runAsGroup !== undefined ? { runAsGroup } : {}),
    ...(s.privileged ? { privileged: true } : {}),
    ...(s.readOnlyRootFilesystem ? { readOnlyRootFilesystem: true } : {}),
    ...(s.capabilities?.add?.length ? { capAdd: s.capabilities.add } : {}),
    ...(s.capabilities?.drop?.length ? { capDrop: s.capabilities.drop } : {}),
    ...(s.allowPrivilegeEscalation === false ? { noNewPrivileges: true } : {}),
  };
}

/** Registry credentials from the pod's imagePullSecrets (drivers/container/auths.ts). */
export function registryAuths(pod: Pod, secrets: DesiredMessage['secrets']): RegistryAuths {
  return pullSecretAuths(pod.metadata.namespace ?? 'default', (pod.spec.imagePullSecrets ?? []).map((r) => r.name), secrets);
}

/** The bind mounts of a container: its volumeMounts over the pod's volume dirs (configMap/secret read-only). */
export function bindMounts(pod: Pod, c: Container, dirOf: (volume: string) => string): BindMount[] {
  const readOnlyKinds = new Set((pod.spec.volumes ?? []).filter((v) => v.configMap || v.secret).map((v) => v.name));
  return (c.volumeMounts ?? []).map((m) => {
    if (!path.isAbsolute(m.mountPath)) throw new SkiffError('SKIFF_ERR_VALIDATION', `container "${c.name}": volumeMount "${m.name}": mountPath "${m.mountPath}" must be absolute in a container`);
    if (m.subPath && (path.isAbsolute(m.subPath) || m.subPath.split('/').includes('..')))
      throw new SkiffError('SKIFF_ERR_VALIDATION', `container "${c.name}": volumeMount "${m.name}": subPath "${m.subPath}" must be relative without ".."`);
    const source = m.subPath ? path.join(dirOf(m.name), m.subPath) : dirOf(m.name);
    return { source, target: m.mountPath, readOnly: m.readOnly === true || readOnlyKinds.has(m.name) };
  });
}

/** One container's launch through the engine; `env` is its resolved environment (for `$(VAR)` in command and args). */
export function ociLaunch(pod: Pod, c: Container, env: Record<string, string>, o: { sandbox: SandboxSpec }): OciLaunch {
  if (!c.image) throw new SkiffError('SKIFF_ERR_VALIDATION', `container "${c.name}": a container pod needs an image`);
  return {
    ...(c.command ? { entrypoint: c.command.map((a) => expand(String(a), env)) } : {}),
    ...(c.args ? { cmd: c.args.map((a) => expand(String(a), env)) } : {}),
    security: mergedSecurity(pod, c),
    sandbox: o.sandbox,
  };
}
