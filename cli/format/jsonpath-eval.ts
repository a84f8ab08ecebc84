/** Evaluating kubectl JSONPath templates (parsed by jsonpath.ts) over JSON data. */
import type { JsonPath, Node, Path, Step } from './jsonpath.js';

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The values a path selects from `root`, with `cur` as `@`. */
export function evalPath(p: Path, root: unknown, cur: unknown): unknown[] {
  let vals: unknown[] = [cur];
  for (const st of p.steps) {
    const next: unknown[] = [];
    for (const v of vals) applyStep(st, v, root, next);
    vals = next;
  }
  return vals;
}

function applyStep(st: Step, v: unknown, root: unknown, out: unknown[]): void {
  switch (st.kind) {
    case 'root':
      out.push(root);
      return;
    case 'current':
      out.push(v);
      return;
    case 'field':
      for (const n of st.names) if (isMap(v) && Object.hasOwn(v, n) && v[n] !== undefined) out.push(v[n]);
      return;
    case 'wildcard':
      if (Array.isArray(v)) out.push(...v);
      else if (isMap(v)) out.push(...Object.values(v));
      return;
    case 'recursive':
      return recurse(v, st.name, out);
    case 'index':
      if (!Array.isArray(v)) return;
      for (const i of st.indices) {
        const at = i < 0 ? v.length + i : i;
        if (at >= 0 && at < v.length) out.push(v[at]);
      }
      return;
    case 'slice': {
      if (!Array.isArray(v)) return;
      const clamp = (x: number) => Math.max(0, Math.min(v.length, x < 0 ? v.length + x : x));
      const step = st.step ?? 1;
      if (step <= 0) return;
      for (let i = clamp(st.start ?? 0); i < clamp(st.end ?? v.length); i += step) out.push(v[i]);
      return;
    }
    case 'filter': {
      const items = Array.isArray(v) ? v : isMap(v) ? Object.values(v) : [];
      for (const item of items) if (holds(st, item, root)) out.push(item);
    }
  }
}

function recurse(v: unknown, name: string, out: unknown[]): void {
  if (Array.isArray(v)) for (const x of v) recurse(x, name, out);
  else if (isMap(v)) {
    if (name === '*') out.push(...Object.values(v));
    else if (Object.hasOwn(v, name)) out.push(v[name]);
    for (const x of Object.values(v)) recurse(x, name, out);
  }
}

function holds(f: Extract<Step, { kind: 'filter' }>, item: unknown, root: unknown): boolean {
  const left = evalPath(f.left, root, item);
  if (!f.op) return left.length > 0;
  const right = f.right!.kind === 'literal' ? [f.right!.value] : evalPath(f.right as Path, root, item);
  if (left.length === 0 || right.length === 0) return false;
  return compare(left[0], f.op, right[0]);
}

function compare(a: unknown, op: string, b: unknown): boolean {
  // Numbers compare as numbers (a quantity-like "3" against 3 too); everything else as text.
  const na = typeof a === 'number' ? a : typeof a === 'string' && a.trim() !== '' ? Number(a) : NaN;
  const nb = typeof b === 'number' ? b : typeof b === 'string' && b.trim() !== '' ? Number(b) : NaN;
  const numeric = (typeof a === 'number' || typeof b === 'number') && !Number.isNaN(na) && !Number.isNaN(nb);
  const x: string | number = numeric ? na : text(a);
  const y: string | number = numeric ? nb : text(b);
  switch (op) {
    case '==':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    default:
      return x >= y;
  }
}

/** How a value prints: strings bare, maps and lists as compact JSON (as kubectl). */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return v === null ? 'null' : '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Runs a template over `data`; the printed text. */
export function executeJsonPath(t: JsonPath, data: unknown): string {
  return run(t.nodes, data, data);
}

function run(nodes: Node[], root: unknown, cur: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'exprs') out += n.exprs.flatMap((e) => (e.kind === 'literal' ? [text(e.value)] : evalPath(e, root, cur).map(text))).join(' ');
    else for (const item of rangeItems(evalPath(n.path, root, cur))) out += run(n.body, root, item);
  }
  return out;
}

/** `{range .items[*]}` walks the items; `{range .items}` (a list itself) walks it too, as kubectl does. */
function rangeItems(vals: unknown[]): unknown[] {
  return vals.length === 1 && Array.isArray(vals[0]) ? vals[0] : vals;
}

