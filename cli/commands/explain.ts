/**
 * `skiff explain KIND[.FIELD...] [--recursive]`, as kubectl explain: the kind's or field's type and
 * description, and its fields. Read from protocol/explain — the descriptions validation is held to
 * (test/unit/explain.test.ts), so what explain says is what apply checks. Needs no connection.
 */
import { SkiffError, fieldAt, kindDoc, kindOf, type FieldDoc, type KindInfo } from '../../protocol/index.js';
import type { Command } from '../args.js';

/** Wraps text at `width`, each line indented. */
function wrap(text: string, indent: string, width = 80): string {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (cur && indent.length + cur.length + 1 + word.length > width) {
      lines.push(indent + cur);
      cur = word;
    } else cur = cur ? `${cur} ${word}` : word;
  }
  if (cur) lines.push(indent + cur);
  return lines.join('\n') + '\n';
}

function header(kind: KindInfo): string {
  const [group, version] = kind.apiVersion.includes('/') ? kind.apiVersion.split('/') : ['', kind.apiVersion];
  return `${group ? `GROUP:      ${group}\n` : ''}KIND:       ${kind.kind}\nVERSION:    ${version}\n\n`;
}

const typeOf = (f: FieldDoc) => `<${f.type}>${f.required ? ' -required-' : ''}`;

/** The FIELDS section: each field with its type and description, or (recursive) the tree of names and types. */
function fieldList(fields: Record<string, FieldDoc>, recursive: boolean, depth = 1): string {
  const pad = '  '.repeat(depth);
  return Object.entries(fields)
    .map(([name, f]) => (recursive ? `${pad}${name}\t${typeOf(f)}\n${f.fields ? fieldList(f.fields, true, depth + 1) : ''}` : `${pad}${name}\t${typeOf(f)}\n${wrap(f.description, pad + '  ')}\n`))
    .join('');
}

/** Renders explain's output for `kind` and a field path within it. */
export function explainText(kind: KindInfo, path: string[], recursive: boolean): string {
  const doc = kindDoc(kind.kind);
  if (!doc) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `no documentation for ${kind.kind}`);
  if (path.length === 0) return `${header(kind)}DESCRIPTION:\n${wrap(doc.description, '    ')}    \nFIELDS:\n${fieldList(doc.fields, recursive)}`;
  const f = fieldAt(kind, path)!;
  const fields = f.fields ? `FIELDS:\n${fieldList(f.fields, recursive)}` : '';
  return `${header(kind)}FIELD: ${path[path.length - 1]} ${typeOf(f)}\n\nDESCRIPTION:\n${wrap(f.description, '    ')}    \n${fields}`;
}

/** The explain verb. */
export const explain: Command = {
  summary: 'describe the fields of a kind (from the descriptions validation is held to)',
  usage: `Usage:
  skiff explain KIND[.FIELD...] [--recursive]

Examples:
  skiff explain pods
  skiff explain deployment.spec.strategy
  skiff explain pod.spec.containers.ports.containerPort
  skiff explain cronjob --recursive

Flags:
  --recursive              print the fields of the fields, as a tree
`,
  options: { recursive: { type: 'boolean' } },
  async run(ctx, values, positionals) {
    if (positionals.length !== 1) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'skiff explain: one KIND[.FIELD...] is required, e.g. "skiff explain deployment.spec"');
    const [first, ...path] = positionals[0].split('.');
    // `deployment.apps.spec`: a group after the kind is part of its name.
    const group = path[0] && /^(apps|batch|autoscaling|core)$/.test(path[0]) ? path.shift() : undefined;
    const kind = kindOf(group ? `${first}.${group}` : first);
    ctx.io.stdout(explainText(kind, path, values.recursive === true));
    return 0;
  },
};
