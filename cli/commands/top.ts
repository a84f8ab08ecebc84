/** `skiff top nodes|pods [-n NS | -A]`: cpu and memory use, like kubectl top. */
import { SkiffError, kindOf } from '../../protocol/index.js';
import { namespaceOption, type Command } from '../args.js';
import { renderTable } from '../format/table.js';

type Row = { name: string; namespace?: string; cpuMilli: number; memoryBytes: number; cpuPercent?: number; memoryPercent?: number };

/** kubectl prints memory in Mi. */
const mi = (b: number) => `${Math.round(b / 2 ** 20)}Mi`;

/** The top verb. */
export const top: Command = {
  summary: 'show cpu and memory use of nodes or pods',
  usage: `Usage:
  skiff top nodes
  skiff top pods [-n NS | -A]
`,
  options: { ...namespaceOption, 'all-namespaces': { type: 'boolean', short: 'A' } },
  async run(ctx, values, positionals) {
    const what = positionals[0] ? kindOf(positionals[0]).kind : undefined;
    if (what !== 'Node' && what !== 'Pod') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff top: expected nodes or pods, got ${positionals[0] ? `"${positionals[0]}"` : 'nothing'}`);
    const api = await ctx.api();
    const all = values['all-namespaces'] === true;
    const { items } = await api.request<{ items: Row[] }>('top', { kind: what, ...(typeof values.namespace === 'string' ? { namespace: values.namespace } : {}), ...(all ? { allNamespaces: true } : {}) });
    if (items.length === 0) {
      ctx.io.stderr(`error: metrics not available yet\n`);
      return 1;
    }
    if (what === 'Node')
      ctx.io.stdout(renderTable(['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)'], items.map((r) => [r.name, `${r.cpuMilli}m`, r.cpuPercent === undefined ? '<unknown>' : `${r.cpuPercent}%`, mi(r.memoryBytes), r.memoryPercent === undefined ? '<unknown>' : `${r.memoryPercent}%`])));
    else
      ctx.io.stdout(renderTable([...(all ? ['NAMESPACE'] : []), 'NAME', 'CPU(cores)', 'MEMORY(bytes)'], items.map((r) => [...(all ? [r.namespace ?? ''] : []), r.name, `${r.cpuMilli}m`, mi(r.memoryBytes)])));
    return 0;
  },
};
