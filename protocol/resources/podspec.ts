/** Validation and defaults of a pod spec: used by Pod and by every pod template. */
import type { Checker } from '../check.js';
import { isObject } from '../check.js';
import type { PodSpec } from '../types.js';
import { defaultPullPolicy, parseImageRef, pullPolicies } from '../image.js';
import { parseModuleImage } from '../wasi-image.js';

/** The drivers a pod can ask for with spec.runtimeClassName. */
export const runtimeClasses = ['process', 'container', 'wasi'] as const;

const restartPolicies = ['Always', 'OnFailure', 'Never'] as const;
const protocols = ['TCP', 'UDP'] as const;
const effects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
/** Downward API field paths an env var may read. */
const fieldPaths = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName', 'status.podIP', 'status.hostIP'];
const nodeOps = ['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'] as const;

function checkProbe(c: Checker, p: unknown, f: string): void {
  if (!c.object(p, f)) return;
  const handlers = ['exec', 'httpGet', 'tcpSocket'].filter((h) => p[h] !== undefined);
  if (handlers.length !== 1) c.fail(f, 'must have exactly one of exec, httpGet, tcpSocket', handlers);
  if (c.object(p.exec, `${f}.exec`)) c.stringList(p.exec.command, `${f}.exec.command`) || c.required(p.exec.command, `${f}.exec.command`);
  if (c.object(p.httpGet, `${f}.httpGet`)) {
    if (typeof p.httpGet.port !== 'string') c.port(p.httpGet.port, `${f}.httpGet.port`, false, true);
    c.string(p.httpGet.path, `${f}.httpGet.path`);
    c.oneOf(p.httpGet.scheme, `${f}.httpGet.scheme`, ['HTTP', 'HTTPS']);
  }
  if (c.object(p.tcpSocket, `${f}.tcpSocket`) && typeof p.tcpSocket.port !== 'string') c.port(p.tcpSocket.port, `${f}.tcpSocket.port`, false, true);
  c.int(p.initialDelaySeconds, `${f}.initialDelaySeconds`, 0);
  c.int(p.periodSeconds, `${f}.periodSeconds`, 1);
  c.int(p.timeoutSeconds, `${f}.timeoutSeconds`, 1);
  c.int(p.successThreshold, `${f}.successThreshold`, 1);
  c.int(p.failureThreshold, `${f}.failureThreshold`, 1);
}

