/** `skiff delete KIND NAME... | KIND --all | -f FILE [--cascade=background|orphan]`. */
import { isObject, kindOf, SkiffError, type KObject } from '../../protocol/index.js';
import { namespaceOption, str, strs, type Command } from '../args.js';
import { resourceType } from '../format/output.js';
import { readManifests } from '../manifests.js';
import { defaultNamespace, namespaceParam, parseTarget } from '../target.js';

const cascades = ['background', 'orphan'];

/** The delete verb (`delete` is a reserved word, hence `del`). */
export const del: Command = {
  summary: 'delete objects by kind and name, or those in manifests',
  usage: `Usage:
  skiff delete KIND NAME... [-n NS] [--cascade=background|orphan]
  skiff delete KIND --all [-n NS]
  skiff delete -f FILE|DIR|-

Examples:
  skiff delete deployment web
  skiff delete pod/web-7d9c-x2x1 pod/web-7d9c-k3j8
  skiff delete -f examples/hello.yaml

Flags:
  -f, --filename PATH      delete the objects a manifest names; repeatable
  -n, --namespace NS       the namespace (default "default")
  --all                    every object of the kind in the namespace
  --cascade MODE           background (default: dependents are deleted too) or orphan (dependents are kept)
`,
  options: { ...namespaceOption, filename: { type: 'string', short: 'f', multiple: true }, all: { type: 'boolean' }, cascade: { type: 'string' } },
  async run(ctx, values, positionals) {
    const cascade = str(values, 'cascade');
    if (cascade !== undefined && !cascades.includes(cascade)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--cascade: must be background or orphan, got "${cascade}"`);
    const targets = strs(values, 'filename').length > 0 ? await fromManifests(ctx.io, strs(values, 'filename'), str(values, 'namespace'), positionals) : undefined;
    const api = await ctx.api();
    let list = targets;
    if (!list) {
      const { kind, names } = parseTarget('delete', positionals);
      const scope = namespaceParam(kind, values);
      if (values.all) {
        if (names.length > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff delete: give names or --all, not both');
        const res = await api.request<{ items?: KObject[] }>('list', { kind: kind.kind, ...scope });
        list = (res?.items ?? []).map((o) => ({ kind: kind.kind, name: o.metadata.name, ...scope }));
      } else {
        if (names.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff delete: a ${kind.singular} name is required (or --all, or -f FILE)`);
        list = names.map((name) => ({ kind: kind.kind, name, ...scope }));
      }
    }
    let failed = false;
    for (const t of list) {
      try {
        await api.request('delete', { ...t, ...(cascade ? { cascade } : {}) });
        ctx.io.stdout(`${resourceType(t.kind)} "${t.name}" deleted\n`);
      } catch (err) {
        if (!(err instanceof SkiffError)) throw err;
        ctx.io.stderr(`error: ${err.message}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  },
};

type Target = { kind: string; name: string; namespace?: string };

async function fromManifests(io: Parameters<typeof readManifests>[1], paths: string[], namespace: string | undefined, positionals: string[]): Promise<Target[]> {
  if (positionals.length > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff delete: give KIND NAME or -f FILE, not both');
  const out: Target[] = [];
  for (const s of await readManifests(paths, io)) {
    for (const d of s.documents) {
      const meta = isObject(d) && isObject(d.metadata) ? d.metadata : {};
      if (!isObject(d) || typeof d.kind !== 'string' || typeof meta.name !== 'string')
        throw new SkiffError('SKIFF_ERR_VALIDATION', `${s.source}: every document needs kind and metadata.name to be deleted`);
      const kind = kindOf(d.kind);
      out.push({ kind: kind.kind, name: meta.name, ...(kind.namespaced ? { namespace: typeof meta.namespace === 'string' ? meta.namespace : (namespace ?? defaultNamespace) } : {}) });
    }
  }
  return out;
}
