/**
 * A container's environment, resolved the Kubernetes way: service variables, then envFrom, then env (later
 * wins); `$(VAR)` in values, command and args refers to variables defined before it (`$$(` escapes).
 * The agent adds HOSTNAME (the pod name) and PORT / PORT_<NAME>, and passes on PATH, LANG and TZ from its
 * own environment so bare command names resolve; nothing else of the agent's environment leaks in.
 */
import { SkiffError } from '../../protocol/errors.js';
import { hasOwn, own } from '../../protocol/own.js';
import type { DesiredMessage } from '../../protocol/messages.js';
import { bytes, cpuMilli } from '../../protocol/quantity.js';
import type { Container, KObject, Pod, PodPortStatus } from '../../protocol/types.js';

/** What env resolution reads besides the container: the desired message's maps and the node's address. */
export interface EnvContext {
  pod: Pod;
  desired: Pick<DesiredMessage, 'configMaps' | 'secrets' | 'services'>;
  nodeName: string;
  hostIP: string;
  /** The ports bound for this container (free ports already picked). */
  ports: PodPortStatus[];
  /** Node allocatable, for resourceFieldRef on a container without limits: cpu millicores, memory bytes. */
  allocatable: { cpuMilli: number; memoryBytes: number };
  /** Agent-defined variables of this container (SKIFF_VOLUME_<NAME>), set before envFrom and env so `$(...)` sees them. */
  extra?: Record<string, string>;
  /** status.podIP when the pod has an address of its own (a container pod's sandbox); default hostIP. */
  podIP?: string;
  /** A service's address as this pod reaches it (container pods: the pod-network mirror); default the clusterIP. */
  serviceHost?: (clusterIP: string) => string;
  /** Pass on PATH, LANG and TZ from the agent (default true; a container image brings its own). */
  inherit?: boolean;
}

const inherited = ['PATH', 'LANG', 'TZ'];

/** `my-port` → `MY_PORT`. */
export const envSuffix = (name: string) => name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');

/** Expands `$(NAME)` from `vars`; unknown references stay as written and `$$` becomes `$`, as in Kubernetes. */
export function expand(s: string, vars: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) => (name === undefined ? '$' : (own(vars, name) ?? m)));
}

function configError(message: string): SkiffError {
  return new SkiffError('SKIFF_ERR_NOT_FOUND', message);
}

/** A key of a ConfigMap (data, or base64 binaryData) or a Secret (base64 data, or plain stringData). */
function lookup(kind: 'configmap' | 'secret', obj: KObject | undefined, key: string | undefined): Record<string, string> | string | undefined {
  if (!obj) return undefined;
  const plain: Record<string, string> = {};
  if (kind === 'configmap') {
    Object.assign(plain, (obj.data as Record<string, string>) ?? {});
    for (const [k, v] of Object.entries((obj.binaryData as Record<string, string>) ?? {})) plain[k] = Buffer.from(v, 'base64').toString('utf8');
  } else {
    for (const [k, v] of Object.entries((obj.data as Record<string, string>) ?? {})) plain[k] = Buffer.from(String(v), 'base64').toString('utf8');
    Object.assign(plain, (obj.stringData as Record<string, string>) ?? {});
  }
  return key === undefined ? plain : own(plain, key);
}

function fieldRef(path: string, ctx: EnvContext): string {
  const m = ctx.pod.metadata;
  const fixed: Record<string, string | undefined> = {
    'metadata.name': m.name,
    'metadata.namespace': m.namespace ?? 'default',
    'metadata.uid': m.uid,
    'spec.nodeName': ctx.pod.spec.nodeName ?? ctx.nodeName,
    'spec.serviceAccountName': 'default',
    'status.podIP': ctx.podIP ?? ctx.hostIP, // process pods share the host network
    'status.hostIP': ctx.hostIP,
  };
  if (hasOwn(fixed, path)) return fixed[path] ?? '';
  const lm = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path);
  if (lm) return own(lm[1] === 'labels' ? m.labels : m.annotations, lm[2]) ?? '';
  throw new SkiffError('SKIFF_ERR_VALIDATION', `unsupported fieldRef ${path}`);
}

/**
 * Downward API resourceFieldRef (Kubernetes `ExtractContainerResourceValue`): the container's request or
 * limit divided by `divisor` and rounded up (cpu divisor default 1 core, so 250m reads 1; `divisor: 1m` reads
 * 250). A request left out defaults to the limit (API defaulting); a limit left out reads the node's
 * allocatable, as kubelet does. `containerName` picks another container of the pod.
 */
