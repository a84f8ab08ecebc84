/** `skiff describe KIND NAME...`: kubectl-like detail of objects with their events. */
import { SkiffError, type AnyObject, type KObject, type Pod } from '../../protocol/index.js';
import { namespaceOption, type Command } from '../args.js';
import { describeNode } from '../describe/node.js';
import { describePod } from '../describe/pod.js';
import { describeSecret } from '../describe/secret.js';
import { describeService } from '../describe/service.js';
import { describeClaim, describeVolume } from '../describe/storage.js';
import { describeDeployment, describeReplicaSet, describeStatefulSet } from '../describe/workloads.js';
import { DescribeWriter, eventsTable, formatTime, type AnyEvent } from '../describe/writer.js';
import { toYaml } from '../format/output.js';
import { namespaceParam, parseTarget } from '../target.js';
import type { Api } from '../types.js';

/** What the master answers to describe. */
interface DescribeResult {
  object: AnyObject;
  events?: AnyEvent[];
  /** Optional extras some kinds carry: a service's endpoints, a node's pods. */
  endpoints?: unknown[];
  pods?: Pod[];
}

/** The describe verb. */
export const describe: Command = {
  summary: 'show the details of objects and their recent events',
  usage: `Usage:
  skiff describe KIND NAME... [-n NS]

Examples:
  skiff describe pod web-7d9c-x2x1
  skiff describe node pi-1
  skiff describe deployment/web

Flags:
  -n, --namespace NS       the namespace (default "default")
`,
  options: { ...namespaceOption },
  async run(ctx, values, positionals) {
    const { kind, names } = parseTarget('describe', positionals);
    if (names.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff describe: a ${kind.singular} name is required, e.g. "skiff describe ${kind.singular} NAME"`);
    const api = await ctx.api();
    let failed = false;
    for (const [i, name] of names.entries()) {
      try {
        const res = await api.request<DescribeResult>('describe', { kind: kind.kind, name, ...namespaceParam(kind, values) });
        if (i > 0) ctx.io.stdout('\n\n');
        ctx.io.stdout(await render(api, res, ctx.now()));
      } catch (err) {
        if (!(err instanceof SkiffError)) throw err;
        ctx.io.stderr(`error: ${err.message}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  },
};

/** Lays one object out by its kind; kinds without a layout get a YAML-ish dump. */
async function render(api: Api, res: DescribeResult, now: number): Promise<string> {
  const o = res.object;
  const w = new DescribeWriter();
  switch (o.kind) {
    case 'Pod':
      describePod(w, o);
      break;
    case 'Deployment':
      describeDeployment(w, o);
      break;
    case 'ReplicaSet':
      describeReplicaSet(w, o);
      break;
    case 'StatefulSet':
      describeStatefulSet(w, o);
      break;
    case 'PersistentVolumeClaim':
      describeClaim(w, o, await podsUsing(api, o));
      break;
    case 'PersistentVolume':
      describeVolume(w, o);
      break;
    case 'Service':
      describeService(w, o, res.endpoints?.map(endpointText));
      break;
    case 'Node':
      describeNode(w, o, res.pods ?? (await podsOn(api, o.metadata.name)), now);
      break;
    case 'Secret':
      // Sizes, never values (kubectl prints `password:  12 bytes`), whatever access this token has.
      describeSecret(w, o);
      break;
    default:
      generic(w, o);
  }
  return eventsTable(w, res.events, now).render();
}

/** The pods bound to a node; undefined when the master would not list them (the section is left out). */
async function podsOn(api: Api, node: string): Promise<Pod[] | undefined> {
  try {
    const list = await api.request<{ items?: Pod[] }>('list', { kind: 'Pod', allNamespaces: true });
    return (list?.items ?? []).filter((p) => p.spec?.nodeName === node);
  } catch {
    return undefined;
  }
}

function endpointText(e: unknown): string {
  if (typeof e === 'string') return e;
  const o = (e ?? {}) as { address?: string; ports?: Record<string, number> };
  const ports = Object.values(o.ports ?? {});
  return ports.length ? ports.map((p) => `${o.address}:${p}`).join(',') : String(o.address ?? '?');
}

/** Name, Namespace, Labels, Annotations, then the rest of the object as indented YAML. */
function generic(w: DescribeWriter, o: KObject): void {
  w.field(0, 'Name', o.metadata.name);
  if (o.metadata.namespace) w.field(0, 'Namespace', o.metadata.namespace);
  w.map(0, 'Labels', o.metadata.labels).map(0, 'Annotations', o.metadata.annotations);
  w.field(0, 'API Version', o.apiVersion).field(0, 'Kind', o.kind);
  w.field(0, 'CreationTimestamp', formatTime(o.metadata.creationTimestamp));
  const { apiVersion: _a, kind: _k, metadata: _m, ...rest } = o;
  for (const [k, v] of Object.entries(rest)) {
    if (v === undefined) continue;
    const key = k.charAt(0).toUpperCase() + k.slice(1);
    if (v === null || typeof v !== 'object') w.field(0, key, String(v));
    else {
      w.section(0, key);
      w.text(1, toYaml(v).trimEnd().split('\n').join('\n  '));
    }
  }
}

/** The pods of a claim's namespace whose volumes name it (kubectl's "Used By"). */
async function podsUsing(api: Api, claim: KObject): Promise<string[]> {
  const { items } = await api.request<{ items: Pod[] }>('list', { kind: 'Pod', namespace: claim.metadata.namespace });
  return items.filter((p) => (p.spec?.volumes ?? []).some((v) => v.persistentVolumeClaim?.claimName === claim.metadata.name)).map((p) => p.metadata.name);
}
