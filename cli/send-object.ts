/**
 * Sending one object that a verb built (create, run, expose): `--dry-run=client` prints it without
 * sending anything, `--dry-run=server` has the master validate, default and admit it, otherwise it is
 * created (an existing object of that name is an error, as kubectl create). Then `-o` prints the object,
 * or one line says what happened: `deployment.apps/web created`.
 */
import { SkiffError, type ApplyResult, type KObject } from '../protocol/index.js';
import { str, type Values } from './args.js';
import { dryRunOf, dryRunSuffix } from './commands/apply.js';
import { resourceName } from './format/output.js';
import { ObjectPrinter, parseOutput } from './format/printer.js';
import type { CommandContext } from './types.js';

/** Creates (or dry-runs) `obj`; prints it with -o, else `kind/name VERB`. */
export async function sendObject(ctx: CommandContext, values: Values, obj: KObject, verb = 'created'): Promise<number> {
  const dryRun = dryRunOf(values);
  const output = str(values, 'output');
  const spec = output !== undefined ? parseOutput(output) : undefined;
  let result = obj;
  if (dryRun !== 'client') {
    const api = await ctx.api();
    const res = await api.request<{ results: ApplyResult[] }>('apply', { objects: [obj], create: true, echo: true, ...(dryRun === 'server' ? { dryRun: true } : {}) });
    const r = res.results[0];
    if (!r || r.error) throw new SkiffError(r?.error?.code ?? 'SKIFF_ERR_INTERNAL', failedTo(obj, r?.error?.message ?? 'no answer'));
    result = r.object ?? obj;
  }
  if (spec) new ObjectPrinter((s) => ctx.io.stdout(s), spec, result.kind).printAll([result], false, ctx.now());
  else ctx.io.stdout(`${resourceName(result)} ${verb}${dryRunSuffix(dryRun)}\n`);
  return 0;
}

/** kubectl's words: `failed to create configmap: configmaps "x" already exists`. */
function failedTo(obj: KObject, m: string): string {
  return `failed to create ${obj.kind.toLowerCase()}: ${m}`;
}
