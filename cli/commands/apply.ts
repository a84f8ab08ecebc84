/**
 * `skiff apply -f FILE|DIR|- [-n NS] [-l SELECTOR] [--atomic] [--dry-run=client|server] [--prune (-l SEL | --all)] [-o FORMAT]`,
 * as kubectl apply (`--atomic`: each file in one store transaction, all or none): each object is marked with kubectl's last-applied-configuration annotation (what
 * `--prune` recognises as "applied before"); `-l` applies only the objects it selects; `--dry-run=server`
 * has the master validate, default and admit everything and store nothing; `--prune` then deletes the
 * objects of the applied kinds, in the applied namespaces, that the selector matches, were applied
 * before, and are not in this apply.
 */
import { SkiffError, isObject, kindOf, matchesRequirements, parseSelector, type ApplyResult, type KObject } from '../../protocol/index.js';
import { namespaceOption, str, strs, type Command, type Values } from '../args.js';
import { resourceType } from '../format/output.js';
import { ObjectPrinter, parseOutput } from '../format/printer.js';
import { readManifests } from '../manifests.js';
import { defaultNamespace } from '../target.js';
import type { Api, CommandContext } from '../types.js';

/** kubectl's annotation holding the manifest as last applied (JSON, newline-terminated). */
export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** `--dry-run` values (kubectl's). */
export type DryRun = 'none' | 'client' | 'server';

/** Parses `--dry-run`; kubectl's words when it is not one of them. */
export function dryRunOf(values: Values): DryRun {
  const v = str(values, 'dry-run') ?? 'none';
  if (v !== 'none' && v !== 'client' && v !== 'server') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `Invalid dry-run value (${v}). Must be "none", "server", or "client".`);
  return v;
}

/** ` (dry run)` / ` (server dry run)` after an action, as kubectl prints it. */
export function dryRunSuffix(d: DryRun): string {
  return d === 'client' ? ' (dry run)' : d === 'server' ? ' (server dry run)' : '';
}

