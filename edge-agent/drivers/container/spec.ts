/**
 * One container attempt as the engine's create options: the Kubernetes container spec in Docker API terms.
 *   command / args      → Entrypoint / Cmd (command alone drops the image's CMD, as Kubernetes does)
 *   env, workingDir     → Env, WorkingDir
 *   volumeMounts        → bind mounts of the agent's per-pod volume dirs (HostConfig.Mounts)
 *   limits.memory       → Memory (and MemorySwap = Memory: no swap beyond the limit, as the kubelet sets)
 *   limits.cpu          → CpuPeriod 100 ms, CpuQuota = millicores × 100 µs (the kubelet's CFS quota)
 *   requests.cpu        → CpuShares = millicores × 1024 / 1000, at least 2 (the kubelet's formula)
 *   (always)            → PidsLimit: DEFAULT_PIDS_LIMIT processes
 *   securityContext     → User, ReadonlyRootfs, Privileged, CapAdd / CapDrop, no-new-privileges
 *   the pod's sandbox   → NetworkMode / IpcMode `container:<infra>` (or host)
 * Logs stay in the engine (json-file / k8s-file, rotated at Kubernetes' 10 MiB × 5 where the driver allows):
 * they keep being written while the agent is down and are read back through the API (logs.ts).
 */
import type { ContainerCreateOptions } from 'dockerode';
import type { ContainerLimits } from '../../cgroups/types.js';
import type { LaunchSpec } from '../types.js';
import type { Engine } from './engine.js';
import { labelsFor } from './labels.js';
import type { OciLaunch } from './types.js';

/** Processes one container may have (a fork bomb stops there); the kubelet's podPidsLimit is unset by default. */
export const DEFAULT_PIDS_LIMIT = 1024;

/** The CFS period the kubelet uses: 100 ms. */
const CFS_PERIOD_US = 100_000;

/** Kubernetes' container log rotation defaults (containerLogMaxSize 10Mi, containerLogMaxFiles 5). */
function logConfig(e: Engine): { Type: string; Config: Record<string, string> } {
  // Podman's k8s-file driver rotates by size only; Docker's json-file keeps max-file files.
  return e.info.engine === 'podman' ? { Type: 'k8s-file', Config: { 'max-size': '10m' } } : { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '5' } };
}

/** The docker name of an attempt: `skiff_<container>_<pod>_<namespace>_<uid>_<attempt>` (kubelet: `k8s_...`). */
export function containerName(spec: Pick<LaunchSpec, 'containerName' | 'podName' | 'namespace' | 'podUid' | 'restartCount'>): string {
  return `skiff_${spec.containerName}_${spec.podName}_${spec.namespace}_${spec.podUid}_${spec.restartCount}`;
}

/** The CPU and memory part of HostConfig, from the container's limits in kernel units (plan.ts limitsOf). */
export function resourceConfig(r: ContainerLimits = {}): Record<string, number> {
  const out: Record<string, number> = { PidsLimit: DEFAULT_PIDS_LIMIT };
  if (r.memoryBytes) {
    out.Memory = r.memoryBytes;
    out.MemorySwap = r.memoryBytes;
  }
  if (r.cpuMilli) {
    out.CpuPeriod = CFS_PERIOD_US;
    // At least 1 ms of quota per period (the kernel's minimum).
    out.CpuQuota = Math.max(1000, Math.round((r.cpuMilli * CFS_PERIOD_US) / 1000));
  }
  // Kubernetes defaults a missing cpu request to the limit.
  const request = r.cpuRequestMilli ?? r.cpuMilli;
  if (request) out.CpuShares = Math.max(2, Math.floor((request * 1024) / 1000));
  return out;
}

/** The securityContext part: user, read-only root, privileges, capabilities. */
function securityConfig(s: OciLaunch['security']): { user?: string; host: Record<string, unknown> } {
  const user = s.runAsUser !== undefined ? `${s.runAsUser}${s.runAsGroup !== undefined ? `:${s.runAsGroup}` : ''}` : s.runAsGroup !== undefined ? `0:${s.runAsGroup}` : undefined;
  const host: Record<string, unknown> = {};
  if (s.privileged) host.Privileged = true;
  if (s.readOnlyRootFilesystem) host.ReadonlyRootfs = true;
  if (s.capAdd?.length) host.CapAdd = s.capAdd;
  if (s.capDrop?.length) host.CapDrop = s.capDrop;
  if (s.noNewPrivileges) host.SecurityOpt = ['no-new-privileges'];
  return { ...(user ? { user } : {}), host };
}

/** The create options of one attempt; `sandboxId` is the pod's infra container (absent: host network). */
export function createOptions(e: Engine, spec: LaunchSpec, o: OciLaunch, image: string, sandboxId: string | undefined, startedAt: Date): ContainerCreateOptions {
  const sec = securityConfig(o.security);
  const ns = sandboxId ? `container:${sandboxId}` : 'host';
  return {
    name: containerName(spec),
    Image: image,
    ...(o.entrypoint ? { Entrypoint: o.entrypoint, Cmd: o.cmd ?? [] } : o.cmd ? { Cmd: o.cmd } : {}),
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
    ...(sec.user ? { User: sec.user } : {}),
    // Docker takes the hostname from the container whose network it joins; Podman lets each container set its own.
    ...(e.info.engine === 'podman' ? { Hostname: o.sandbox.hostname } : {}),
    Labels: labelsFor({ node: e.node, podUid: spec.podUid, podName: spec.podName, namespace: spec.namespace, role: 'container', container: spec.containerName, attempt: spec.restartCount, graceMs: spec.graceMs, startedAt }),
    Tty: o.tty === true,
    OpenStdin: o.tty === true,
    HostConfig: {
      NetworkMode: ns,
      ...(sandboxId ? { IpcMode: ns } : {}),
      // Mounts, not Binds: a path holding ":" would split a `src:dst:ro` string.
      Mounts: (spec.mounts ?? []).map((m) => ({ Type: 'bind' as const, Source: m.hostPath, Target: m.mountPath, ReadOnly: m.readOnly })),
      ...resourceConfig(spec.limits),
      ...sec.host,
      LogConfig: logConfig(e),
      RestartPolicy: { Name: 'no' }, // restarts are the agent's (restartPolicy, CrashLoopBackOff)
    },
  };
}
