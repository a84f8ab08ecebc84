/** `skiff cordon|uncordon|drain NODE`: mark a node (un)schedulable; drain also evicts its pods. */
import { SkiffError } from '../../protocol/index.js';
import type { Command } from '../args.js';

function nodeCommand(verb: 'cordon' | 'uncordon' | 'drain', summary: string, done: string): Command {
  return {
    summary,
    usage: `Usage:\n  skiff ${verb} NODE\n`,
    options: {},
    async run(ctx, _values, positionals) {
      const names = positionals.map((p) => p.replace(/^(nodes?|no)\//, ''));
      if (names.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${verb}: a node name is required, e.g. "skiff ${verb} pi-1"`);
      const api = await ctx.api();
      let failed = false;
      for (const name of names) {
        try {
          const res = await api.request<{ evicted?: string[]; skipped?: string[] }>(verb, { name });
          if (verb === 'drain') {
            for (const s of res.skipped ?? []) ctx.io.stderr(`Warning: ignoring DaemonSet-managed or finished pod: ${s}\n`);
            for (const e of res.evicted ?? []) ctx.io.stdout(`evicting pod ${e}\n`);
          }
          ctx.io.stdout(`node/${name} ${done}\n`);
        } catch (err) {
          if (!(err instanceof SkiffError)) throw err;
          ctx.io.stderr(`error: ${err.message}\n`);
          failed = true;
        }
      }
      return failed ? 1 : 0;
    },
  };
}

/** The cordon verb. */
export const cordon = nodeCommand('cordon', 'mark a node unschedulable', 'cordoned');
/** The uncordon verb. */
export const uncordon = nodeCommand('uncordon', 'mark a node schedulable again', 'uncordoned');
/** The drain verb. */
export const drain = nodeCommand('drain', 'cordon a node and evict its pods (DaemonSet pods stay)', 'drained');
