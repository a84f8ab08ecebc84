/**
 * `-o custom-columns=HEADER:PATH,...` and `-o custom-columns-file=FILE` (a line of headers, a line of
 * paths), as kubectl: each PATH is a relaxed JSONPath (`.metadata.name`, `metadata.name` or
 * `{.metadata.name}`); several results join with commas, none prints `<none>`.
 */
import { readFileSync } from 'node:fs';
import { SkiffError, type KObject } from '../../protocol/index.js';
import { evalPath, text } from './jsonpath-eval.js';
import { relaxedPath } from './jsonpath.js';

/** One column: its header and path. */
export interface CustomColumn {
  header: string;
  path: ReturnType<typeof relaxedPath>['path'];
}

/** Parses the inline form `NAME:.metadata.name,NODE:.spec.nodeName`. */
export function parseCustomColumns(spec: string): CustomColumn[] {
  if (spec.trim() === '') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'custom-columns format specified but no custom columns given');
  return splitColumns(spec).map((part) => {
    const colon = part.indexOf(':');
    if (colon <= 0) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`);
    return { header: part.slice(0, colon), path: relaxedPath(part.slice(colon + 1)).path };
  });
}

/** Commas separate columns, except inside brackets and quotes (`[?(@.a=="x,y")]`). */
function splitColumns(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = '';
  let cur = '';
  for (const ch of s) {
    if (quote) quote = ch === quote ? '' : quote;
    else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '(' || ch === '{') depth++;
    else if (ch === ']' || ch === ')' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
      continue;
    }
    cur += ch;
  }
  out.push(cur);
  return out;
}

/** Reads the file form: headers on the first line, paths on the second, separated by blanks. */
export function readCustomColumnsFile(file: string): CustomColumn[] {
  let textOf: string;
  try {
    textOf = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `custom-columns-file ${file}: ${(err as Error).message}`);
  }
  const [headers = '', paths = ''] = textOf.split('\n').filter((l) => l.trim() !== '');
  const h = headers.trim().split(/\s+/);
  const p = paths.trim().split(/\s+/);
  if (h.length !== p.length || h[0] === '') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `custom-columns-file ${file}: expected the same number of headers and paths, got ${h.length} and ${p.length}`);
  return h.map((header, i) => ({ header, path: relaxedPath(p[i]).path }));
}

/** One row of cells for an object. */
export function customRow(cols: CustomColumn[], o: KObject): string[] {
  return cols.map((c) => {
    const vals = evalPath(c.path, o, o);
    return vals.length === 0 ? '<none>' : vals.map(text).join(',');
  });
}
