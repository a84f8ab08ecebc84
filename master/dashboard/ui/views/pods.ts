/** Pods: phase as kubectl shows it, readiness, restarts, node; logs, exec and delete per pod. */
import { useState } from 'preact/hooks';
import { age, podReady, podRestarts, podStatus } from '../../../../protocol/display.js';
import { html } from '../html.js';
import type { Live } from '../live.js';
import { Delete } from './actions.js';
import { Badge, Table } from './table.js';

/** Rows rendered at most: a filter narrows a large cluster. */
const maxRows = 300;

/** What a pod row can open. */
export interface PodTarget {
  namespace: string;
  name: string;
  containers: string[];
  view: 'logs' | 'exec';
}

/** The pods table with a filter. */
export function Pods({ live, open, onError }: { live: Live; open: (t: PodTarget) => void; onError: (m: string) => void }) {
  const [filter, setFilter] = useState('');
  const now = Date.now();
  const all = live.list('Pod').sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  const f = filter.trim().toLowerCase();
  const matching = f ? all.filter((p) => `${p.metadata.namespace}/${p.metadata.name} ${p.spec?.nodeName ?? ''} ${podStatus(p)}`.toLowerCase().includes(f)) : all;
  const target = (p: any, view: PodTarget['view']): PodTarget => ({ namespace: p.metadata.namespace, name: p.metadata.name, containers: (p.spec?.containers ?? []).map((c: any) => c.name), view });
  const rows = matching.slice(0, maxRows).map((p) => [
    html`<span class="muted">${p.metadata.namespace}/</span><b class="pod-name">${p.metadata.name}</b>`,
    podReady(p),
    html`<span class="pod-status" data-pod=${p.metadata.name}><${Badge} text=${podStatus(p)} /></span>`,
    podRestarts(p, now),
    age(p.metadata.creationTimestamp, now),
    p.spec?.nodeName ?? '–',
    html`<span class="actions">
      ${live.may('logs') ? html`<button class="small" onClick=${() => open(target(p, 'logs'))}>logs</button>` : null}
      ${live.may('exec') ? html`<button class="small" onClick=${() => open(target(p, 'exec'))}>exec</button>` : null}
      <${Delete} live=${live} kind="Pod" o=${p} onError=${onError} />
    </span>`,
  ]);
  return html`<div>
    <input class="filter" placeholder="filter pods: name, namespace, node, status" value=${filter} onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} />
    <${Table} id="pods" title="Pods" headers=${['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'NODE', '']} rows=${rows} total=${matching.length} loaded=${live.loaded.has('Pod')} />
  </div>`;
}