/** The apply verb. */
export const apply: Command = {
  summary: 'create or update objects from manifests (YAML or JSON)',
  usage: `Usage:
  skiff apply -f FILE|DIR|- [-f ...] [-n NS] [-l SELECTOR] [--atomic] [--dry-run=client|server] [--prune -l SELECTOR|--all] [-o FORMAT]

Examples:
  skiff apply -f examples/hello.yaml
  skiff apply -f manifests/ --dry-run=server
  skiff apply -f app.yaml --atomic                   (every object of app.yaml is stored, or none)
  skiff apply -f manifests/ --prune -l app=shop      (deletes app=shop objects no longer in manifests/)
  cat app.json | skiff apply -f -

Flags:
  -f, --filename PATH      a file, a directory (its *.yaml, *.yml, *.json) or - for stdin; repeatable
  -n, --namespace NS       namespace for objects that name none (default: the context's, else "default")
  -l, --selector SELECTOR  only the objects with these labels (and, with --prune, what may be pruned)
  --atomic                 each file as one transaction: every object of it is stored or none (the MQTT
                           apply topic always works so)
  --dry-run MODE           client: print what would be sent; server: the master validates, defaults and
                           admits it all and stores nothing; none (default)
  --prune                  delete objects of the applied kinds that match -l, were applied before
                           (kubectl's last-applied annotation) and are not in this apply
  --all                    with --prune: every object of those kinds, without a selector
  -o, --output FORMAT      name, json or yaml: print the objects instead of one line each
`,
  options: {
    ...namespaceOption,
    filename: { type: 'string', short: 'f', multiple: true },
    selector: { type: 'string', short: 'l' },
    'dry-run': { type: 'string' },
    atomic: { type: 'boolean' },
    prune: { type: 'boolean' },
    all: { type: 'boolean' },
    output: { type: 'string', short: 'o' },
  },
  async run(ctx, values, positionals) {
    if (positionals.length > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff apply: unexpected argument "${positionals[0]}" (manifests are given with -f)`);
    const dryRun = dryRunOf(values);
    const selector = str(values, 'selector');
    if (values.prune && !selector && !values.all)
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'all resources selected for prune without explicitly passing --all. To prune all resources, pass the --all flag. If you did not mean to prune all resources, specify a label selector');
    const output = str(values, 'output');
    const spec = output !== undefined ? parseOutput(output) : undefined;
    const reqs = selector ? parseSelector(selector) : [];
    // Parse everything locally first: a typo in the third file must not leave the first two applied.
    const sources = await readManifests(strs(values, 'filename'), ctx.io);
    const namespace = str(values, 'namespace');
    const api = await ctx.api();
    let failed = false;
    const applied: ApplyResult[] = [];
    for (const s of sources) {
      const docs = s.documents.filter((d) => !selector || (isObject(d) && matchesRequirements(reqs, (d as KObject).metadata?.labels))).map(withLastApplied);
      if (docs.length === 0) continue;
      let results: ApplyResult[];
      try {
        results = dryRun === 'client' ? await clientDryRun(api, docs, namespace) : applyResults(await api.request('apply', { objects: docs, ...(namespace ? { namespace } : {}), ...(dryRun === 'server' ? { dryRun: true } : {}), ...(values.atomic ? { atomic: true } : {}), ...(spec ? { echo: true } : {}) }));
      } catch (err) {
        if (!(err instanceof SkiffError)) throw err;
        ctx.io.stderr(`error: ${s.source}: ${err.message}\n`);
        failed = true;
        continue;
      }
      for (const r of results) {
        if (r.action === 'failed' || r.error) {
          failed = true;
          ctx.io.stderr(`error: ${r.error?.message ?? `${r.kind}/${r.name}: failed`}\n`);
          continue;
        }
        // Warnings first, as kubectl prints them (unknown fields, Pod Security `warn` mode).
        for (const w of r.warnings ?? []) ctx.io.stderr(`Warning: ${w}\n`);
        applied.push(r);
        if (spec && r.object) new ObjectPrinter((t) => ctx.io.stdout(t), spec, r.kind).printAll([r.object], false, ctx.now());
        else ctx.io.stdout(`${resourceType(r.kind)}/${r.name} ${r.action}${dryRunSuffix(dryRun)}\n`);
      }
    }
    if (values.prune && !failed) await prune(ctx, api, applied, selector, namespace ?? defaultNamespace, dryRun);
    return failed ? 1 : 0;
  },
};

/** The document with kubectl's last-applied annotation: itself, as JSON, without that annotation. */
export function withLastApplied(doc: unknown): unknown {
  if (!isObject(doc) || !isObject(doc.metadata)) return doc;
  const annotations = { ...(isObject(doc.metadata.annotations) ? doc.metadata.annotations : {}) };
  delete annotations[lastAppliedAnnotation];
  const clean = { ...doc, metadata: { ...doc.metadata, annotations } };
  if (Object.keys(annotations).length === 0) delete (clean.metadata as Record<string, unknown>).annotations;
  return { ...doc, metadata: { ...doc.metadata, annotations: { ...annotations, [lastAppliedAnnotation]: JSON.stringify(clean) + '\n' } } };
}

/** `--dry-run=client`: nothing is sent but reads; created or configured as the object exists or not. */
async function clientDryRun(api: Api, docs: unknown[], namespace: string | undefined): Promise<ApplyResult[]> {
  const out: ApplyResult[] = [];
  for (const d of docs as KObject[]) {
    const kind = kindOf(String(d.kind));
    const ns = kind.namespaced ? (d.metadata?.namespace ?? namespace ?? defaultNamespace) : undefined;
    const exists = await api.request('get', { kind: kind.kind, name: d.metadata?.name, namespace: ns }).then(
      () => true,
      (err) => {
        if (err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND') return false;
        throw err;
      },
    );
    out.push({ kind: kind.kind, name: d.metadata.name, namespace: ns, action: exists ? 'configured' : 'created', object: { ...d, metadata: { ...d.metadata, ...(ns ? { namespace: ns } : {}) } } });
  }
  return out;
}

/** Deletes what was applied before (the annotation), matches the selector, and is not in this apply. */
async function prune(ctx: CommandContext, api: Api, applied: ApplyResult[], selector: string | undefined, namespace: string, dryRun: DryRun): Promise<void> {
  const keep = new Set(applied.map((r) => `${r.kind}/${r.namespace ?? ''}/${r.name}`));
  const scopes = new Map<string, Set<string | undefined>>();
  for (const r of applied) {
    const set = scopes.get(r.kind) ?? new Set();
    set.add(kindOf(r.kind).namespaced ? (r.namespace ?? namespace) : undefined);
    scopes.set(r.kind, set);
  }
  for (const [kind, namespaces] of scopes)
    for (const ns of namespaces) {
      const list = await api.request<{ items?: KObject[] }>('list', { kind, ...(ns ? { namespace: ns } : {}), ...(selector ? { labelSelector: selector } : {}) });
      for (const o of list.items ?? []) {
        if (!o.metadata.annotations?.[lastAppliedAnnotation] || keep.has(`${kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)) continue;
        if (dryRun === 'none') await api.request('delete', { kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) });
        ctx.io.stdout(`${resourceType(kind)}/${o.metadata.name} pruned${dryRunSuffix(dryRun)}\n`);
      }
    }
}

/** The master answers an array of ApplyResult, or `{results}` / `{items}` wrapping one. */
function applyResults(v: unknown): ApplyResult[] {
  if (Array.isArray(v)) return v as ApplyResult[];
  const o = (v ?? {}) as { results?: ApplyResult[]; items?: ApplyResult[] };
  return o.results ?? o.items ?? [];
}
