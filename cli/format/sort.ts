/**
 * `--sort-by=PATH` (a relaxed JSONPath, as kubectl): items without the field first, then numbers by value,
 * quantities (`500m`, `2Gi`) by amount, everything else as text. A stable sort, so equal keys keep the
 * server's order.
 */
import { parseQuantity, type KObject } from '../../protocol/index.js';
import { evalPath, text } from './jsonpath-eval.js';
import { relaxedPath } from './jsonpath.js';

type Key = { rank: 0 } | { rank: 1; n: number } | { rank: 2; s: string };

function keyOf(v: unknown): Key {
  if (v === undefined) return { rank: 0 };
  if (typeof v === 'number') return { rank: 1, n: v };
  if (typeof v === 'boolean') return { rank: 1, n: v ? 1 : 0 };
  if (typeof v === 'string' && /^[+-]?\d/.test(v)) {
    const q = parseQuantity(v);
    if (q !== undefined) return { rank: 1, n: q };
  }
  return { rank: 2, s: text(v) };
}

/** The items sorted by the value at `expr` (its first result). */
export function sortByPath(items: KObject[], expr: string): KObject[] {
  const { path } = relaxedPath(expr);
  const keyed = items.map((o, i) => ({ o, i, k: keyOf(evalPath(path, o, o)[0]) }));
  keyed.sort((a, b) => {
    if (a.k.rank !== b.k.rank) return a.k.rank - b.k.rank || a.i - b.i;
    if (a.k.rank === 1 && b.k.rank === 1 && a.k.n !== b.k.n) return a.k.n - b.k.n;
    if (a.k.rank === 2 && b.k.rank === 2 && a.k.s !== b.k.s) return a.k.s < b.k.s ? -1 : 1;
    return a.i - b.i;
  });
  return keyed.map((x) => x.o);
}
