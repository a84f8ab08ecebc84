/**
 * The checks of the Pod Security Standards, one function each, as k8s.io/pod-security-admission/policy has them
 * (check_hostNamespaces.go, check_privileged.go, ...): a check reads a pod spec and returns what breaks it in
 * Kubernetes' words (`hostPath volumes (volume "root")`), or nothing. The `baseline` level runs the baseline
 * checks; `restricted` runs those and the restricted ones. One Skiff check is added: `host process`, for pods
 * of the process runtime (docs/security.md, "Pod Security").
 */
import type { Container, PodSpec, SecurityContext } from '../../protocol/index.js';

/** A check: its name (as in Kubernetes' messages) and what it finds in a pod spec. */
export interface Check {
  name: string;
  level: 'baseline' | 'restricted';
  find(spec: PodSpec): string | undefined;
}

/** Every container of a pod, init containers first (Kubernetes checks both). */
function containers(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
}

/** `container "a"` or `containers "a", "b"`. */
function named(what: string, names: string[]): string {
  return `${what}${names.length > 1 ? 's' : ''} ${names.map((n) => JSON.stringify(n)).join(', ')}`;
}

/** The containers for which `bad` holds. */
function offenders(spec: PodSpec, bad: (c: Container) => boolean): string[] {
  return containers(spec)
    .filter((c) => c && bad(c))
    .map((c) => c.name);
}

/** Baseline allows these capabilities to be added (the container runtime's defaults). */
const defaultCapabilities: ReadonlySet<string> = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);
/** Restricted allows only this one to be added. */
const restrictedAddable: ReadonlySet<string> = new Set(['NET_BIND_SERVICE']);
/** Volume types restricted allows (core/v1 names; Skiff has emptyDir, configMap, secret and hostPath). */
const restrictedVolumes: ReadonlySet<string> = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/** The runtime class of a pod as the agent picks it (DESIGN.md): process unless it names another or has an image. */
export function runtimeOf(spec: PodSpec): string {
  return spec.runtimeClassName ?? (containers(spec).some((c) => c?.image) ? 'container' : 'process');
}

/** A container's effective value of a securityContext field (its own, else the pod's). */
function effective<K extends keyof SecurityContext & ('runAsUser' | 'runAsNonRoot' | 'seccompProfile')>(spec: PodSpec, c: Container, k: K): SecurityContext[K] {
  return c.securityContext?.[k] ?? (spec.securityContext as SecurityContext | undefined)?.[k];
}

/** The baseline checks (policy v1.x "baseline"). */
const baseline: Check[] = [
  {
    name: 'host namespaces',
    level: 'baseline',
    find(spec) {
      const set = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => spec[k] === true).map((k) => `${k}=true`);
      return set.length ? set.join(', ') : undefined;
    },
  },
  {
    name: 'privileged',
    level: 'baseline',
    find(spec) {
      const bad = offenders(spec, (c) => c.securityContext?.privileged === true);
      return bad.length ? `${named('container', bad)} must not set securityContext.privileged=true` : undefined;
    },
  },
  {
    name: 'non-default capabilities',
    level: 'baseline',
    find(spec) {
      for (const c of containers(spec)) {
        const extra = (c?.securityContext?.capabilities?.add ?? []).filter((cap) => !defaultCapabilities.has(cap));
        if (extra.length) return `container ${JSON.stringify(c.name)} must not include ${extra.map((x) => JSON.stringify(x)).join(', ')} in securityContext.capabilities.add`;
      }
      return undefined;
    },
  },
  {
    name: 'hostPath volumes',
    level: 'baseline',
    find(spec) {
      const bad = (spec.volumes ?? []).filter((v) => v?.hostPath).map((v) => v.name);
      return bad.length ? named('volume', bad) : undefined;
    },
  },
  {
    name: 'hostPort',
    level: 'baseline',
    find(spec) {
      const ports: number[] = [];
      const bad = offenders(spec, (c) => {
        const hp = (c.ports ?? []).map((p) => p?.hostPort).filter((p): p is number => typeof p === 'number' && p !== 0);
        ports.push(...hp);
        return hp.length > 0;
      });
      return bad.length ? `${named('container', bad)} ${bad.length > 1 ? 'use' : 'uses'} hostPort${ports.length > 1 ? 's' : ''} ${ports.join(', ')}` : undefined;
    },
  },
  {
    name: 'seccompProfile',
    level: 'baseline',
    find(spec) {
      if (spec.securityContext?.seccompProfile?.type === 'Unconfined') return 'pod must not set securityContext.seccompProfile.type to "Unconfined"';
      const bad = offenders(spec, (c) => c.securityContext?.seccompProfile?.type === 'Unconfined');
      return bad.length ? `${named('container', bad)} must not set securityContext.seccompProfile.type to "Unconfined"` : undefined;
    },
  },
  {
    // Skiff's own: a process pod runs on the host as the agent's user, unless it names another user to run as.
    name: 'host process',
    level: 'baseline',
    find(spec) {
      if (runtimeOf(spec) !== 'process') return undefined;
      const bad = offenders(spec, (c) => !((effective(spec, c, 'runAsUser') ?? 0) > 0));
      return bad.length
        ? `runtimeClassName "process" runs ${named('container', bad)} on the host as the agent's user; ${bad.length > 1 ? 'they' : 'it'} must set securityContext.runAsUser to a non-root user`
        : undefined;
    },
  },
];

