/**
 * `top {kind: 'Node' | 'Pod', namespace?, allNamespaces?, history?}`: the latest cpu and memory samples the
 * agents sent (Kubernetes' metrics-server role), with node usage as a share of allocatable; `history`
 * adds each node's last hour (the dashboard's charts).
 */
import { Checker, bytes, cpuMilli, kindOf, type ApiRequest } from '../../../protocol/index.js';
import { badRequest } from '../params.js';
import type { ApiContext } from '../types.js';

/** One row of `top`. */
export interface TopRow {
  name: string;
  namespace?: string;
  cpuMilli: number;
  memoryBytes: number;
  cpuPercent?: number;
  memoryPercent?: number;
  /** With `history` (nodes): the last hour's samples, oldest first (15 s apart at most). */
  history?: { t: number; cpuMilli: number; memoryBytes: number }[];
}

/** The top verb. Objects without a recent sample are left out (as `kubectl top`). */
export async function top(ctx: ApiContext, req: ApiRequest): Promise<{ items: TopRow[] }> {
  const c = new Checker('request top');
  c.string(req.kind, 'kind', true);
  c.string(req.namespace, 'namespace');
  c.bool(req.history, 'history');
  badRequest(c);
  const kind = kindOf(req.kind as string).kind;
  if (kind !== 'Node' && kind !== 'Pod') c.fail('kind', 'must be nodes or pods', req.kind);
  badRequest(c);
  const items: TopRow[] = [];
  if (kind === 'Node') {
    for (const n of ctx.informers.list('Node')) {
      const s = ctx.metrics.node(n.metadata.name);
      if (!s) continue;
      const cpu = cpuMilli(n.status?.allocatable?.cpu) ?? 0;
      const mem = bytes(n.status?.allocatable?.memory) ?? 0;
      items.push({
        name: n.metadata.name,
        cpuMilli: s.cpuMilli,
        memoryBytes: s.memoryBytes,
        cpuPercent: cpu ? Math.round((s.cpuMilli * 100) / cpu) : undefined,
        memoryPercent: mem ? Math.round((s.memoryBytes * 100) / mem) : undefined,
        ...(req.history === true ? { history: ctx.metrics.history.series(n.metadata.name) } : {}),
      });
    }
  } else {
    const ns = req.allNamespaces ? undefined : ((req.namespace as string) || 'default');
    for (const p of ctx.informers.list('Pod', ns)) {
      const s = ctx.metrics.pod(p.metadata.namespace!, p.metadata.name, p.metadata.uid);
      if (s) items.push({ name: p.metadata.name, namespace: p.metadata.namespace, cpuMilli: s.cpuMilli, memoryBytes: s.memoryBytes });
    }
  }
  items.sort((a, b) => (a.namespace ?? '').localeCompare(b.namespace ?? '') || a.name.localeCompare(b.name));
  return { items };
}