function checkEnv(c: Checker, env: unknown, f: string): void {
  if (!c.array(env, f)) return;
  env.forEach((e, i) => {
    const p = `${f}[${i}]`;
    if (!c.object(e, p, true)) return;
    c.envName(e.name, `${p}.name`);
    c.string(e.value, `${p}.value`);
    if (!c.object(e.valueFrom, `${p}.valueFrom`)) return;
    if (e.value !== undefined) c.fail(`${p}.valueFrom`, 'may not be set together with value');
    const vf = e.valueFrom;
    const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((k) => vf[k] !== undefined);
    if (sources.length !== 1) c.fail(`${p}.valueFrom`, 'must have exactly one of fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef', sources);
    if (c.object(vf.fieldRef, `${p}.valueFrom.fieldRef`) && c.string(vf.fieldRef.fieldPath, `${p}.valueFrom.fieldRef.fieldPath`, true))
      if (!fieldPaths.includes(vf.fieldRef.fieldPath) && !/^metadata\.(labels|annotations)\['[^']+'\]$/.test(vf.fieldRef.fieldPath))
        c.fail(`${p}.valueFrom.fieldRef.fieldPath`, `must be one of ${fieldPaths.join(', ')}, metadata.labels['KEY'] or metadata.annotations['KEY']`, vf.fieldRef.fieldPath);
    if (c.object(vf.resourceFieldRef, `${p}.valueFrom.resourceFieldRef`))
      c.oneOf(vf.resourceFieldRef.resource, `${p}.valueFrom.resourceFieldRef.resource`, ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory', 'requests.ephemeral-storage', 'limits.ephemeral-storage'], true);
    for (const ref of ['configMapKeyRef', 'secretKeyRef'])
      if (c.object(vf[ref], `${p}.valueFrom.${ref}`)) {
        c.dnsSubdomain(vf[ref].name, `${p}.valueFrom.${ref}.name`, true);
        c.string(vf[ref].key, `${p}.valueFrom.${ref}.key`, true);
      }
  });
}

const seccompTypes = ['RuntimeDefault', 'Localhost', 'Unconfined'] as const;

/** A container's or a pod's securityContext (`pod` has no privileged, capabilities, allowPrivilegeEscalation). */
function checkSecurityContext(c: Checker, sc: unknown, f: string, pod: boolean): void {
  if (!c.object(sc, f)) return;
  c.int(sc.runAsUser, `${f}.runAsUser`, 0, 2 ** 31 - 1);
  c.int(sc.runAsGroup, `${f}.runAsGroup`, 0, 2 ** 31 - 1);
  c.bool(sc.runAsNonRoot, `${f}.runAsNonRoot`);
  if (sc.runAsNonRoot === true && sc.runAsUser === 0) c.fail(`${f}.runAsNonRoot`, 'may not be true with runAsUser 0');
  if (c.object(sc.seccompProfile, `${f}.seccompProfile`)) {
    c.oneOf(sc.seccompProfile.type, `${f}.seccompProfile.type`, seccompTypes, true);
    c.string(sc.seccompProfile.localhostProfile, `${f}.seccompProfile.localhostProfile`, sc.seccompProfile.type === 'Localhost');
  }
  if (pod) {
    c.int(sc.fsGroup, `${f}.fsGroup`, 0, 2 ** 31 - 1);
    return;
  }
  c.bool(sc.privileged, `${f}.privileged`);
  c.bool(sc.allowPrivilegeEscalation, `${f}.allowPrivilegeEscalation`);
  c.bool(sc.readOnlyRootFilesystem, `${f}.readOnlyRootFilesystem`);
  if (c.object(sc.capabilities, `${f}.capabilities`)) {
    c.stringList(sc.capabilities.add, `${f}.capabilities.add`);
    c.stringList(sc.capabilities.drop, `${f}.capabilities.drop`);
  }
  if (sc.privileged === true && sc.allowPrivilegeEscalation === false) c.fail(`${f}.allowPrivilegeEscalation`, 'may not be false with privileged true');
}

function checkContainer(c: Checker, ct: unknown, f: string, volumeNames: Set<string>, runtime: string): void {
  if (!c.object(ct, f, true)) return;
  c.dnsLabel(ct.name, `${f}.name`, true);
  checkSecurityContext(c, ct.securityContext, `${f}.securityContext`, false);
  if (c.string(ct.image, `${f}.image`) && runtime === 'container' && !parseImageRef(ct.image))
    c.fail(`${f}.image`, 'must be an image reference like busybox:1.36, registry:5000/team/app:v2 or app@sha256:<digest>', ct.image);
  c.oneOf(ct.imagePullPolicy, `${f}.imagePullPolicy`, pullPolicies);
  c.stringList(ct.command, `${f}.command`);
  c.stringList(ct.args, `${f}.args`);
  c.string(ct.workingDir, `${f}.workingDir`);
  checkEnv(c, ct.env, `${f}.env`);
  if (c.array(ct.envFrom, `${f}.envFrom`))
    ct.envFrom.forEach((e: unknown, i: number) => {
      const p = `${f}.envFrom[${i}]`;
      if (!c.object(e, p, true)) return;
      if ((e.configMapRef === undefined) === (e.secretRef === undefined)) c.fail(p, 'must have exactly one of configMapRef, secretRef');
      if (c.object(e.configMapRef, `${p}.configMapRef`)) c.dnsSubdomain(e.configMapRef.name, `${p}.configMapRef.name`, true);
      if (c.object(e.secretRef, `${p}.secretRef`)) c.dnsSubdomain(e.secretRef.name, `${p}.secretRef.name`, true);
    });
  if (c.array(ct.ports, `${f}.ports`)) {
    const names = new Set<string>();
    ct.ports.forEach((port: unknown, i: number) => {
      const p = `${f}.ports[${i}]`;
      if (!c.object(port, p, true)) return;
      c.port(port.containerPort, `${p}.containerPort`, true);
      c.port(port.hostPort, `${p}.hostPort`, true);
      c.oneOf(port.protocol, `${p}.protocol`, protocols);
      if (port.name !== undefined && c.string(port.name, `${p}.name`)) {
        if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(port.name) || port.name.length > 15) c.fail(`${p}.name`, 'must be an IANA service name: at most 15 lowercase letters, digits or "-"', port.name);
        if (names.has(port.name)) c.fail(`${p}.name`, 'must be unique within the container', port.name);
        names.add(port.name);
      }
    });
  }
  if (c.object(ct.resources, `${f}.resources`))
    for (const kind of ['requests', 'limits'])
      if (c.object(ct.resources[kind], `${f}.resources.${kind}`))
        for (const [r, q] of Object.entries(ct.resources[kind])) {
          if (!['cpu', 'memory', 'ephemeral-storage'].includes(r)) c.fail(`${f}.resources.${kind}.${r}`, 'must be cpu, memory or ephemeral-storage');
          else c.quantity(q, `${f}.resources.${kind}.${r}`);
        }
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) checkProbe(c, ct[probe], `${f}.${probe}`);
  if (c.array(ct.volumeMounts, `${f}.volumeMounts`))
    ct.volumeMounts.forEach((m: unknown, i: number) => {
      const p = `${f}.volumeMounts[${i}]`;
      if (!c.object(m, p, true)) return;
      if (c.string(m.name, `${p}.name`, true) && !volumeNames.has(m.name)) c.fail(`${p}.name`, 'must name a volume in spec.volumes', m.name);
      c.string(m.mountPath, `${p}.mountPath`, true);
      c.bool(m.readOnly, `${p}.readOnly`);
    });
}

