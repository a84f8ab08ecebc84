/**
 * `skiff cordon|uncordon|drain NODE`: mark a node (un)schedulable; drain also evicts its pods and, as
 * kubectl drain does, waits until they are gone from the node (`pod/x evicted`), with progress
 * (cli/progress.ts) and `--timeout`.
 */
import { SkiffError, parseDuration, type Pod } from '../../protocol/index.js';
import { str, type Command, type Values } from '../args.js';
import { Progress } from '../progress.js';
import type { Api, CommandContext } from '../types.js';

/** How often drain checks whether the evicted pods are gone. */
const pollMs = 500;

function nodeCommand(verb: 'cordon' | 'uncordon' | 'drain', summary: string, done: string, usage: string, options: Command['options'] = {}): Command {
  return {
    summary,
    usage,
    options,
    async run(ctx, values, positionals) {
      const names = positionals.map((p) => p.replace(/^(nodes?|no)\//, ''));
      if (names.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff ${verb}: a node name is required, e.g. "skiff ${verb} pi-1"`);
      const timeoutMs = verb === 'drain' ? timeoutOf(values) : 0;
      const api = await ctx.api();
      let failed = false;
      for (const name of names) {
        try {
          const res = await api.request<{ evicted?: string[]; skipped?: string[] }>(verb, { name });
          if (verb === 'drain') await waitDrained(ctx, api, name, res, timeoutMs);
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

function timeoutOf(values: Values): number {
  const s = str(values, 'timeout');
  if (s === undefined) return 0;
  const ms = parseDuration(s);
  if (ms === undefined) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--timeout: must be a duration such as 90s, 5m or 0 (no limit), got "${s}"`);
  return ms;
}

/** True once the pod `ns/name` no longer runs on `node` (deleted, or its replacement is elsewhere). */
async function goneFrom(api: Api, key: string, node: string): Promise<boolean> {
  const [namespace, name] = key.split('/');
  try {
    const p = await api.request<Pod>('get', { kind: 'Pod', namespace, name });
    return p.spec?.nodeName !== node;
  } catch (err) {
    if (err instanceof SkiffError && err.code === 'SKIFF_ERR_NOT_FOUND') return true;
    throw err;
  }
}

/** kubectl drain's output: `evicting pod ns/x` for each, then `pod/x evicted` as each is gone. */
async function waitDrained(ctx: CommandContext, api: Api, node: string, res: { evicted?: string[]; skipped?: string[] }, timeoutMs: number): Promise<void> {
  for (const s of res.skipped ?? []) ctx.io.stderr(`Warning: ignoring DaemonSet-managed or finished pod: ${s}\n`);
  const progress = new Progress(ctx.io);
  const waiting = new Set(res.evicted ?? []);
  for (const e of waiting) progress.note(`evicting pod ${e}`);
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  try {
    while (waiting.size > 0) {
      for (const key of [...waiting])
        if (await goneFrom(api, key, node)) {
          waiting.delete(key);
          progress.note(`pod/${key.split('/')[1]} evicted`);
        }
      if (waiting.size === 0) break;
      progress.update(`waiting for ${waiting.size} pod(s) to terminate: ${[...waiting].slice(0, 3).join(', ')}${waiting.size > 3 ? ', ...' : ''}`);
      if (ctx.io.signal?.aborted) throw new SkiffError('SKIFF_ERR_TIMEOUT', `drain of node ${node} interrupted; ${waiting.size} pod(s) still terminating`);
      if (Date.now() > deadline) throw new SkiffError('SKIFF_ERR_TIMEOUT', `drain did not complete within ${timeoutMs / 1000}s: ${waiting.size} pod(s) still on node ${node} (${[...waiting].join(', ')})`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    progress.stop();
  }
}

/** The cordon verb. */
export const cordon = nodeCommand('cordon', 'mark a node unschedulable', 'cordoned', 'Usage:\n  skiff cordon NODE\n');
/** The uncordon verb. */
export const uncordon = nodeCommand('uncordon', 'mark a node schedulable again', 'uncordoned', 'Usage:\n  skiff uncordon NODE\n');
/** The drain verb. */
export const drain = nodeCommand(
  'drain',
  'cordon a node, evict its pods (DaemonSet pods stay) and wait until they are gone',
  'drained',
  `Usage:
  skiff drain NODE [--timeout DUR]

Flags:
  --timeout DUR   give up waiting for the evicted pods after this long, e.g. 2m (default 0: wait until they are gone)
`,
  { timeout: { type: 'string' } },
);
