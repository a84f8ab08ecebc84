/** `skiff version [--client] [-o json|yaml]`: the client's version, then the master's (kubectl's shape). */
import { SkiffError } from '../../protocol/index.js';
import { str, type Command } from '../args.js';
import { toJson, toYaml } from '../format/output.js';
import { clientVersion } from '../version.js';

/** kubectl's version info object. */
function info(gitVersion: string): Record<string, string> {
  const m = /^v?(\d+)\.(\d+)/.exec(gitVersion);
  return { major: m?.[1] ?? '', minor: m?.[2] ?? '', gitVersion, goVersion: '', compiler: '', platform: `${process.platform}/${process.arch}`, nodeVersion: process.version };
}

/** The version verb. */
export const version: Command = {
  summary: 'print the client and master versions',
  usage: `Usage:
  skiff version [--client] [-o json|yaml]

Flags:
  --client                 only the client version (no connection)
  -o, --output FORMAT      json or yaml: {clientVersion, serverVersion}
`,
  options: { client: { type: 'boolean' }, output: { type: 'string', short: 'o' } },
  async run(ctx, values) {
    const output = str(values, 'output');
    if (output !== undefined && output !== 'json' && output !== 'yaml') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--output: must be json or yaml, got "${output}"`);
    const client = clientVersion();
    let server: string | undefined;
    if (!values.client) {
      const api = await ctx.api();
      const v = await api.request<unknown>('version');
      server = typeof v === 'string' ? v : v && typeof v === 'object' ? String((v as Record<string, unknown>).version ?? (v as Record<string, unknown>).gitVersion ?? JSON.stringify(v)) : String(v);
    }
    if (output) {
      const doc = { clientVersion: info(client), ...(server !== undefined ? { serverVersion: info(server) } : {}) };
      ctx.io.stdout(output === 'json' ? toJson(doc) : toYaml(doc));
      return 0;
    }
    ctx.io.stdout(`Client Version: ${client}\n`);
    if (server !== undefined) ctx.io.stdout(`Server Version: ${server}\n`);
    return 0;
  },
};
