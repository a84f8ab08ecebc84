/**
 * `skiff edit TYPE NAME` (or TYPE/NAME), as kubectl edit: the object as YAML in $SKIFF_EDITOR,
 * $KUBE_EDITOR or $EDITOR (vi by default); on save, the change is sent as a JSON merge patch from what
 * was shown to what was saved, validated by the master as an apply. A refusal (or a syntax error)
 * reopens the file with the error as a comment at the top, as kubectl does; saving it unchanged then
 * gives up, keeping a copy of the edit. No change: "Edit cancelled, no changes made."
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SkiffError, createMergePatch, isObject, type KObject } from '../../protocol/index.js';
import { namespaceOption, str, type Command } from '../args.js';
import { resourceName, toJson, toYaml } from '../format/output.js';
import { namespaceParam, parseTarget } from '../target.js';
import type { CommandContext } from '../types.js';

const header = `# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
`;

/** The edit verb. */
export const edit: Command = {
  summary: 'edit an object in your editor; saved changes are validated and applied',
  usage: `Usage:
  skiff edit TYPE NAME | TYPE/NAME [-n NS] [-o yaml|json]

The editor: $SKIFF_EDITOR, else $KUBE_EDITOR, else $EDITOR, else vi. Lines starting with # are ignored;
an empty file cancels. If the master refuses the change, the file reopens with the reason at the top.

Flags:
  -n, --namespace NS       the namespace (default: the context's, else "default")
  -o, --output FORMAT      the format to edit in: yaml (default) or json
`,
  options: { ...namespaceOption, output: { type: 'string', short: 'o' } },
  async run(ctx, values, positionals) {
    const { kind, names } = parseTarget('edit', positionals);
    if (names.length !== 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff edit: exactly one object, e.g. "skiff edit deployment/web"');
    const format = str(values, 'output') ?? 'yaml';
    if (format !== 'yaml' && format !== 'json') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `--output: must be yaml or json, got "${format}"`);
    const scope = namespaceParam(kind, values);
    const api = await ctx.api();
    const live = await api.request<KObject>('get', { kind: kind.kind, name: names[0], ...scope });
    const shown = stripManaged(live);
    const body = format === 'json' ? toJson(shown) : toYaml(shown);
    const dir = mkdtempSync(join(tmpdir(), 'skiff-edit-'));
    const file = join(dir, `${kind.singular}-${names[0]}.${format}`);
    try {
      let text = header + body;
      let lastFailed: string | undefined;
      for (;;) {
        writeFileSync(file, text);
        runEditor(ctx, file);
        const saved = readFileSync(file, 'utf8');
        if (lastFailed !== undefined && stripComments(saved) === stripComments(lastFailed)) {
          const copy = join(tmpdir(), `skiff-edit-${Date.now()}.${format}`);
          writeFileSync(copy, saved);
          ctx.io.stderr(`A copy of your changes has been stored to "${copy}"\n`);
          throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'Edit cancelled, no valid changes were saved.');
        }
        if (stripComments(saved) === stripComments(body)) {
          ctx.io.stderr('Edit cancelled, no changes made.\n');
          return 0;
        }
        if (stripComments(saved).trim() === '') {
          ctx.io.stderr('Edit cancelled, saved file was empty.\n');
          return 0;
        }
        const problem = await save(ctx, saved, shown, kind.kind, names[0], scope);
        if (!problem) {
          ctx.io.stdout(`${resourceName(live)} edited\n`);
          return 0;
        }
        lastFailed = saved;
        text = header + problem.split('\n').map((l) => `# ${l}`.trimEnd() + '\n').join('') + '#\n' + stripComments(saved);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** Sends the change; returns why it was refused (as the comment to show), or undefined when it was saved. */
async function save(ctx: CommandContext, saved: string, shown: KObject, kind: string, name: string, scope: { namespace?: string }): Promise<string | undefined> {
  let edited: unknown;
  try {
    edited = parse(stripComments(saved), { uniqueKeys: true });
  } catch (err) {
    return `The edited file had a syntax error: ${(err as Error).message.split('\n')[0]}`;
  }
  if (!isObject(edited)) return 'The edited file had a syntax error: the object must be a map';
  const patch = createMergePatch(shown, edited);
  if (patch === undefined) return undefined;
  try {
    const api = await ctx.api();
    await api.request('patch', { kind, name, ...scope, patch });
    return undefined;
  } catch (err) {
    if (!(err instanceof SkiffError) || err.code === 'SKIFF_ERR_UNAVAILABLE' || err.code === 'SKIFF_ERR_TIMEOUT' || err.code === 'SKIFF_ERR_UNAUTHORIZED' || err.code === 'SKIFF_ERR_FORBIDDEN') throw err;
    return `${resourceName(shown)} was not valid:\n* ${err.message}`;
  }
}

/** Runs the editor on the file, attached to the terminal; a shell runs it, so `code --wait` works as kubectl allows. */
function runEditor(ctx: CommandContext, file: string): void {
  const env = ctx.io.env;
  const editor = env.SKIFF_EDITOR || env.KUBE_EDITOR || env.EDITOR || 'vi';
  const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'skiff-edit', file], { stdio: 'inherit', env: { ...process.env, ...env } as NodeJS.ProcessEnv });
  if (r.error) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `cannot run the editor "${editor}": ${r.error.message}`);
  if (r.status !== 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `the editor "${editor}" exited with status ${r.status ?? r.signal}; edit cancelled`);
}

/** The text without comment lines (kubectl's StripComments). */
function stripComments(s: string): string {
  return s
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('#'))
    .join('\n');
}

/** The object as edited: without managedFields (kubectl hides them by default). */
function stripManaged(o: KObject): KObject {
  const { managedFields: _m, ...metadata } = o.metadata as KObject['metadata'] & { managedFields?: unknown };
  return { ...o, metadata };
}
