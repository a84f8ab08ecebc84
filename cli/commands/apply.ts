/** `skiff apply -f FILE|DIR|- [-n NS]`: sends manifests, prints `deployment.apps/web created` per object. */
import { SkiffError, type ApplyResult } from '../../protocol/index.js';
import { namespaceOption, str, strs, type Command } from '../args.js';
import { resourceType } from '../format/output.js';
import { readManifests } from '../manifests.js';

/** The apply verb. */
export const apply: Command = {
  summary: 'create or update objects from manifests (YAML or JSON)',
  usage: `Usage:
  skiff apply -f FILE|DIR|- [-f ...] [-n NS]

Examples:
  skiff apply -f examples/hello.yaml
  skiff apply -f manifests/
  cat app.json | skiff apply -f -

Flags:
  -f, --filename PATH      a file, a directory (its *.yaml, *.yml, *.json) or - for stdin; repeatable
  -n, --namespace NS       namespace for objects that name none (default "default")
`,
  options: { ...namespaceOption, filename: { type: 'string', short: 'f', multiple: true } },
  async run(ctx, values, positionals) {
    if (positionals.length > 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff apply: unexpected argument "${positionals[0]}" (manifests are given with -f)`);
    // Parse everything locally first: a typo in the third file must not leave the first two applied.
    const sources = await readManifests(strs(values, 'filename'), ctx.io);
    const namespace = str(values, 'namespace');
    const api = await ctx.api();
    let failed = false;
    for (const s of sources) {
      let results: ApplyResult[];
      try {
        results = applyResults(await api.request('apply', { manifest: s.text, ...(namespace ? { namespace } : {}) }));
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
        } else ctx.io.stdout(`${resourceType(r.kind)}/${r.name} ${r.action}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};

/** The master answers an array of ApplyResult, or `{results}` / `{items}` wrapping one. */
function applyResults(v: unknown): ApplyResult[] {
  if (Array.isArray(v)) return v as ApplyResult[];
  const o = (v ?? {}) as { results?: ApplyResult[]; items?: ApplyResult[] };
  return o.results ?? o.items ?? [];
}
