/** `skiff scale deployment/NAME --replicas N` (also `deployment NAME`, `rs/NAME`, `sts/NAME`). */
import { SkiffError } from '../../protocol/index.js';
import { intFlag, namespaceOption, type Command } from '../args.js';
import { resourceType } from '../format/output.js';
import { namespaceParam, parseTarget } from '../target.js';

const scalable = ['Deployment', 'ReplicaSet', 'StatefulSet'];

/** The scale verb. */
export const scale: Command = {
  summary: 'set the replica count of a deployment, replica set or stateful set',
  usage: `Usage:
  skiff scale deployment/NAME --replicas N [-n NS]
  skiff scale deployment NAME --replicas N

Flags:
  --replicas N             the new number of replicas (required)
  -n, --namespace NS       the namespace (default "default")
`,
  options: { ...namespaceOption, replicas: { type: 'string' } },
  async run(ctx, values, positionals) {
    const { kind, names } = parseTarget('scale', positionals);
    if (!scalable.includes(kind.kind)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff scale: ${kind.plural} cannot be scaled; only ${scalable.map((k) => k.toLowerCase() + 's').join(', ')}`);
    if (names.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff scale: a ${kind.singular} name is required, e.g. "skiff scale ${kind.singular}/web --replicas 3"`);
    const replicas = intFlag(values, 'replicas');
    if (replicas === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff scale: --replicas is required');
    const api = await ctx.api();
    let failed = false;
    for (const name of names) {
      try {
        await api.request('scale', { kind: kind.kind, name, ...namespaceParam(kind, values), replicas });
        ctx.io.stdout(`${resourceType(kind.kind)}/${name} scaled\n`);
      } catch (err) {
        if (!(err instanceof SkiffError)) throw err;
        ctx.io.stderr(`error: ${err.message}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  },
};