/** The restricted checks, on top of baseline (policy v1.x "restricted"). */
const restricted: Check[] = [
  {
    name: 'restricted volume types',
    level: 'restricted',
    find(spec) {
      for (const v of spec.volumes ?? []) {
        const type = Object.keys(v ?? {}).find((k) => k !== 'name');
        if (type && !restrictedVolumes.has(type)) return `volume ${JSON.stringify(v.name)} uses restricted volume type ${JSON.stringify(type)}`;
      }
      return undefined;
    },
  },
  {
    name: 'allowPrivilegeEscalation != false',
    level: 'restricted',
    find(spec) {
      const bad = offenders(spec, (c) => c.securityContext?.allowPrivilegeEscalation !== false);
      return bad.length ? `${named('container', bad)} must set securityContext.allowPrivilegeEscalation=false` : undefined;
    },
  },
  {
    name: 'unrestricted capabilities',
    level: 'restricted',
    find(spec) {
      const noDrop = offenders(spec, (c) => !(c.securityContext?.capabilities?.drop ?? []).includes('ALL'));
      if (noDrop.length) return `${named('container', noDrop)} must set securityContext.capabilities.drop=["ALL"]`;
      for (const c of containers(spec)) {
        const extra = (c?.securityContext?.capabilities?.add ?? []).filter((cap) => !restrictedAddable.has(cap));
        if (extra.length) return `container ${JSON.stringify(c.name)} must not include ${extra.map((x) => JSON.stringify(x)).join(', ')} in securityContext.capabilities.add`;
      }
      return undefined;
    },
  },
  {
    name: 'runAsNonRoot != true',
    level: 'restricted',
    find(spec) {
      if (spec.securityContext?.runAsNonRoot === false) return 'pod must not set securityContext.runAsNonRoot=false';
      const bad = offenders(spec, (c) => effective(spec, c, 'runAsNonRoot') !== true);
      return bad.length ? `pod or ${named('container', bad)} must set securityContext.runAsNonRoot=true` : undefined;
    },
  },
  {
    name: 'runAsUser=0',
    level: 'restricted',
    find(spec) {
      if (spec.securityContext?.runAsUser === 0) return 'pod must not set runAsUser=0';
      const bad = offenders(spec, (c) => c.securityContext?.runAsUser === 0);
      return bad.length ? `${named('container', bad)} must not set runAsUser=0` : undefined;
    },
  },
  {
    name: 'seccompProfile',
    level: 'restricted',
    find(spec) {
      const ok = (t: string | undefined) => t === 'RuntimeDefault' || t === 'Localhost';
      const bad = offenders(spec, (c) => !ok(effective(spec, c, 'seccompProfile')?.type));
      return bad.length ? `pod or ${named('container', bad)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` : undefined;
    },
  },
];

/** The checks a level runs, in Kubernetes' order. */
export function checksOf(level: 'privileged' | 'baseline' | 'restricted'): Check[] {
  if (level === 'privileged') return [];
  // restricted's seccomp check replaces baseline's (Kubernetes: the stricter version overrides the baseline one).
  if (level === 'restricted') return [...baseline.filter((c) => c.name !== 'seccompProfile'), ...restricted];
  return baseline;
}
