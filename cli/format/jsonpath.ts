/**
 * kubectl's JSONPath templates (`-o jsonpath=...`, `--sort-by`, custom columns, `wait --for=jsonpath`),
 * after k8s.io/client-go/util/jsonpath: text outside `{}` is printed as it is; inside, a path —
 * `$`/`@`, `.field`, `..field` (recursive), `['a','b']`, `[n]` (negative from the end), `[start:end:step]`,
 * `[*]`/`.*`, `[?(@.x == "y")]` filters (`==`, `!=`, `<`, `<=`, `>`, `>=`, or a path alone: it exists) —,
 * `"quoted text"` (with `\n`, `\t` escapes), unions `{.a,.b}`, and `{range PATH}...{end}`. Results of one
 * `{}` are joined by spaces; strings print bare, numbers and booleans as text, maps and lists as JSON.
 * A missing field yields nothing (kubectl enables allowMissingKeys for get). No npm package speaks this
 * dialect (range/end, quoted text), hence this small parser; the evaluation is in jsonpath-eval.ts;
 * both table-tested in test/cli/jsonpath.test.ts.
 */
import { SkiffError } from '../../protocol/index.js';

export type Literal = { kind: 'literal'; value: string | number | boolean | null };
export type Step =
  | { kind: 'root' }
  | { kind: 'current' }
  | { kind: 'field'; names: string[] }
  | { kind: 'recursive'; name: string | '*' }
  | { kind: 'wildcard' }
  | { kind: 'index'; indices: number[] }
  | { kind: 'slice'; start?: number; end?: number; step?: number }
  | { kind: 'filter'; left: Path; op?: string; right?: Path | Literal };
/** A path: the steps from the root or the current node. */
export type Path = { kind: 'path'; steps: Step[] };
export type Expr = Path | Literal;
export type Node = { kind: 'text'; text: string } | { kind: 'exprs'; exprs: Expr[] } | { kind: 'range'; path: Path; body: Node[] };

/** A parsed template. */
export interface JsonPath {
  readonly source: string;
  readonly nodes: Node[];
}

function parseError(source: string, why: string): SkiffError {
  return new SkiffError('SKIFF_ERR_BAD_REQUEST', `error parsing jsonpath ${source}, ${why}`);
}

/** Parses a template; throws SKIFF_ERR_BAD_REQUEST (`error parsing jsonpath {.a[}, ...`) on a syntax error. */
export function parseJsonPath(source: string): JsonPath {
  const stack: Node[][] = [[]];
  const ranges: Path[] = [];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{', i);
    if (open < 0) {
      stack[stack.length - 1].push({ kind: 'text', text: source.slice(i) });
      break;
    }
    if (open > i) stack[stack.length - 1].push({ kind: 'text', text: source.slice(i, open) });
    const close = actionEnd(source, open);
    if (close < 0) throw parseError(source, 'unclosed action');
    const inner = source.slice(open + 1, close).trim();
    i = close + 1;
    if (inner === 'end') {
      if (ranges.length === 0) throw parseError(source, 'not in range, nothing to end');
      const body = stack.pop()!;
      stack[stack.length - 1].push({ kind: 'range', path: ranges.pop()!, body });
    } else if (/^range\b/.test(inner)) {
      ranges.push(new PathParser(inner.slice(5).trim(), source).path());
      stack.push([]);
    } else stack[stack.length - 1].push({ kind: 'exprs', exprs: new PathParser(inner, source).union() });
  }
  if (ranges.length) throw parseError(source, 'unclosed range: missing {end}');
  return { source, nodes: stack[0] };
}

/** The `}` closing the action opened at `open`, skipping quoted text; -1 when there is none. */
function actionEnd(s: string, open: number): number {
  let quote = '';
  for (let i = open + 1; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = '';
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '}') return i;
  }
  return -1;
}