/**
 * One container of the pod in its place: the container rules, a name unique across init and app containers,
 * what its runtime needs (a process: command; container or wasi: image, a wasi one a module reference), and
 * the init container rules: `restartPolicy` is only for init containers and only `Always` (a sidecar); a
 * regular init container runs to completion, so it has no probes (Kubernetes' validation says the same).
 */
function checkPodContainer(c: Checker, spec: Record<string, any>, ct: unknown, f: string, volumeNames: Set<string>, names: Set<string>, init: boolean): void {
  checkContainer(c, ct, f, volumeNames, runtimeOf(spec, ct));
  if (!isObject(ct)) return;
  if (typeof ct.name === 'string') {
    if (names.has(ct.name)) c.fail(`${f}.name`, 'must be unique within the pod (init and app containers together)', ct.name);
    names.add(ct.name);
  }
  const runtime = runtimeOf(spec, ct);
  if (runtime === 'process' && !Array.isArray(ct.command)) c.fail(`${f}.command`, 'is required for a process container');
  if (runtime !== 'process' && typeof ct.image !== 'string') c.fail(`${f}.image`, `is required with runtimeClassName ${runtime}`);
  if (runtime === 'wasi' && typeof ct.image === 'string') {
    const m = parseModuleImage(ct.image);
    if ('error' in m) c.fail(`${f}.image`, m.error, ct.image);
  }
  if (ct.restartPolicy !== undefined) {
    if (!init) c.fail(`${f}.restartPolicy`, 'may only be set on an init container (a sidecar)', ct.restartPolicy);
    else c.oneOf(ct.restartPolicy, `${f}.restartPolicy`, ['Always']);
  }
  if (init && ct.restartPolicy !== 'Always')
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe'])
      if (ct[probe] !== undefined) c.fail(`${f}.${probe}`, 'may not be set on an init container without restartPolicy: Always (it runs to completion)');
}

/** Checks one node selector term (pod node affinity, a PersistentVolume's node affinity). */
export function checkNodeSelectorTerm(c: Checker, t: unknown, f: string): void {
  if (!c.object(t, f, true) || !c.array(t.matchExpressions, `${f}.matchExpressions`)) return;
  t.matchExpressions.forEach((e: unknown, i: number) => {
    const p = `${f}.matchExpressions[${i}]`;
    if (!c.object(e, p, true)) return;
    c.string(e.key, `${p}.key`, true);
    if (!c.oneOf(e.operator, `${p}.operator`, nodeOps, true)) return;
    const n = Array.isArray(e.values) ? e.values.length : 0;
    c.stringList(e.values, `${p}.values`);
    if ((e.operator === 'In' || e.operator === 'NotIn') && n === 0) c.fail(`${p}.values`, `must not be empty for ${e.operator}`);
    if ((e.operator === 'Exists' || e.operator === 'DoesNotExist') && n > 0) c.fail(`${p}.values`, `must be empty for ${e.operator}`);
    if ((e.operator === 'Gt' || e.operator === 'Lt') && (n !== 1 || !/^-?[0-9]+$/.test(e.values[0]))) c.fail(`${p}.values`, `must be one integer for ${e.operator}`, e.values);
  });
}

