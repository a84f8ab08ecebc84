/**
 * `skiff taint nodes NAME|--all|-l SEL KEY[=VALUE]:EFFECT... KEY[:EFFECT]-...`, as kubectl taint: adds
 * taints (a key and effect that exist need --overwrite to change their value), removes them by key and
 * effect, or by key with every effect. Sent as a merge patch of spec.taints with the resourceVersion read
 * as precondition.
 */
import { SkiffError, asKind, type KObject, type Node, type Taint } from '../../protocol/index.js';
import type { Command } from '../args.js';
import { resourceName } from '../format/output.js';
import { patchWithRetry, targetObjects } from '../objects.js';
import { dryRunOf, dryRunSuffix } from './apply.js';

const effects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

/** What one invocation asks: taints to add, and key[:effect] to remove. */
export interface TaintChanges {
  add: Taint[];
  remove: { key: string; effect?: string }[];
}

/** Parses the taint arguments (kubectl's rule: every argument with ":" or "=" or a trailing "-" is a taint). */
export function splitTaints(args: string[]): { resources: string[]; changes: TaintChanges } {
  const resources: string[] = [];
  const add: Taint[] = [];
  const remove: TaintChanges['remove'] = [];
  for (const a of args) {
    const isTaint = a.includes(':') || a.includes('=') || a.endsWith('-');
    if (!isTaint && (add.length || remove.length)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'all resources must be specified before taint changes');
    if (a.endsWith('-')) {
      const [key, effect] = a.slice(0, -1).split(':');
      if (effect !== undefined && !(effects as readonly string[]).includes(effect)) throw badSpec(a);
      remove.push({ key, ...(effect ? { effect } : {}) });
    } else if (isTaint) {
      const m = /^([^=:]+)(?:=([^:]*))?:(.+)$/.exec(a);
      if (!m || !(effects as readonly string[]).includes(m[3])) throw badSpec(a);
      add.push({ key: m[1], ...(m[2] ? { value: m[2] } : {}), effect: m[3] as Taint['effect'] });
    } else resources.push(a);
  }
  if (add.length === 0 && remove.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'at least one taint update is required');
  return { resources, changes: { add, remove } };
}

function badSpec(a: string): SkiffError {
  return new SkiffError('SKIFF_ERR_BAD_REQUEST', `invalid taint spec: ${a}, the effect must be one of ${effects.join(', ')}, e.g. dedicated=gpu:NoSchedule`);
}

/** The new taints of a node and what happened (tainted, untainted, modified), or undefined when nothing changes. */
export function applyTaints(node: Node, c: TaintChanges, overwrite: boolean): { taints: Taint[]; action: string } | undefined {
  const cur: Taint[] = node.spec?.taints ?? [];
  let taints = [...cur];
  let modified = false;
  for (const r of c.remove) {
    const left = taints.filter((t) => !(t.key === r.key && (r.effect === undefined || t.effect === r.effect)));
    if (left.length === taints.length) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `taint "${r.key}${r.effect ? ':' + r.effect : ''}" not found`);
    taints = left;
  }
  for (const t of c.add) {
    const i = taints.findIndex((x) => x.key === t.key && x.effect === t.effect);
    if (i >= 0 && (taints[i].value ?? '') === (t.value ?? '')) continue;
    if (i >= 0 && !overwrite) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `node ${node.metadata.name} already has ${t.key} taint(s) with same effect(s) and --overwrite is false`);
    if (i >= 0) {
      taints[i] = t;
      modified = true;
    } else taints.push(t);
  }
  if (JSON.stringify(taints) === JSON.stringify(cur)) return undefined;
  const action = modified ? 'modified' : c.add.length === 0 ? 'untainted' : 'tainted';
  return { taints, action };
}

/** The taint verb. */
export const taint: Command = {
  summary: "set or remove a node's taints",
  usage: `Usage:
  skiff taint nodes NAME... | nodes --all | nodes -l SELECTOR  KEY[=VALUE]:EFFECT... KEY[:EFFECT]-...

Examples:
  skiff taint nodes pi-3 dedicated=camera:NoSchedule
  skiff taint nodes pi-3 dedicated:NoSchedule-       (remove that taint)
  skiff taint nodes pi-3 dedicated-                  (remove every taint with that key)

EFFECT is NoSchedule, PreferNoSchedule or NoExecute.

Flags:
  --overwrite              change the value of a taint that exists with the same key and effect
  --all                    every node
  -l, --selector SELECTOR  the nodes with these labels
  --dry-run MODE           client or server: show the outcome, change nothing
`,
  options: { overwrite: { type: 'boolean' }, all: { type: 'boolean' }, selector: { type: 'string', short: 'l' }, 'dry-run': { type: 'string' } },
  async run(ctx, values, positionals) {
    const { resources, changes } = splitTaints(positionals);
    const dryRun = dryRunOf(values);
    const api = await ctx.api();
    const { kind, objects } = await targetObjects(api, 'taint', resources, values);
    if (kind.kind !== 'Node') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `skiff taint: only nodes have taints, not ${kind.plural}`);
    for (const node of objects) {
      let action = '';
      const compute = (cur: KObject) => {
        const r = applyTaints(asKind(cur, 'Node'), changes, values.overwrite === true);
        action = r?.action ?? '';
        return r && { spec: { taints: r.taints.length ? r.taints : null } };
      };
      const result = dryRun === 'client' ? compute(node) : await patchWithRetry(api, node, compute, { dryRun: dryRun === 'server' });
      ctx.io.stdout(result ? `${resourceName(node)} ${action}${dryRunSuffix(dryRun)}\n` : `${resourceName(node)} not tainted\n`);
    }
    return 0;
  },
};
