/** `skiff cluster-info`, as kubectl cluster-info: where the control plane answers, and what runs there. */
import { isReady, type Node } from '../../protocol/index.js';
import type { Command } from '../args.js';

/** The cluster-info verb. */
export const clusterInfo: Command = {
  summary: 'show where the master runs and how many nodes are Ready',
  usage: `Usage:
  skiff cluster-info
`,
  options: {},
  async run(ctx) {
    const conn = ctx.connection();
    const api = await ctx.api();
    const v = await api.request<{ version?: string }>('version');
    const nodes = (await api.request<{ items?: Node[] }>('list', { kind: 'Node' })).items ?? [];
    ctx.io.stdout(
      `Skiff master is running at ${conn.server} (version ${v?.version ?? 'unknown'})\n` +
        `Nodes: ${nodes.length} (${nodes.filter((n) => isReady(n)).length} Ready)\n` +
        `\nTo further debug and diagnose cluster problems, use 'skiff get nodes -o wide' and 'skiff describe node NAME'.\n`,
    );
    return 0;
  },
};
