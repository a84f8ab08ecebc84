/**
 * `skiff api-resources [--namespaced=true|false] [--api-group G] [-o wide|name]`, as kubectl: the kinds
 * this Skiff serves (protocol's kind registry, which master and CLI share), core group first.
 */
import { SkiffError, kinds, type KindInfo } from '../../protocol/index.js';
import { str, type Command } from '../args.js';
import { renderTable } from '../format/table.js';

const groupOf = (k: KindInfo) => (k.apiVersion.includes('/') ? k.apiVersion.split('/')[0] : '');

/** The verbs of every kind, as kubectl's wide output lists them. */
const verbs = '[create delete get list patch update watch]';

/** The api-resources verb. */
export const apiResources: Command = {
  summary: 'list the kinds the master serves',
  usage: `Usage:
  skiff api-resources [--namespaced=true|false] [--api-group GROUP] [-o wide|name] [--no-headers]
`,
  options: { namespaced: { type: 'string' }, 'api-group': { type: 'string' }, output: { type: 'string', short: 'o' }, 'no-headers': { type: 'boolean' } },
  async run(ctx, values) {
    const namespaced = str(values, 'namespaced');
    if (namespaced !== undefined && namespaced !== 'true' && namespaced !== 'false') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--namespaced: must be true or false, got "${namespaced}"`);
    const output = str(values, 'output') ?? '';
    if (!['', 'wide', 'name'].includes(output)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--output: must be wide or name, got "${output}"`);
    const group = str(values, 'api-group');
    const list = (Object.values(kinds) as KindInfo[])
      .filter((k) => (namespaced === undefined || String(k.namespaced) === namespaced) && (group === undefined || groupOf(k) === group))
      .sort((a, b) => groupOf(a).localeCompare(groupOf(b)) || a.plural.localeCompare(b.plural));
    if (output === 'name') {
      ctx.io.stdout(list.map((k) => `${k.plural}${groupOf(k) ? '.' + groupOf(k) : ''}\n`).join(''));
      return 0;
    }
    const headers = ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', ...(output === 'wide' ? ['VERBS'] : [])];
    const rows = list.map((k) => [k.plural, k.short.join(','), k.apiVersion, String(k.namespaced), k.kind, ...(output === 'wide' ? [verbs] : [])]);
    const table = renderTable(headers, rows);
    ctx.io.stdout(values['no-headers'] ? table.slice(table.indexOf('\n') + 1) : table);
    return 0;
  },
};
