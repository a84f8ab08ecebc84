/**
 * `skiff expose TYPE/NAME --port P [--target-port T] [--type ClusterIP|NodePort|LoadBalancer] [--name N]`,
 * as kubectl expose: a Service selecting the pods of a deployment, replica set, daemon set, pod or
 * service (its selector, or a pod's labels); without --port, the container ports the template declares.
 */
import { SkiffError, type AnyObject, type KObject } from '../../protocol/index.js';
import { podSpecOf, workloadSelector } from '../pods.js';
import { namespaceOption, str, type Command } from '../args.js';
import { sendObject } from '../send-object.js';
import { namespaceParam, parseTarget } from '../target.js';

const types = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;

/** The pod labels a Service must select to reach the object's pods. */
function selectorFor(o: AnyObject): Record<string, string> {
  if (o.kind === 'Pod') return { ...(o.metadata.labels ?? {}) };
  if (o.kind === 'Service') return { ...(o.spec?.selector ?? {}) };
  const sel = workloadSelector(o);
  if (sel?.matchExpressions?.length) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `couldn't convert expressions - "${JSON.stringify(sel.matchExpressions)}" to map-based selector format`);
  return { ...(sel?.matchLabels ?? {}) };
}

/** The ports the object declares (pod spec or template), for an expose without --port. */
function declaredPorts(o: AnyObject): { port: number; name?: string; protocol?: string }[] {
  if (o.kind === 'Service') return (o.spec?.ports ?? []).map((p) => ({ port: p.port, name: p.name, protocol: p.protocol }));
  const ports = (podSpecOf(o)?.containers ?? []).flatMap((c) => c.ports ?? []);
  return ports.filter((p) => (p.containerPort ?? 0) > 0).map((p) => ({ port: p.containerPort!, name: p.name, protocol: p.protocol }));
}

/** The expose verb. */
export const expose: Command = {
  summary: 'make a Service for the pods of a deployment, replica set, daemon set, pod or service',
  usage: `Usage:
  skiff expose TYPE/NAME | TYPE NAME [--port P] [--target-port T] [--type ClusterIP|NodePort|LoadBalancer] [--name N]

Examples:
  skiff expose deployment/web --port 80 --target-port 8080
  skiff expose deployment web --port 80 --target-port http --type NodePort

Flags:
  --port P                 the Service's port (default: the ports the pods declare)
  --target-port T          the pods' port, a number or a port name (default: the same as --port)
  --type TYPE              ClusterIP (default), NodePort or LoadBalancer
  --name NAME              the Service's name (default: the object's)
  --protocol P             TCP (default) or UDP
  --selector K=V,...       select these pod labels instead of the object's
  --dry-run MODE           client: print only; server: validated by the master, nothing stored
  -o, --output FORMAT      name, json or yaml: print the Service
  -n, --namespace NS       the namespace (default: the context's, else "default")
`,
  options: {
    ...namespaceOption,
    port: { type: 'string' },
    'target-port': { type: 'string' },
    type: { type: 'string' },
    name: { type: 'string' },
    protocol: { type: 'string' },
    selector: { type: 'string' },
    'dry-run': { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run(ctx, values, positionals) {
    const { kind, names } = parseTarget('expose', positionals);
    if (names.length !== 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff expose: exactly one object, e.g. "skiff expose deployment/web --port 80"');
    if (!['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet', 'Pod', 'Service'].includes(kind.kind))
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot expose a ${kind.kind}: only deployments, replica sets, daemon sets, pods and services`);
    const type = str(values, 'type') ?? 'ClusterIP';
    if (!(types as readonly string[]).includes(type)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--type: must be ClusterIP, NodePort or LoadBalancer, got "${type}"`);
    const protocol = str(values, 'protocol') ?? 'TCP';
    const scope = namespaceParam(kind, values);
    const o = await (await ctx.api()).request<AnyObject>('get', { kind: kind.kind, name: names[0], ...scope });
    const sel = str(values, 'selector');
    const selector = sel ? Object.fromEntries(sel.split(',').map((kv) => kv.split('=') as [string, string])) : selectorFor(o);
    if (Object.keys(selector).length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `couldn't retrieve selectors via --selector flag or introspection: ${kind.singular} ${names[0]} has none`);
    const target = str(values, 'target-port');
    const portFlag = str(values, 'port');
    const given = portFlag !== undefined ? [{ port: Number(portFlag) }] : declaredPorts(o);
    if (given.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', "couldn't find port via --port flag or introspection (process pods often get their port at start: give --port)");
    if (given.some((p) => !Number.isInteger(p.port) || p.port < 1 || p.port > 65535)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--port: must be a port number 1-65535, got "${portFlag}"`);
    const ports = given.map((p, i) => ({
      ...(given.length > 1 ? { name: p.name ?? `port-${i + 1}` } : {}),
      port: p.port,
      protocol: p.protocol ?? protocol,
      targetPort: target === undefined ? p.port : /^\d+$/.test(target) ? Number(target) : target,
    }));
    const svc: KObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: str(values, 'name') ?? names[0], namespace: o.metadata.namespace, ...(o.metadata.labels ? { labels: { ...o.metadata.labels } } : {}) },
      spec: { type, selector, ports },
    };
    return sendObject(ctx, values, svc, 'exposed');
  },
};
