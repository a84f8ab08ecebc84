/** `skiff version [--client]`: the client's version, then the master's. */
import type { Command } from '../args.js';
import { clientVersion } from '../version.js';

/** The version verb. */
export const version: Command = {
  summary: 'print the client and master versions',
  usage: `Usage:
  skiff version [--client]

Flags:
  --client                 only the client version (no connection)
`,
  options: { client: { type: 'boolean' } },
  async run(ctx, values) {
    ctx.io.stdout(`Client Version: ${clientVersion()}\n`);
    if (values.client) return 0;
    const api = await ctx.api();
    const v = await api.request<unknown>('version');
    const s = typeof v === 'string' ? v : v && typeof v === 'object' ? String((v as Record<string, unknown>).version ?? (v as Record<string, unknown>).gitVersion ?? JSON.stringify(v)) : String(v);
    ctx.io.stdout(`Server Version: ${s}\n`);
    return 0;
  },
};
