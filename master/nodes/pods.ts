/**
 * Pod status reports from agents (`nodes/{node}/pods`): an agent may report only pods bound to its own
 * node; each report replaces the pod's status (the master keeps its PodScheduled condition), `gone` uids
 * finish graceful deletions, and the events it observed become Pod events (pod-events.ts).
 */
import { isDeepStrictEqual } from 'node:util';
import type { OfflineReport, Pod, PodReport, PodsMessage } from '../../protocol/index.js';
import type { ControllerContext } from '../controllers/types.js';
import { recordPodEvents } from './pod-events.js';

/** Merges an agent's status into the stored pod, keeping the scheduler's PodScheduled condition. */
function mergeStatus(cur: Pod, r: PodReport): Pod['status'] {
  const scheduled = cur.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const conditions = (r.status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
  return { ...r.status, conditions: scheduled ? [scheduled, ...conditions] : conditions };
}

/** Records an agent's offline report as events: one on the node, one per pod that restarted meanwhile. */
function recordOffline(ctx: ControllerContext, node: string, o: OfflineReport): void {
  if (typeof o.forMs !== 'number' || !Array.isArray(o.restarts)) return;
  const restarts = o.restarts.filter((r) => r && typeof r.name === 'string' && typeof r.namespace === 'string' && Number.isInteger(r.count));
  const total = restarts.reduce((n, r) => n + r.count, 0);
  const which = restarts.slice(0, 5).map((r) => `${r.namespace}/${r.name} ×${r.count}`).join(', ');
  const cached = Number.isInteger(o.startedFromCache) && o.startedFromCache > 0 ? `; started ${o.startedFromCache} pod(s) from its cache` : '';
  ctx.events.object('Node', undefined, node, total ? 'Warning' : 'Normal', 'AgentReconnected', `Node ${node} was disconnected for ${(o.forMs / 1000).toFixed(1)} s; meanwhile ${total} container restart(s)${which ? ` (${which})` : ''}${cached}`);
  for (const r of restarts) ctx.events.object('Pod', r.namespace, r.name, 'Warning', 'RestartedWhileOffline', `${r.count} container restart(s) while node ${node} could not reach the master`);
}

/** Applies one `pods` message from `node`. */
export async function onPodsReport(ctx: ControllerContext, node: string, m: PodsMessage): Promise<void> {
  const { informers, objects } = ctx;
  if (!Array.isArray(m.pods)) throw new Error('pods: must be a list');
  if (m.offline && typeof m.offline === 'object') recordOffline(ctx, node, m.offline);
  if (m.events !== undefined) recordPodEvents(ctx, node, m.events);
  await Promise.all(
    m.pods.map(async (r) => {
      if (!r || typeof r.namespace !== 'string' || typeof r.name !== 'string' || typeof r.status !== 'object' || r.status === null) return;
      const cached = informers.get('Pod', r.namespace, r.name);
      if (!cached || cached.metadata.uid !== r.uid || cached.spec.nodeName !== node) return;
      await objects.mutate('Pod', r.namespace, r.name, (cur) => {
        if (cur.metadata.uid !== r.uid || cur.spec.nodeName !== node) return undefined;
        const status = mergeStatus(cur, r);
        if (isDeepStrictEqual(status, cur.status)) return undefined;
        cur.status = status;
        return cur;
      });
    }),
  );
  if (Array.isArray(m.gone))
    for (const uid of m.gone) {
      const p = informers.list('Pod').find((x) => x.metadata.uid === uid);
      if (p && p.spec.nodeName === node && p.metadata.deletionTimestamp) await objects.finishPodDeletion(p.metadata.namespace!, p.metadata.name, uid);
    }
}
