/** Events, newest first, as `skiff get events -A` lists them (kubectl's columns). */
import { age } from '../../../../protocol/display.js';
import { involvedObjectName } from '../../../../protocol/event.js';
import { html } from '../html.js';
import type { Live } from '../live.js';
import { Badge, Table } from './table.js';

const maxRows = 300;

/** The events table. */
export function Events({ live }: { live: Live }) {
  const now = Date.now();
  const all = live.list('Event').sort((a, b) => b.lastTimestamp.localeCompare(a.lastTimestamp));
  const rows = all.slice(0, maxRows).map((e) => [
    e.count > 1 ? `${age(e.lastTimestamp, now)} (x${e.count} over ${age(e.firstTimestamp, now)})` : age(e.lastTimestamp, now),
    html`<${Badge} text=${e.type} />`,
    e.reason,
    html`<span class="muted">${e.involvedObject.namespace ? e.involvedObject.namespace + '/' : ''}</span>${involvedObjectName(e.involvedObject)}`,
    html`<span class="message">${e.message}</span>`,
  ]);
  return html`<${Table} id="events" title="Events" headers=${['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']} rows=${rows} total=${all.length} loaded=${live.loaded.has('Event')} />`;
}
