/**
 * The size a YAML document takes once its aliases are expanded, measured on the parsed tree before
 * anything is expanded: a 1 MiB anchor used by 98 aliases is 99 MiB of objects, so the alias *count*
 * (yaml's maxAliasCount) is not bound enough. Each node is sized once (aliases reuse the size of the
 * node they point at), so measuring is linear in the tree even for a "billion laughs" document.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';

/** Bytes a node adds beyond its content (quotes, separators): counted so empty values are not free. */
const overhead = 2;

/**
 * The expanded size of `doc` in (approximate JSON) bytes; stops counting past `limit` and returns a
 * figure above it. Throws when an alias points into its own anchor (a cycle JSON cannot hold).
 */
export function expandedSize(doc: Document, limit: number): number {
  const sizes = new Map<unknown, number>();
  const open = new Set<unknown>();
  const size = (n: unknown): number => {
    if (n === null || n === undefined) return overhead;
    const known = sizes.get(n);
    if (known !== undefined) return known;
    if (open.has(n)) throw new Error('an alias refers to a node that contains it');
    open.add(n);
    let s = overhead;
    if (isAlias(n)) s = size(n.resolve(doc)); // exactly what it stands for
    else if (isScalar(n)) s += String(n.value ?? '').length;
    else if (isPair(n)) s += size(n.key) + size(n.value);
    else if (isMap(n) || isSeq(n))
      for (const item of n.items as unknown[]) {
        s += size(item);
        if (s > limit) break;
      }
    open.delete(n);
    sizes.set(n, s);
    return s;
  };
  return size(doc.contents as Node | null);
}
