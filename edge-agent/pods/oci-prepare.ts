/**
 * Prepare for a container pod (pods/pod.ts calls this where a process pod binds ports and resolves argv):
 *   ports    bridge: a node port published per containerPort (kept across agent restarts); host: as declared
 *   sandbox  made now (driver.podSandbox), so the pod's address is known before its containers start
 *   env      as for a process, but the pod's own address (status.podIP), services at their pod-network
 *            address, container ports as the container sees them, nothing inherited from the agent
 *   launch   each container's OciLaunch (oci.ts)
 */
import type { DesiredMessage } from '../../protocol/messages.js';
import { mirrorServiceIP } from '../../protocol/service-ips.js';
import type { Pod, PodPortStatus } from '../../protocol/types.js';
import type { Driver } from '../drivers/types.js';
import type { OciLaunch } from '../drivers/container/types.js';
import type { PodVolumes } from '../volumes/podvolumes.js';
import type { RunAs } from './user.js';
import { resolveEnv, type EnvContext } from './env.js';
import { hostPorts, ociLaunch, publishPorts, registryAuths, sandboxSpec, type PodNetwork } from './oci.js';

/** One container's launch as prepare leaves it. */
export interface PreparedLaunch {
  name: string;
  argv: string[];
  env: Record<string, string>;
  workingDir?: string;
  /** The OS user a process container runs as (runAsUser); absent: the agent's own (container pods: the engine's). */
  user?: RunAs;
  oci?: OciLaunch;
}

/** What a container pod's prepare produced. */
export interface PreparedOciPod {
  /** status.ports: node ports (with the containerPort each forwards to, bridge). */
  ports: PodPortStatus[];
  /** The pod's own address (bridge sandbox); undefined with the host network. */
  podIP?: string;
  launches: PreparedLaunch[];
}

/** Prepares a container pod; throws what keeps it from starting (CreateContainerConfigError). */
export async function prepareOciPod(a: {
  pod: Pod;
  desired: DesiredMessage;
  driver: Driver;
  net: PodNetwork;
  previousPorts: PodPortStatus[];
  volumes: PodVolumes;
  env: Omit<EnvContext, 'pod' | 'desired' | 'ports' | 'extra' | 'podIP' | 'serviceHost' | 'inherit'>;
  graceMs: number;
}): Promise<PreparedOciPod> {
  const { pod } = a;
  // hostNetwork: true puts the pod in the node's network, as Kubernetes does (Pod Security baseline refuses it).
  const net: PodNetwork = pod.spec.hostNetwork ? { mode: 'host' } : a.net;
  const ports = net.mode === 'bridge' ? await publishPorts(pod, a.previousPorts) : hostPorts(pod);
  const sandbox = sandboxSpec(pod, net, ports);
  const owner = { podUid: pod.metadata.uid as string, podName: pod.metadata.name, namespace: pod.metadata.namespace ?? 'default', graceMs: a.graceMs };
  const podIP = a.driver.podSandbox ? (await a.driver.podSandbox(owner, sandbox)).ip : undefined;
  // Inside the pod, a port is the container's own: PORT and named ports say what the process listens on.
  const inside = ports.map((p) => (p.containerPort ? { ...p, port: p.containerPort } : p));
  const range = net.mode === 'bridge' ? net.serviceRange : undefined;
  const serviceHost = range ? (ip: string) => mirrorServiceIP(ip, range) ?? ip : undefined;
  const auths = registryAuths(pod, a.desired.secrets);
  const launches = pod.spec.containers.map((c) => {
    const env = resolveEnv(c, { ...a.env, pod, desired: a.desired, ports: inside, podIP: podIP ?? a.env.hostIP, ...(serviceHost ? { serviceHost } : {}), inherit: false });
    const oci = ociLaunch(pod, c, env, { sandbox, auths, dirOf: (v) => a.volumes.dirOf(v) });
    return { name: c.name, argv: [...(oci.entrypoint ?? []), ...(oci.cmd ?? [])], env, workingDir: c.workingDir, oci };
  });
  return { ports, ...(podIP ? { podIP } : {}), launches };
}