/** Recursive descent over one action's text. */
class PathParser {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly source: string,
  ) {}

  private fail(why: string): never {
    throw parseError(this.source, why);
  }

  private peek(): string {
    return this.s[this.i] ?? '';
  }

  private skipSpace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.i++;
  }

  /** `.a,.b`, `"text"`: a comma-separated list of paths and quoted strings. */
  union(): Expr[] {
    const out: Expr[] = [];
    for (;;) {
      this.skipSpace();
      const c = this.peek();
      out.push(c === '"' || c === "'" ? { kind: 'literal', value: this.quoted() } : this.path());
      this.skipSpace();
      if (this.i >= this.s.length) return out;
      if (this.peek() !== ',') this.fail(`unrecognized character in action: ${JSON.stringify(this.peek())}`);
      this.i++;
    }
  }

  /** A path; it ends at the end of the text, or before a space, comma, operator or `)`. */
  path(): Path {
    const steps: Step[] = [];
    if (this.peek() === '$') (this.i++, steps.push({ kind: 'root' }));
    else if (this.peek() === '@') (this.i++, steps.push({ kind: 'current' }));
    else if (/[A-Za-z_]/.test(this.peek())) steps.push({ kind: 'field', names: [this.ident()] }); // a relaxed `metadata.name`
    for (;;) {
      const c = this.peek();
      if (c === '.') {
        this.i++;
        if (this.peek() === '.') {
          this.i++;
          steps.push({ kind: 'recursive', name: this.peek() === '*' ? (this.i++, '*') : this.ident() });
        } else if (this.peek() === '*') (this.i++, steps.push({ kind: 'wildcard' }));
        else if (this.peek() === '[' || this.i >= this.s.length) continue;
        else steps.push({ kind: 'field', names: [this.ident()] });
      } else if (c === '[') steps.push(this.bracket());
      else break;
    }
    return { kind: 'path', steps };
  }

  private ident(): string {
    const m = /^[^.[\]\s,(){}=!<>&|'"]+/.exec(this.s.slice(this.i));
    if (!m) this.fail(`expected a field name at ${JSON.stringify(this.s.slice(this.i, this.i + 10))}`);
    this.i += m[0].length;
    return m[0];
  }

  private quoted(): string {
    const q = this.s[this.i++];
    let out = '';
    while (this.i < this.s.length && this.s[this.i] !== q) {
      let ch = this.s[this.i++];
      if (ch === '\\') {
        const e = this.s[this.i++];
        ch = e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
      }
      out += ch;
    }
    if (this.s[this.i] !== q) this.fail('unclosed quote');
    this.i++;
    return out;
  }

  private bracket(): Step {
    this.i++; // [
    this.skipSpace();
    let step: Step;
    if (this.peek() === '?') {
      this.i++;
      if (this.peek() !== '(') this.fail('filter must be [?(...)]');
      this.i++;
      step = this.filter();
      if (this.peek() !== ')') this.fail('unclosed filter: missing )');
      this.i++;
    } else if (this.peek() === '*') {
      this.i++;
      step = { kind: 'wildcard' };
    } else if (this.peek() === "'" || this.peek() === '"') {
      const names = [this.quoted()];
      while ((this.skipSpace(), this.peek() === ',')) (this.i++, this.skipSpace(), names.push(this.quoted()));
      step = { kind: 'field', names };
    } else step = this.indexOrSlice();
    this.skipSpace();
    if (this.peek() !== ']') this.fail('unclosed array expect ]');
    this.i++;
    return step;
  }

  private indexOrSlice(): Step {
    const m = /^([-\d\s]*)(?::([-\d\s]*))?(?::([-\d\s]*))?/.exec(this.s.slice(this.i))!;
    const body = this.s.slice(this.i).split(']')[0];
    if (!/^[-\d\s:,]+$/.test(body)) this.fail(`invalid array index ${body}`);
    if (body.includes(',')) {
      this.i += body.length;
      return { kind: 'index', indices: body.split(',').map((x) => this.int(x)) };
    }
    this.i += m[0].length;
    const num = (x: string | undefined) => (x === undefined || x.trim() === '' ? undefined : this.int(x));
    if (m[2] === undefined) return { kind: 'index', indices: [this.int(m[1])] };
    return { kind: 'slice', start: num(m[1]), end: num(m[2]), step: num(m[3]) };
  }

  private int(x: string): number {
    if (!/^\s*-?\d+\s*$/.test(x)) this.fail(`invalid array index ${x}`);
    return Number(x);
  }

  private filter(): Step {
    this.skipSpace();
    const left = this.path();
    this.skipSpace();
    const m = /^(==|!=|<=|>=|<|>)/.exec(this.s.slice(this.i));
    if (!m) return { kind: 'filter', left };
    this.i += m[1].length;
    this.skipSpace();
    const c = this.peek();
    let right: Path | Literal;
    if (c === '"' || c === "'") right = { kind: 'literal', value: this.quoted() };
    else if (c === '@' || c === '$') right = this.path();
    else {
      const n = /^(-?\d+(?:\.\d+)?|true|false|null)/.exec(this.s.slice(this.i));
      if (!n) this.fail(`unrecognized filter value at ${JSON.stringify(this.s.slice(this.i, this.i + 10))}`);
      this.i += n[1].length;
      right = { kind: 'literal', value: n[1] === 'true' ? true : n[1] === 'false' ? false : n[1] === 'null' ? null : Number(n[1]) };
    }
    this.skipSpace();
    return { kind: 'filter', left, op: m[1], right };
  }
}

/**
 * kubectl's relaxed form for custom columns and --sort-by: `.a.b`, `a.b` or `{.a.b}` all mean `{.a.b}`.
 * Returns the single path.
 */
export function relaxedPath(expr: string): { path: Path; source: string } {
  let e = expr.trim();
  if (e.startsWith('{') && e.endsWith('}')) e = e.slice(1, -1);
  if (!e.startsWith('.') && !e.startsWith('$') && !e.startsWith('@') && !e.startsWith('[')) e = '.' + e;
  const t = parseJsonPath(`{${e}}`);
  const node = t.nodes[0];
  if (t.nodes.length !== 1 || node.kind !== 'exprs' || node.exprs.length !== 1 || node.exprs[0].kind !== 'path')
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}': ${expr}`);
  return { path: node.exprs[0], source: expr };
}
