/**
 * `skiff get KIND[,KIND...]|all [NAME...] [-n NS | -A] [-l SELECTOR] [--field-selector F] [-o FORMAT]
 * [--sort-by PATH] [--show-labels] [-L KEY] [--no-headers] [-w]`, as kubectl get.
 */
import { SkiffError, findKind, kindOf, type ApiResponse, type KindInfo, type KObject } from '../../protocol/index.js';
import { streamDropped } from '../client.js';
import { namespaceOption, str, strs, type Command, type Values } from '../args.js';
import { asList, toJson, toYaml, withTypeMeta } from '../format/output.js';
import { executeJsonPath } from '../format/jsonpath-eval.js';
import { ObjectPrinter, parseOutput, type OutputSpec, type TableLook } from '../format/printer.js';
import { sortByPath } from '../format/sort.js';
import { namespaceParam, parseTarget } from '../target.js';
import type { Api, CommandContext } from '../types.js';

/** What `get all` lists, in kubectl's order (kinds Skiff does not serve yet are left out). */
export const allKinds = ['Pod', 'Service', 'DaemonSet', 'Deployment', 'ReplicaSet', 'StatefulSet', 'HorizontalPodAutoscaler', 'CronJob', 'Job'];

/** The get verb. */
export const get: Command = {
  summary: 'list objects or show some by name',
  usage: `Usage:
  skiff get KIND[,KIND...]|all [NAME...] [-n NS | -A] [-l SELECTOR] [--field-selector F] [-o FORMAT] [-w]

Examples:
  skiff get pods -o wide
  skiff get all -l app=web
  skiff get deploy,svc
  skiff get pods -o jsonpath='{.items[*].metadata.name}'
  skiff get pods -o custom-columns=NAME:.metadata.name,NODE:.spec.nodeName --sort-by=.spec.nodeName
  skiff get pods --field-selector status.phase=Running,spec.nodeName=pi-1 --show-labels -L app
  skiff get pods -w

Flags:
  -n, --namespace NS        the namespace (default: the context's, else "default")
  -A, --all-namespaces      list across every namespace
  -l, --selector SELECTOR   label selector, e.g. app=web,tier!=db
  --field-selector F        field selector: metadata.name, metadata.namespace; pods also spec.nodeName, status.phase;
                            events involvedObject.name (.kind, .uid, ...), reason, type, source
  -o, --output FORMAT       wide, yaml, json, name, jsonpath=TEMPLATE, jsonpath-file=FILE,
                            custom-columns=HEADER:PATH,..., custom-columns-file=FILE
  --sort-by PATH            sort by a JSONPath, e.g. .metadata.creationTimestamp
  --show-labels             a LABELS column
  -L, --label-columns KEY   a column with the value of label KEY (repeatable, or comma-separated)
  --no-headers              no header line
  --ignore-not-found        a name that does not exist is not an error
  -w, --watch               after listing, print changes as they happen (Ctrl-C ends)
`,
  options: {
    ...namespaceOption,
    'all-namespaces': { type: 'boolean', short: 'A' },
    selector: { type: 'string', short: 'l' },
    'field-selector': { type: 'string' },
    output: { type: 'string', short: 'o' },
    'sort-by': { type: 'string' },
    'show-labels': { type: 'boolean' },
    'label-columns': { type: 'string', short: 'L', multiple: true },
    'no-headers': { type: 'boolean' },
    'ignore-not-found': { type: 'boolean' },
    watch: { type: 'boolean', short: 'w' },
  },
  async run(ctx, values, positionals) {
    if (values['all-namespaces'] && str(values, 'namespace')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff get: use either --namespace or --all-namespaces, not both');
    const spec = parseOutput(str(values, 'output'));
    const first = positionals[0];
    if (first === 'all' || (first?.includes(',') && !first.includes('/'))) return getSeveral(ctx, values, spec, first === 'all' ? allKinds.filter((k) => findKind(k)) : first.split(','), positionals.slice(1));
    const { kind, names } = parseTarget('get', positionals);
    return getOne(ctx, values, spec, kind, names);
  },
};

/** List parameters: scope and selectors. */
function listParams(kind: KindInfo, values: Values): Record<string, unknown> {
  const all = values['all-namespaces'] === true && kind.namespaced;
  const selector = str(values, 'selector');
  const fields = str(values, 'field-selector');
  return { kind: kind.kind, ...(all ? { allNamespaces: true } : namespaceParam(kind, values)), ...(selector ? { labelSelector: selector } : {}), ...(fields ? { fieldSelector: fields } : {}) };
}

function look(kind: KindInfo, values: Values, withKind = false): TableLook {
  return {
    withNamespace: values['all-namespaces'] === true && kind.namespaced,
    showLabels: values['show-labels'] === true,
    labelColumns: strs(values, 'label-columns').flatMap((s) => s.split(',')).filter(Boolean),
    noHeaders: values['no-headers'] === true,
    withKind,
  };
}

async function getOne(ctx: CommandContext, values: Values, spec: OutputSpec, kind: KindInfo, names: string[]): Promise<number> {
  const params = listParams(kind, values);
  if (names.length > 0 && params.allNamespaces) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff get: a name cannot be combined with --all-namespaces');
  const api = await ctx.api();
  const printer = new ObjectPrinter((s) => ctx.io.stdout(s), spec, kind.kind, look(kind, values));
  let failed = false;
  let objects: KObject[] = [];
  let listedAt: string | undefined;
  if (names.length > 0) {
    for (const name of names) {
      try {
        objects.push(await api.request<KObject>('get', { kind: kind.kind, name, namespace: params.namespace }));
      } catch (err) {
        if (!(err instanceof SkiffError)) throw err;
        if (err.code === 'SKIFF_ERR_NOT_FOUND' && values['ignore-not-found']) continue;
        ctx.io.stderr(`error: ${err.message}\n`);
        failed = true;
      }
    }
  } else {
    const list = await api.request<{ items?: KObject[]; metadata?: { resourceVersion?: string } }>('list', params);
    objects = list?.items ?? [];
    listedAt = list?.metadata?.resourceVersion;
    if (objects.length === 0 && (spec.kind === 'table' || spec.kind === 'name' || spec.kind === 'custom-columns') && !values.watch) ctx.io.stderr(noResources(kind, params));
  }
  const sortBy = str(values, 'sort-by');
  if (sortBy) objects = sortByPath(objects, sortBy);
  printer.printAll(objects, names.length !== 1, ctx.now());
  if (values.watch) await watch(api, ctx, params, names, objects, kind.kind === 'Event' ? undefined : listedAt, printer);
  return failed ? 1 : 0;
}

/**
 * `get deploy,svc` and `get all`: one table per kind with `kind/name` names, a blank line between,
 * kinds without objects left out (as kubectl); or one List for json, yaml and jsonpath.
 */
async function getSeveral(ctx: CommandContext, values: Values, spec: OutputSpec, kinds: string[], names: string[]): Promise<number> {
  if (names.length > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff get: names need a single kind (e.g. "skiff get deploy web")');
  if (values.watch) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff get: --watch needs a single kind');
  const infos = kinds.map((k) => kindOf(k));
  const api = await ctx.api();
  const sortBy = str(values, 'sort-by');
  const lists: { kind: KindInfo; items: KObject[] }[] = [];
  for (const kind of infos) {
    const items = (await api.request<{ items?: KObject[] }>('list', listParams(kind, values)))?.items ?? [];
    lists.push({ kind, items: sortBy ? sortByPath(items, sortBy) : items });
  }
  if (spec.kind === 'json' || spec.kind === 'yaml' || spec.kind === 'jsonpath') {
    const all = asList(lists.flatMap((l) => l.items.map((o) => withTypeMeta(o, l.kind.kind))));
    ctx.io.stdout(spec.kind === 'jsonpath' ? executeJsonPath(spec.template, all) : spec.kind === 'json' ? toJson(all) : toYaml(all));
    return 0;
  }
  const shown = lists.filter((l) => l.items.length > 0);
  if (shown.length === 0) ctx.io.stderr(noResources(infos[0], listParams(infos[0], values)));
  shown.forEach((l, i) => {
    if (i > 0 && spec.kind !== 'name') ctx.io.stdout('\n');
    new ObjectPrinter((s) => ctx.io.stdout(s), spec, l.kind.kind, look(l.kind, values, true)).printAll(l.items, true, ctx.now());
  });
  return 0;
}

function noResources(kind: KindInfo, scope: Record<string, unknown>): string {
  return kind.namespaced && typeof scope.namespace === 'string' ? `No resources found in ${scope.namespace} namespace.\n` : 'No resources found\n';
}

/**
 * Streams watch events as rows until the master ends the stream or Ctrl-C. After a list, the watch starts from the
 * list's resourceVersion: every change after what was printed, exactly once. When the master ends it (this terminal
 * fell behind, or the revision is older than the master keeps: SKIFF_ERR_GONE) it lists again, prints what changed
 * meanwhile, and watches from that list (Kubernetes' reflector on 410). Named objects and events (whose list has no
 * store revision) are watched as before: the master replays the current objects as ADDED, and the versions already
 * shown are skipped.
 */
async function watch(api: Api, ctx: CommandContext, params: Record<string, unknown>, names: string[], seen: KObject[], listedAt: string | undefined, printer: ObjectPrinter): Promise<void> {
  const shown = new Map(seen.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion]));
  const print = (o: KObject, type: string) => {
    if (names.length > 0 && !names.includes(o.metadata.name)) return;
    const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (type === 'ADDED' && o.metadata.resourceVersion !== undefined && shown.get(key) === o.metadata.resourceVersion) return;
    shown.set(key, o.metadata.resourceVersion);
    printer.printOne(o, ctx.now());
  };
  let from = names.length > 0 ? undefined : listedAt;
  for (;;) {
    try {
      return await api.stream('watch', from ? { ...params, resourceVersion: from } : params, (res: ApiResponse) => res.event?.object?.metadata && print(res.event.object, res.event.type), ctx.io.signal);
    } catch (err) {
      if (!streamDropped(err) || ctx.io.signal?.aborted) throw err;
    }
    if (from === undefined) continue;
    const list = await api.request<{ items?: KObject[]; metadata?: { resourceVersion?: string } }>('list', params);
    for (const o of list?.items ?? []) print(o, 'ADDED');
    from = list?.metadata?.resourceVersion;
  }
}
