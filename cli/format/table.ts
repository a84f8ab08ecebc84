/**
 * Column-aligned tables as kubectl prints them (a tabwriter with 3 spaces of padding; the last column
 * is not padded). A table remembers its widths so rows printed later (`get -w`) stay aligned.
 */

/** A table printer that keeps column widths across calls. */
export class Table {
  private widths: number[];

  constructor(private readonly headers: readonly string[]) {
    this.widths = headers.map((h) => h.length);
  }

  /** Renders the header and rows, widening columns to fit; each line ends with `\n`. */
  render(rows: readonly (readonly string[])[], withHeader = true): string {
    for (const r of rows) r.forEach((cell, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, cell.length)));
    const lines = withHeader ? [this.headers, ...rows] : rows;
    return lines.map((r) => this.line(r) + '\n').join('');
  }

  private line(cells: readonly string[]): string {
    return cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(this.widths[i]) + '   '))
      .join('');
  }
}

/** Renders a one-off table (header + rows). */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  return new Table(headers).render(rows);
}
