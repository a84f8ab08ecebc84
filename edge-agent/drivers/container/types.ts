/**
 * What the container driver needs beyond a process launch: the container's configuration and the
 * pod's sandbox. Built by the pod's prepare step (pods/oci.ts) from the pod spec; one `SandboxSpec` per pod,
 * carried by every container's launch so whichever starts first makes the sandbox.
 */

/** A bind mount of a directory the agent prepared (a volume) into the container. */
export interface BindMount {
  source: string;
  target: string;
  readOnly: boolean;
}

/** The container's securityContext, pod defaults merged in. */
export interface OciSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capAdd?: string[];
  capDrop?: string[];
  /** allowPrivilegeEscalation: false → no-new-privileges. */
  noNewPrivileges?: boolean;
}

/** Registry credentials, by registry host (`docker.io`, `registry.local:5000`), from dockerconfigjson Secrets. */
export type RegistryAuths = Record<string, { username?: string; password?: string; auth?: string; identitytoken?: string }>;

/** The pod-level part: one network namespace (and IPC) for all of the pod's containers. */
export interface SandboxSpec {
  /**
   * bridge: the pod has its own network namespace on the engine's default network (an infra container holds it,
   * containers join it with `container:<id>`, containerPorts are published on node ports); host: every container
   * shares the node's network, as process pods do (no sandbox).
   */
  network: 'bridge' | 'host';
  /** The pod's hostname (its name, or spec.hostname). */
  hostname: string;
  /** Node ports published for the containers' ports (bridge only). */
  ports: { containerPort: number; hostPort: number; protocol: 'TCP' | 'UDP' }[];
  /** The resolver the pod's containers use (the agent's cluster DNS), bridge only. */
  dns?: { servers: string[]; searches: string[]; options: string[] };
}

/** One container's launch through the engine, beside LaunchSpec's image, imageRef, limits and mounts. */
export interface OciLaunch {
  /** Kubernetes `command`, expanded: replaces the image's ENTRYPOINT (and drops its CMD). */
  entrypoint?: string[];
  /** Kubernetes `args`, expanded: replaces the image's CMD. */
  cmd?: string[];
  security: OciSecurity;
  sandbox: SandboxSpec;
  /** Allocate a TTY and keep stdin open (container.tty / stdin). */
  tty?: boolean;
}
