/** A table with a heading, "loading" until its kind arrived, and a note when rows were left out. */
import type { ComponentChildren } from 'preact';
import { html } from '../html.js';

/** Props of Table. */
export interface TableProps {
  title: string;
  headers: string[];
  rows: ComponentChildren[][];
  loaded: boolean;
  /** Rows there are in all (more than `rows` when cut). */
  total?: number;
  id?: string;
}

/** A titled table. */
export function Table(p: TableProps) {
  const body = !p.loaded
    ? html`<tr><td colspan=${p.headers.length} class="muted">loading…</td></tr>`
    : p.rows.length === 0
      ? html`<tr><td colspan=${p.headers.length} class="muted">none</td></tr>`
      : p.rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`);
  return html`<section class="card" id=${p.id}>
    <h2>${p.title} <span class="count">${p.total ?? p.rows.length}</span></h2>
    <div class="scroll"><table>
      <thead><tr>${p.headers.map((h) => html`<th>${h}</th>`)}</tr></thead>
      <tbody>${body}</tbody>
    </table></div>
    ${p.total !== undefined && p.total > p.rows.length ? html`<p class="muted">showing ${p.rows.length} of ${p.total}: narrow the filter</p>` : null}
  </section>`;
}

/** A status word coloured by its meaning. */
export function Badge({ text }: { text: string }) {
  const tone = /^(Running|Ready|Succeeded|Completed|Available|True|Normal|Active)$/.test(text) ? 'ok' : /^(Pending|ContainerCreating|Terminating|Unknown|NotReady|Progressing)$/.test(text) ? 'wait' : 'bad';
  return html`<span class=${`badge ${tone}`}>${text}</span>`;
}
