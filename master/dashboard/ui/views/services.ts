/** Services: type, cluster IP, ports, the endpoints behind them, and the names they have on the LAN. */
import { lanNames } from '../../../../protocol/mdns.js';
import { html } from '../html.js';
import type { Live } from '../live.js';
import { Delete } from './actions.js';
import { Table } from './table.js';

function ports(s: any): string {
  return (s.spec?.ports ?? []).map((p: any) => `${p.port}${p.nodePort ? ':' + p.nodePort : ''}/${p.protocol ?? 'TCP'}`).join(', ') || '–';
}

/** `address:port` of every ready endpoint (Endpoints subsets). */
function endpoints(ep: any): string[] {
  const out: string[] = [];
  for (const s of ep?.subsets ?? []) for (const a of s.addresses ?? []) for (const p of s.ports ?? [{}]) out.push(`${a.ip}${p.port ? ':' + p.port : ''}${a.nodeName ? ` (${a.nodeName})` : ''}`);
  return out;
}

/** The services table. */
export function Services({ live, onError }: { live: Live; onError: (m: string) => void }) {
  const eps = live.objects.get('Endpoints')!;
  const rows = live
    .list('Service')
    .sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`))
    .map((s) => {
      const e = endpoints(eps.get(`${s.metadata.namespace}/${s.metadata.name}`));
      const lan = lanNames({ namespace: s.metadata.namespace, name: s.metadata.name, type: s.spec?.type, annotations: s.metadata.annotations, ports: s.spec?.ports ?? [] });
      return [
        html`<span class="muted">${s.metadata.namespace}/</span><b>${s.metadata.name}</b>`,
        s.spec?.type ?? 'ClusterIP',
        s.spec?.clusterIP ?? '–',
        ports(s),
        e.length ? html`<span title=${e.join('\n')}>${e.slice(0, 3).join(', ')}${e.length > 3 ? ` +${e.length - 3}` : ''}</span>` : html`<span class="muted">none ready</span>`,
        lan.length ? html`${lan.map((n) => html`<div><code>${n}</code></div>`)}` : html`<span class="muted">–</span>`,
        html`<${Delete} live=${live} kind="Service" o=${s} onError=${onError} />`,
      ];
    });
  return html`<${Table} id="services" title="Services" headers=${['NAME', 'TYPE', 'CLUSTER-IP', 'PORTS', 'ENDPOINTS', 'LAN NAMES', '']} rows=${rows} loaded=${live.loaded.has('Service')} />`;
}
