/** `skiff get KIND [NAME...] [-n NS | -A] [-l SELECTOR] [-o wide|yaml|json|name] [-w]`. */
import { SkiffError, type ApiResponse, type KindInfo, type KObject } from '../../protocol/index.js';
import { namespaceOption, str, type Command } from '../args.js';
import { columnsFor } from '../format/columns.js';
import { asList, resourceName, toJson, toYaml, withTypeMeta } from '../format/output.js';
import { Table } from '../format/table.js';
import { namespaceParam, parseTarget } from '../target.js';
import type { Api, CommandContext } from '../types.js';

const outputs = ['', 'wide', 'json', 'yaml', 'name'] as const;
type Output = (typeof outputs)[number];

/** The get verb. */
export const get: Command = {
  summary: 'list objects or show some by name',
  usage: `Usage:
  skiff get KIND [NAME...] [-n NS | -A] [-l SELECTOR] [-o wide|yaml|json|name] [-w]

Examples:
  skiff get pods -o wide
  skiff get deployment web -o yaml
  skiff get pods -A -l app=web
  skiff get pods -w

Flags:
  -n, --namespace NS       the namespace (default "default")
  -A, --all-namespaces     list across every namespace
  -l, --selector SELECTOR  label selector, e.g. app=web,tier!=db
  -o, --output FORMAT      wide, yaml, json or name
  -w, --watch              after listing, print changes as they happen (Ctrl-C ends)
`,
  options: {
    ...namespaceOption,
    'all-namespaces': { type: 'boolean', short: 'A' },
    selector: { type: 'string', short: 'l' },
    output: { type: 'string', short: 'o' },
    watch: { type: 'boolean', short: 'w' },
  },
  async run(ctx, values, positionals) {
    const several = positionals[0]?.includes(',') && !positionals[0].includes('/') ? positionals[0].split(',') : undefined;
    if (several) return getSeveral(ctx, values, several, positionals.slice(1));
    const { kind, names } = parseTarget('get', positionals);
    const output = (str(values, 'output') ?? '') as Output;
    if (!outputs.includes(output)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--output: must be one of wide, yaml, json, name; got "${output}"`);
    const all = values['all-namespaces'] === true && kind.namespaced;
    if (values['all-namespaces'] && str(values, 'namespace')) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff get: use either --namespace or --all-namespaces, not both');
    const scope: { namespace?: string; allNamespaces?: boolean } = all ? { allNamespaces: true } : namespaceParam(kind, values);
    const selector = str(values, 'selector');
    const api = await ctx.api();
    const printer = new Printer(ctx, kind, output, all);

    let failed = false;
    let objects: KObject[];
    if (names.length > 0) {
      if (all) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff get: a name cannot be combined with --all-namespaces');
      objects = [];
      for (const name of names) {
        try {
          objects.push(await api.request<KObject>('get', { kind: kind.kind, name, ...scope }));
        } catch (err) {
          if (!(err instanceof SkiffError)) throw err;
          ctx.io.stderr(`error: ${err.message}\n`);
          failed = true;
        }
      }
      printer.printAll(objects, names.length > 1);
    } else {
      const list = await api.request<{ items?: KObject[] }>('list', { kind: kind.kind, ...scope, ...(selector ? { labelSelector: selector } : {}) });
      objects = list?.items ?? [];
      if (objects.length === 0 && (output === '' || output === 'wide' || output === 'name') && !values.watch) ctx.io.stderr(noResources(kind, scope));
      printer.printAll(objects, true);
    }
    if (values.watch) await watch(api, ctx, kind, { ...scope, ...(selector ? { labelSelector: selector } : {}) }, names, objects, printer);
    return failed ? 1 : 0;
  },
};

/**
 * `skiff get deploy,svc`: one table per kind, a blank line between (as kubectl), or one List for
 * -o json|yaml. Names and --watch need a single kind.
 */
async function getSeveral(ctx: CommandContext, values: Parameters<Command['run']>[1], kinds: string[], names: string[]): Promise<number> {
  if (names.length > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff get: names need a single kind (e.g. "skiff get deploy web")');
  if (values.watch) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff get: --watch needs a single kind');
  const infos = kinds.map((k) => parseTarget('get', [k]).kind);
  const output = str(values, 'output') ?? '';
  if (output === 'json' || output === 'yaml') {
    const api = await ctx.api();
    const items: KObject[] = [];
    for (const kind of infos) {
      const all = values['all-namespaces'] === true && kind.namespaced;
      const scope = all ? { allNamespaces: true } : namespaceParam(kind, values);
      const selector = str(values, 'selector');
      const list = await api.request<{ items?: KObject[] }>('list', { kind: kind.kind, ...scope, ...(selector ? { labelSelector: selector } : {}) });
      items.push(...(list?.items ?? []).map((o) => withTypeMeta(o, kind.kind)));
    }
    ctx.io.stdout(output === 'json' ? toJson(asList(items)) : toYaml(asList(items)));
    return 0;
  }
  let code = 0;
  for (const [i, kind] of infos.entries()) {
    if (i > 0) ctx.io.stdout('\n');
    code = Math.max(code, await get.run(ctx, values, [kind.plural]));
  }
  return code;
}

function noResources(kind: KindInfo, scope: { namespace?: string }): string {
  return kind.namespaced && scope.namespace ? `No resources found in ${scope.namespace} namespace.\n` : 'No resources found\n';
}

/** Streams watch events as rows until the master ends the stream or Ctrl-C. */
async function watch(api: Api, ctx: CommandContext, kind: KindInfo, params: Record<string, unknown>, names: string[], seen: KObject[], printer: Printer): Promise<void> {
  // A watch may start by replaying current objects as ADDED; skip the versions the list already showed.
  const shown = new Map(seen.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o.metadata.resourceVersion]));
  await api.stream(
    'watch',
    { kind: kind.kind, ...params },
    (res: ApiResponse) => {
      const o = res.event?.object;
      if (!o?.metadata) return;
      if (names.length > 0 && !names.includes(o.metadata.name)) return;
      const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      if (res.event!.type === 'ADDED' && o.metadata.resourceVersion !== undefined && shown.get(key) === o.metadata.resourceVersion) return;
      shown.delete(key);
      printer.printOne(o);
    },
    ctx.io.signal,
  );
}

/** Prints objects in the chosen output; tables keep their widths across watch rows. */
class Printer {
  private table?: Table;
  private readonly columns;

  constructor(
    private readonly ctx: CommandContext,
    private readonly kind: KindInfo,
    private readonly output: Output,
    withNamespace: boolean,
  ) {
    this.columns = columnsFor(kind.kind, { wide: output === 'wide', withNamespace });
  }

  /** Prints a result set; `asList` wraps json/yaml in a List even for one item. */
  printAll(objects: KObject[], asAList: boolean): void {
    const items = objects.map((o) => withTypeMeta(o, this.kind.kind));
    if (this.output === 'json' || this.output === 'yaml') {
      if (items.length === 0 && !asAList) return;
      const v = asAList ? asList(items) : items[0];
      this.ctx.io.stdout(this.output === 'json' ? toJson(v) : toYaml(v));
    } else this.rows(items);
  }

  /** Prints one object as it changes (a watch event). */
  printOne(o: KObject): void {
    const item = withTypeMeta(o, this.kind.kind);
    if (this.output === 'json') this.ctx.io.stdout(toJson(item));
    else if (this.output === 'yaml') this.ctx.io.stdout('---\n' + toYaml(item));
    else this.rows([item]);
  }

  private rows(items: KObject[]): void {
    if (this.output === 'name') {
      for (const o of items) this.ctx.io.stdout(resourceName(o) + '\n');
      return;
    }
    if (items.length === 0) return;
    const first = !this.table;
    this.table ??= new Table(this.columns.headers);
    const now = this.ctx.now();
    this.ctx.io.stdout(this.table.render(items.map((o) => this.columns.row(o, now)), first));
  }
}