function resourceFieldRef(ref: { resource: string; containerName?: string; divisor?: string | number }, c: Container, ctx: EnvContext): string {
  const target = ref.containerName ? ctx.pod.spec.containers.find((x) => x.name === ref.containerName) : c;
  if (!target) throw new SkiffError('SKIFF_ERR_VALIDATION', `resourceFieldRef: no container "${ref.containerName}" in the pod`);
  const [kind, res] = ref.resource.split('.') as ['requests' | 'limits', 'cpu' | 'memory' | 'ephemeral-storage'];
  const limit = own(target.resources?.limits, res);
  const value = kind === 'limits' ? limit : (own(target.resources?.requests, res) ?? limit);
  const node = kind === 'limits' ? (res === 'cpu' ? ctx.allocatable.cpuMilli : res === 'memory' ? ctx.allocatable.memoryBytes : 0) : 0;
  if (res === 'cpu') {
    const milli = value === undefined ? node : (cpuMilli(value) ?? 0);
    const div = ref.divisor === undefined ? 1000 : cpuMilli(ref.divisor) || 1000;
    return String(Math.ceil(milli / div));
  }
  const b = value === undefined ? node : (bytes(value) ?? 0);
  return String(Math.ceil(b / ((ref.divisor === undefined ? 1 : bytes(ref.divisor)) || 1)));
}

/** Service variables for the services of the pod's namespace: `{NAME}_SERVICE_HOST`, `{NAME}_SERVICE_PORT[_{PORT}]`. */
function serviceVars(ctx: EnvContext): Record<string, string> {
  const out: Record<string, string> = {};
  const ns = ctx.pod.metadata.namespace ?? 'default';
  for (const [key, svc] of Object.entries(ctx.desired.services ?? {})) {
    const [sns, name] = key.split('/');
    if (sns !== ns || !name || !svc || !Array.isArray(svc.ports)) continue;
    const p = envSuffix(name);
    out[`${p}_SERVICE_HOST`] = ctx.serviceHost ? ctx.serviceHost(String(svc.host)) : String(svc.host);
    if (svc.ports[0]) out[`${p}_SERVICE_PORT`] = String(svc.ports[0].port);
    for (const sp of svc.ports) if (sp.name) out[`${p}_SERVICE_PORT_${envSuffix(sp.name)}`] = String(sp.port);
  }
  return out;
}

/** The complete environment of one container; throws SKIFF_ERR_NOT_FOUND for a missing non-optional ConfigMap/Secret. */
export function resolveEnv(c: Container, ctx: EnvContext): Record<string, string> {
  const ns = ctx.pod.metadata.namespace ?? 'default';
  const env: Record<string, string> = {};
  if (ctx.inherit !== false) for (const k of inherited) if (process.env[k] !== undefined) env[k] = process.env[k] as string;
  Object.assign(env, serviceVars(ctx));
  env.HOSTNAME = ctx.pod.spec.hostname ?? ctx.pod.metadata.name;
  const own = ctx.ports.filter((p) => p.containerName === c.name);
  if (own[0]) env.PORT = String(own[0].port);
  for (const p of own) if (p.name) env[`PORT_${envSuffix(p.name)}`] = String(p.port);
  Object.assign(env, ctx.extra);

  for (const src of c.envFrom ?? []) {
    const isCm = src.configMapRef !== undefined;
    const ref = src.configMapRef ?? src.secretRef;
    if (!ref) continue;
    const kind = isCm ? 'configmap' : 'secret';
    const obj = (isCm ? ctx.desired.configMaps : ctx.desired.secrets)?.[`${ns}/${ref.name}`];
    const values = lookup(kind, obj, undefined) as Record<string, string> | undefined;
    if (!values) {
      if (ref.optional) continue;
      throw configError(`${kind} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(values)) if (/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(k)) env[`${src.prefix ?? ''}${k}`] = v;
  }

  for (const e of c.env ?? []) {
    if (e.valueFrom === undefined) {
      env[e.name] = expand(e.value ?? '', env);
      continue;
    }
    const vf = e.valueFrom;
    if (vf.fieldRef) env[e.name] = fieldRef(vf.fieldRef.fieldPath, ctx);
    else if (vf.resourceFieldRef) env[e.name] = resourceFieldRef(vf.resourceFieldRef, c, ctx);
    else {
      const isCm = vf.configMapKeyRef !== undefined;
      const ref = (vf.configMapKeyRef ?? vf.secretKeyRef) as { name: string; key: string; optional?: boolean };
      const kind = isCm ? 'configmap' : 'secret';
      const obj = (isCm ? ctx.desired.configMaps : ctx.desired.secrets)?.[`${ns}/${ref.name}`];
      const v = lookup(kind, obj, ref.key) as string | undefined;
      if (v === undefined) {
        if (ref.optional) continue;
        throw configError(obj ? `key "${ref.key}" not found in ${kind} "${ref.name}"` : `${kind} "${ref.name}" not found`);
      }
      env[e.name] = v;
    }
  }
  return env;
}

/** command + args with `$(VAR)` expanded; throws when there is nothing to run. */
export function resolveArgv(c: Container, env: Record<string, string>): string[] {
  const argv = [...(c.command ?? []), ...(c.args ?? [])].map((a) => expand(String(a), env));
  if (argv.length === 0) throw new SkiffError('SKIFF_ERR_VALIDATION', `container "${c.name}": a process container needs a command`);
  return argv;
}
