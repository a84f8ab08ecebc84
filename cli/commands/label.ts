/**
 * `skiff label` and `skiff annotate`, as kubectl's: `KEY=VALUE` sets, `KEY-` removes; a key that has
 * another value needs `--overwrite`; objects by name, `--all` or `-l`. Sent as a merge patch with the
 * resourceVersion read as precondition, so the --overwrite check holds against concurrent writers.
 */
import { SkiffError, type KObject } from '../../protocol/index.js';
import { namespaceOption, str, type Command, type Values } from '../args.js';
import { resourceName } from '../format/output.js';
import { ObjectPrinter, parseOutput } from '../format/printer.js';
import { patchWithRetry, targetObjects } from '../objects.js';
import { dryRunOf, dryRunSuffix } from './apply.js';

/** What a label or annotate invocation asks for: keys to set and keys to remove. */
export interface KeyChanges {
  set: Map<string, string>;
  remove: string[];
}

/** Splits arguments into resources and `KEY=VALUE` / `KEY-` changes (kubectl's rule: those with "=" or a trailing "-"). */
export function splitChanges(args: string[], what: string): { resources: string[]; changes: KeyChanges } {
  const set = new Map<string, string>();
  const remove: string[] = [];
  const resources: string[] = [];
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) set.set(a.slice(0, eq), a.slice(eq + 1));
    else if (a.endsWith('-') && a.length > 1) remove.push(a.slice(0, -1));
    else if (eq === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `invalid ${what} spec: ${a}`);
    else resources.push(a);
  }
  for (const k of remove) if (set.has(k)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `can not both modify and remove the ${what} "${k}" in the same command`);
  if (set.size === 0 && remove.length === 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `at least one ${what} update is required`);
  return { resources, changes: { set, remove } };
}

/** The patch of metadata[field], or undefined when nothing changes; refuses a different value without --overwrite. */
export function keyPatch(o: KObject, field: 'labels' | 'annotations', c: KeyChanges, overwrite: boolean, warn: (s: string) => void): Record<string, unknown> | undefined {
  const cur = (o.metadata[field] ?? {}) as Record<string, string>;
  const out: Record<string, string | null> = {};
  for (const [k, v] of c.set) {
    const has = Object.hasOwn(cur, k);
    if (has && cur[k] === v) continue;
    if (has && !overwrite) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `'${k}' already has a value (${cur[k]}), and --overwrite is false`);
    out[k] = v;
  }
  for (const k of c.remove) {
    if (Object.hasOwn(cur, k)) out[k] = null;
    else warn(`${field === 'labels' ? 'label' : 'annotation'} "${k}" not found.\n`);
  }
  return Object.keys(out).length ? { metadata: { [field]: out } } : undefined;
}

function keyVerb(verb: 'label' | 'annotate', field: 'labels' | 'annotations', done: string): Command {
  const what = verb === 'label' ? 'label' : 'annotation';
  return {
    summary: `set or remove ${what}s of objects`,
    usage: `Usage:
  skiff ${verb} [--overwrite] TYPE NAME... | TYPE/NAME... | TYPE --all | TYPE -l SELECTOR  KEY=VALUE... KEY-...

Examples:
  skiff ${verb} pods web-1 tier=front
  skiff ${verb} --overwrite deployment/web tier=back
  skiff ${verb} pods -l app=web tier-

Flags:
  --overwrite              replace a ${what} that already has another value
  --all                    every object of the type in the namespace
  -l, --selector SELECTOR  the objects with these labels
  --resource-version V     only if the object is still at this resourceVersion
  --dry-run MODE           client or server: show the outcome, change nothing
  -o, --output FORMAT      name, json or yaml: print the objects
  -n, --namespace NS       the namespace (default: the context's, else "default")
`,
    options: {
      ...namespaceOption,
      overwrite: { type: 'boolean' },
      all: { type: 'boolean' },
      selector: { type: 'string', short: 'l' },
      'resource-version': { type: 'string' },
      'dry-run': { type: 'string' },
      output: { type: 'string', short: 'o' },
    },
    async run(ctx, values: Values, positionals) {
      const { resources, changes } = splitChanges(positionals, what);
      const dryRun = dryRunOf(values);
      const output = str(values, 'output');
      const api = await ctx.api();
      const { kind, objects } = await targetObjects(api, verb, resources, values);
      for (const o of objects) {
        const compute = (cur: KObject) => keyPatch(cur, field, changes, values.overwrite === true, (s) => ctx.io.stderr(s));
        let result: KObject | undefined;
        if (dryRun === 'client') result = compute(o) ? o : undefined;
        else result = await patchWithRetry(api, o, compute, { dryRun: dryRun === 'server', resourceVersion: str(values, 'resource-version') });
        if (output) new ObjectPrinter((s) => ctx.io.stdout(s), parseOutput(output), kind.kind).printAll([result ?? o], false, ctx.now());
        else {
          const action = !result ? `not ${done}` : changes.set.size === 0 ? `un${done}` : done;
          ctx.io.stdout(`${resourceName(o)} ${action}${result ? dryRunSuffix(dryRun) : ''}\n`);
        }
      }
      return 0;
    },
  };
}

/** The label verb. */
export const label = keyVerb('label', 'labels', 'labeled');
/** The annotate verb. */
export const annotate = keyVerb('annotate', 'annotations', 'annotated');