/** The runtime class a container runs under (DESIGN.md): runtimeClassName, else container with an image, else process. */
function runtimeOf(spec: Record<string, unknown>, ct: unknown): string {
  const rc = spec.runtimeClassName;
  if (typeof rc === 'string') return rc;
  return isObject(ct) && typeof ct.image === 'string' ? 'container' : 'process';
}

/**
 * Checks a pod spec at path `f` (e.g. `spec` or `spec.template.spec`). `claimTemplates` are volume names a
 * StatefulSet's volumeClaimTemplates add to every pod, which containers may mount without a spec.volumes entry.
 */
export function checkPodSpec(c: Checker, spec: unknown, f: string, claimTemplates: readonly string[] = []): void {
  if (!c.object(spec, f, true)) return;
  const volumeNames = new Set<string>(claimTemplates);
  if (c.array(spec.volumes, `${f}.volumes`))
    spec.volumes.forEach((v: unknown, i: number) => {
      const p = `${f}.volumes[${i}]`;
      if (!c.object(v, p, true)) return;
      if (c.dnsLabel(v.name, `${p}.name`, true)) {
        if (volumeNames.has(v.name)) c.fail(`${p}.name`, 'must be unique', v.name);
        volumeNames.add(v.name);
      }
      const sources = ['emptyDir', 'hostPath', 'configMap', 'secret', 'persistentVolumeClaim'].filter((k) => v[k] !== undefined);
      if (sources.length !== 1) c.fail(p, 'must have exactly one of emptyDir, hostPath, configMap, secret, persistentVolumeClaim', sources);
      if (c.object(v.persistentVolumeClaim, `${p}.persistentVolumeClaim`)) {
        c.dnsSubdomain(v.persistentVolumeClaim.claimName, `${p}.persistentVolumeClaim.claimName`, true);
        c.bool(v.persistentVolumeClaim.readOnly, `${p}.persistentVolumeClaim.readOnly`);
      }
      if (c.object(v.configMap, `${p}.configMap`)) c.dnsSubdomain(v.configMap.name, `${p}.configMap.name`, true);
      if (c.object(v.secret, `${p}.secret`)) c.dnsSubdomain(v.secret.secretName, `${p}.secret.secretName`, true);
      if (c.object(v.hostPath, `${p}.hostPath`)) c.string(v.hostPath.path, `${p}.hostPath.path`, true);
    });
  const names = new Set<string>();
  if (c.array(spec.initContainers, `${f}.initContainers`))
    spec.initContainers.forEach((ct: unknown, i: number) => checkPodContainer(c, spec, ct, `${f}.initContainers[${i}]`, volumeNames, names, true));
  if (c.array(spec.containers, `${f}.containers`, true)) {
    if (spec.containers.length === 0) c.fail(`${f}.containers`, 'must have at least one container');
    spec.containers.forEach((ct: unknown, i: number) => checkPodContainer(c, spec, ct, `${f}.containers[${i}]`, volumeNames, names, false));
  }
  checkSecurityContext(c, spec.securityContext, `${f}.securityContext`, true);
  for (const ns of ['hostNetwork', 'hostPID', 'hostIPC']) c.bool(spec[ns], `${f}.${ns}`);
  if (c.array(spec.imagePullSecrets, `${f}.imagePullSecrets`))
    spec.imagePullSecrets.forEach((s: unknown, i: number) => c.object(s, `${f}.imagePullSecrets[${i}]`, true) && c.dnsSubdomain(s.name, `${f}.imagePullSecrets[${i}].name`, true));
  c.oneOf(spec.restartPolicy, `${f}.restartPolicy`, restartPolicies);
  c.dnsSubdomain(spec.nodeName, `${f}.nodeName`);
  c.labels(spec.nodeSelector, `${f}.nodeSelector`);
  c.oneOf(spec.runtimeClassName, `${f}.runtimeClassName`, runtimeClasses);
  c.int(spec.terminationGracePeriodSeconds, `${f}.terminationGracePeriodSeconds`, 0);
  c.dnsLabel(spec.hostname, `${f}.hostname`);
  c.dnsLabel(spec.subdomain, `${f}.subdomain`);
  if (c.array(spec.tolerations, `${f}.tolerations`))
    spec.tolerations.forEach((t: unknown, i: number) => {
      const p = `${f}.tolerations[${i}]`;
      if (!c.object(t, p, true)) return;
      c.string(t.key, `${p}.key`);
      c.oneOf(t.operator, `${p}.operator`, ['Equal', 'Exists']);
      c.string(t.value, `${p}.value`);
      c.oneOf(t.effect, `${p}.effect`, effects);
      c.int(t.tolerationSeconds, `${p}.tolerationSeconds`, 0);
      if (t.operator === 'Exists' && t.value) c.fail(`${p}.value`, 'must be empty when operator is Exists', t.value);
      // core/v1 validateTolerations: an empty key means "every key", which only Exists may say
      // (an empty key with Equal would read differently to different matchers).
      if (!t.key && t.operator !== 'Exists') c.fail(`${p}.operator`, 'must be Exists when key is empty', t.operator ?? 'Equal');
      if (t.tolerationSeconds != null && t.effect !== 'NoExecute') c.fail(`${p}.effect`, 'must be NoExecute when tolerationSeconds is set', t.effect ?? '');
    });
  if (c.object(spec.affinity, `${f}.affinity`) && c.object(spec.affinity.nodeAffinity, `${f}.affinity.nodeAffinity`)) {
    const na = spec.affinity.nodeAffinity;
    const req = na.requiredDuringSchedulingIgnoredDuringExecution;
    const rf = `${f}.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`;
    if (c.object(req, rf) && c.array(req.nodeSelectorTerms, `${rf}.nodeSelectorTerms`, true))
      req.nodeSelectorTerms.forEach((t: unknown, i: number) => checkNodeSelectorTerm(c, t, `${rf}.nodeSelectorTerms[${i}]`));
    const pf = `${f}.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution`;
    if (c.array(na.preferredDuringSchedulingIgnoredDuringExecution, pf))
      na.preferredDuringSchedulingIgnoredDuringExecution.forEach((t: unknown, i: number) => {
        if (!c.object(t, `${pf}[${i}]`, true)) return;
        c.int(t.weight, `${pf}[${i}].weight`, 1, 100, true);
        checkNodeSelectorTerm(c, t.preference, `${pf}[${i}].preference`);
      });
  }
  if (c.array(spec.topologySpreadConstraints, `${f}.topologySpreadConstraints`))
    spec.topologySpreadConstraints.forEach((t: unknown, i: number) => {
      const p = `${f}.topologySpreadConstraints[${i}]`;
      if (!c.object(t, p, true)) return;
      c.int(t.maxSkew, `${p}.maxSkew`, 1, Infinity, true);
      c.string(t.topologyKey, `${p}.topologyKey`, true);
      c.oneOf(t.whenUnsatisfiable, `${p}.whenUnsatisfiable`, ['DoNotSchedule', 'ScheduleAnyway'], true);
    });
}

/**
 * Fills Kubernetes defaults into a pod spec (in place): restartPolicy Always, port protocol TCP, and for
 * containers run by the container runtime the imagePullPolicy their image implies (protocol/image.ts).
 */
export function defaultPodSpec(spec: PodSpec, restartPolicy: PodSpec['restartPolicy'] = 'Always'): void {
  spec.restartPolicy ??= restartPolicy;
  spec.terminationGracePeriodSeconds ??= 30;
  // Each list walked as it is: every stored pod passes here when the watch decodes it, and a spread copy of its
  // containers per pod was a visible share of a rollout's garbage (docs/scale.md "Memory and GC").
  if (spec.initContainers) for (const ct of spec.initContainers) defaultContainer(spec, ct);
  for (const ct of spec.containers) defaultContainer(spec, ct);
}

/** One container's defaults: its ports' protocol and, run by the container runtime, the pull policy its image implies. */
function defaultContainer(spec: PodSpec, ct: PodSpec['containers'][number]): void {
  if (ct.ports) for (const p of ct.ports) p.protocol ??= 'TCP';
  if (ct.image && runtimeOf(spec as unknown as Record<string, unknown>, ct) === 'container') ct.imagePullPolicy ??= defaultPullPolicy(ct.image);
}
