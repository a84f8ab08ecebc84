/** Percentiles and the table the scale bench prints. */

/** The p-th percentile (nearest rank) of `xs`; NaN for none. */
export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/**
 * A p99 says something only when at least 1 % of the samples lie above it: below 100 samples the nearest-rank
 * p99 is the max. The tables say so (`max` instead of `p99`).
 */
export const minP99Samples = 100;

/** p50 and p99 (or the max, marked, below 100 samples) as text. */
export function p50p99(xs: number[], unit: string, digits = 0): string {
  if (xs.length === 0) return '—';
  const tail = xs.length >= minP99Samples ? `p99 ${pct(xs, 99).toFixed(digits)}` : `max ${Math.max(...xs).toFixed(digits)}`;
  return `p50 ${pct(xs, 50).toFixed(digits)} ${unit}, ${tail} ${unit} (n=${xs.length})`;
}

/** Prints rows of label → one column per trial (and a goal column). */
export function table(rows: [string, ...string[]][], header: string[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

/** The parts of a list's time (bench/scale/observe.ts ListParts), as numbers by name. */
type Parts = Record<string, number>;

const partNames = ['totalMs', 'toMasterMs', 'waitMs', 'behind', 'prepareMs', 'answerMs', 'decodeMs', 'objectsEncoded', 'resultBytes'] as const;

/**
 * Where lists' time went (SKIFF_LIST_TRACE lines): per part, the median and max of the lists that made bytes (during
 * a rollout: the pods changed since the last list) and of those that only spliced, then the slowest lists whole.
 */
export function listPartsTable(parts: Parts[], slowest = 5): string {
  const groups: [string, Parts[]][] = [
    ['made bytes', parts.filter((p) => p.objectsEncoded > 0)],
    ['spliced only', parts.filter((p) => !(p.objectsEncoded > 0))],
  ];
  const cell = (xs: number[]) => (xs.length ? `${pct(xs, 50).toFixed(0)} / ${Math.max(...xs).toFixed(0)}` : '—');
  const rows: [string, ...string[]][] = partNames.map((k) => [k, ...groups.map(([, g]) => cell(g.map((p) => p[k] ?? 0)))]);
  const top = [...parts].sort((a, b) => b.totalMs - a.totalMs).slice(0, slowest);
  const slow = top.map((p) => partNames.map((k) => `${k.replace(/Ms$/, '')} ${(p[k] ?? 0).toFixed(0)}`).join(', '));
  return [table(rows, ['median / max', ...groups.map(([name, g]) => `${name} (n=${g.length})`)]), 'slowest:', ...slow].join('\n');
}
