/** Nodes: readiness, what the board is, its conditions, and cpu/memory now and over the last hour. */
import { bytes, cpuMilli } from '../../../../protocol/quantity.js';
import { html } from '../html.js';
import { formatBytes, formatCpu, readyOf } from '../format.js';
import type { Live } from '../live.js';
import { Spark } from './chart.js';
import { Badge, Table } from './table.js';

/** Conditions other than Ready that say something is wrong (MemoryPressure=True, ...). */
function troubles(n: any): string {
  const bad = (n.status?.conditions ?? []).filter((c: any) => c.type !== 'Ready' && c.type !== 'ResourceLimits' && c.status === 'True');
  return bad.map((c: any) => c.type).join(', ') || '–';
}

function status(n: any): string {
  const ready = readyOf(n);
  const s = ready === 'True' ? 'Ready' : ready === 'False' ? 'NotReady' : 'Unknown';
  return n.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
}

/** The nodes table. */
export function Nodes({ live }: { live: Live }) {
  const nodes = live.list('Node').sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const rows = nodes.map((n) => {
    const u = live.usage.get(n.metadata.name);
    const info = n.status?.nodeInfo ?? {};
    const cpuMax = cpuMilli(n.status?.allocatable?.cpu);
    const memMax = bytes(n.status?.allocatable?.memory);
    const xs = (u?.history ?? []).map((p) => p.t);
    return [
      html`<b>${n.metadata.name}</b>`,
      html`<${Badge} text=${status(n)} />`,
      info.architecture ?? '–',
      info.boardModel ?? '–',
      (info.kubeletVersion ?? '').replace(/^skiff-agent\//, '') || '–',
      troubles(n),
      html`<span class="num">${formatCpu(u?.cpuMilli)}${u?.cpuPercent !== undefined ? ` (${u.cpuPercent}%)` : ''}</span>`,
      html`<${Spark} xs=${xs} ys=${(u?.history ?? []).map((p) => p.cpuMilli)} max=${cpuMax} color="#2f7ed8" label="cpu (millicores), last hour" />`,
      html`<span class="num">${formatBytes(u?.memoryBytes)}${u?.memoryPercent !== undefined ? ` (${u.memoryPercent}%)` : ''}</span>`,
      html`<${Spark} xs=${xs} ys=${(u?.history ?? []).map((p) => p.memoryBytes)} max=${memMax} color="#8e44ad" label="memory (bytes), last hour" />`,
    ];
  });
  return html`<${Table} id="nodes" title="Nodes" headers=${['NAME', 'STATUS', 'ARCH', 'BOARD', 'AGENT', 'CONDITIONS', 'CPU', 'CPU 1h', 'MEMORY', 'MEMORY 1h']} rows=${rows} loaded=${live.loaded.has('Node')} />`;
}
