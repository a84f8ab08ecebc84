/**
 * The launches of a pod's containers, init containers first in spec order: what each attempt runs (argv,
 * env, workingDir), under which limits and cgroup, with which volume mounts and pulled image — everything the
 * prepare step resolves once and every attempt then reuses.
 */
import path from 'node:path';
import type { DesiredMessage } from '../../protocol/messages.js';
import { bytes, cpuMilli } from '../../protocol/quantity.js';
import type { Container, Pod, PodPortStatus } from '../../protocol/types.js';
import type { Cgroups, ContainerCgroup, ContainerLimits } from '../cgroups/types.js';
import type { Driver } from '../drivers/types.js';
import type { PodVolumes } from '../volumes/podvolumes.js';
import { resolveArgv, resolveEnv } from './env.js';
import type { RunAs } from './user.js';

/** What a container is in its pod. */
export type ContainerRole = 'init' | 'sidecar' | 'app';

/** One container's launch. */
export interface Launch {
  container: Container;
  name: string;
  role: ContainerRole;
  argv: string[];
  env: Record<string, string>;
  workingDir?: string;
  limits: ContainerLimits;
  cgroup?: ContainerCgroup;
  mounts: { hostPath: string; mountPath: string; readOnly: boolean }[];
  /** What the driver's pull made of the image. */
  imageRef?: string;
  /** The OS user it runs as (runAsUser, user.ts); absent: the agent's own. */
  user?: RunAs;
}

/** The result of prepare: what start needs. */
export interface Plan {
  driver: Driver;
  /** Init containers (regular and sidecars) in spec order, then the app containers. */
  launches: Launch[];
}

/** A sidecar is an init container with restartPolicy Always (Kubernetes 1.29). */
export const roleOf = (c: Container, init: boolean): ContainerRole => (!init ? 'app' : c.restartPolicy === 'Always' ? 'sidecar' : 'init');

/** A container's limits in kernel units: memory and cpu limits, and the cpu request for its share. */
export function limitsOf(c: Container): ContainerLimits {
  const mem = bytes(c.resources?.limits?.memory);
  const cpu = cpuMilli(c.resources?.limits?.cpu);
  const cpuReq = cpuMilli(c.resources?.requests?.cpu);
  return { ...(mem ? { memoryBytes: mem } : {}), ...(cpu ? { cpuMilli: cpu } : {}), ...(cpuReq ? { cpuRequestMilli: cpuReq } : {}) };
}

/** What building launches reads. */
export interface PlanContext {
  pod: Pod;
  desired: DesiredMessage;
  nodeName: string;
  hostIP: string;
  ports: PodPortStatus[];
  allocatable: { cpuMilli: number; memoryBytes: number };
  volumes: PodVolumes;
  cgroups?: Cgroups;
  /** The user of each container by name (user.ts). */
  users: Map<string, RunAs | undefined>;
}

/** The launches of every container of the pod (images not pulled yet: see pod.ts). */
export function launchesOf(ctx: PlanContext): Launch[] {
  const uid = ctx.pod.metadata.uid as string;
  const all: [Container, boolean][] = [...(ctx.pod.spec.initContainers ?? []).map((c) => [c, true] as [Container, boolean]), ...ctx.pod.spec.containers.map((c) => [c, false] as [Container, boolean])];
  return all.map(([c, init]) => {
    const env = resolveEnv(c, { pod: ctx.pod, desired: ctx.desired, nodeName: ctx.nodeName, hostIP: ctx.hostIP, ports: ctx.ports, allocatable: ctx.allocatable, extra: ctx.volumes.envFor(c) });
    const mounts = (c.volumeMounts ?? []).map((m) => ({ hostPath: m.subPath ? path.join(ctx.volumes.dirOf(m.name), m.subPath) : ctx.volumes.dirOf(m.name), mountPath: m.mountPath, readOnly: m.readOnly === true }));
    return {
      container: c,
      name: c.name,
      role: roleOf(c, init),
      argv: resolveArgv(c, env),
      env,
      workingDir: c.workingDir,
      limits: limitsOf(c),
      cgroup: ctx.cgroups?.container(uid, c.name),
      mounts,
      user: ctx.users.get(c.name),
    };
  });
}
