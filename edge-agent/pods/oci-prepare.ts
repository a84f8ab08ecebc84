/**
 * Prepare for a container pod (pods/pod.ts calls these where a process pod binds ports and its launches are final):
 *   ports    bridge: a node port published per containerPort (kept across agent restarts); host: as declared
 *   sandbox  made now (driver.podSandbox), so the pod's address is known before its containers start
 *   env      as for a process (plan.ts), but the pod's own address (status.podIP), services at their pod-network
 *            address, container ports as the container sees them, nothing inherited from the agent
 *   launch   each container's OciLaunch (oci.ts): entrypoint and cmd, bind mounts, securityContext; no cgroup of
 *            the agent's (the engine puts the container in its own, under the limits it is given)
 */
import { mirrorServiceIP } from '../../protocol/service-ips.js';
import type { Pod, PodPortStatus } from '../../protocol/types.js';
import type { Driver } from '../drivers/types.js';
import type { SandboxSpec } from '../drivers/container/types.js';
import type { EnvContext } from './env.js';
import { bindMounts, hostPorts, ociLaunch, publishPorts, sandboxSpec, type PodNetwork } from './oci.js';
import type { ProbeTarget } from '../probes/types.js';
import type { ContainerRunner } from './container.js';
import type { Launch } from './plan.js';

/** What a container pod's network step produced. */
export interface OciNetwork {
  /** status.ports: node ports (with the containerPort each forwards to, bridge). */
  ports: PodPortStatus[];
  /** The ports as the containers see them (their own containerPorts): PORT and named ports in their env. */
  inside: PodPortStatus[];
  /** The pod's own address (bridge sandbox); undefined with the host network. */
  podIP?: string;
  sandbox: SandboxSpec;
  /** How env resolution differs for a container (plan.ts PlanContext.env). */
  env: Pick<EnvContext, 'podIP' | 'serviceHost' | 'inherit'>;
}

/** Ports, sandbox and the pod's address of a container pod; throws what keeps it from starting (CreateContainerConfigError). */
export async function prepareOciNetwork(a: { pod: Pod; driver: Driver; net: PodNetwork; previousPorts: PodPortStatus[]; graceMs: number }): Promise<OciNetwork> {
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
  return { ports, inside, ...(podIP ? { podIP } : {}), sandbox, env: { ...(podIP ? { podIP } : {}), ...(serviceHost ? { serviceHost } : {}), inherit: false } };
}

/** Turns plan.ts' launches into container launches: argv from command/args as the engine runs them, bind mounts, OciLaunch. */
export function ociLaunches(pod: Pod, launches: Launch[], o: { sandbox: SandboxSpec; dirOf: (volume: string) => string }): void {
  for (const l of launches) {
    const oci = ociLaunch(pod, l.container, l.env, { sandbox: o.sandbox });
    l.oci = oci;
    l.argv = [...(oci.entrypoint ?? []), ...(oci.cmd ?? [])];
    l.mounts = bindMounts(pod, l.container, o.dirOf).map((m) => ({ hostPath: m.source, mountPath: m.target, readOnly: m.readOnly }));
    l.cgroup = undefined;
    l.user = undefined;
  }
}

/**
 * Where a container pod's probes go: its own address and its containers' own ports (a pod with a network of its
 * own), and exec probes inside the container through the driver's exec (kubelet's ExecSync).
 */
export function ociProbeTarget(
  base: Omit<ProbeTarget, 'host' | 'ports' | 'exec'>,
  o: { driver: Driver; runner: ContainerRunner; podIP?: string; ports: PodPortStatus[] },
): ProbeTarget {
  return {
    ...base,
    host: o.podIP ?? '127.0.0.1',
    ports: o.ports.map((p) => (p.containerPort ? { ...p, port: p.containerPort } : p)),
    exec: async (command, onOutput) => {
      const target = o.runner.execTarget();
      if (!target || !o.driver.exec) throw new Error(`container "${base.containerName}" is not running`);
      return o.driver.exec(target, { command, tty: false, stdin: false, onOutput: (_s, b) => onOutput(b) });
    },
  };
}
