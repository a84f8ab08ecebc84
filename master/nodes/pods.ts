/**
 * Pod status reports from agents (`nodes/{node}/pods`): an agent may report only pods bound to its own
 * node; each report replaces the pod's status (the master keeps its PodScheduled condition), `gone` uids
 * finish graceful deletions, and the events it observed become Pod events (pod-events.ts).
 */
import { SkiffError, type OfflineReport, type Pod, type PodReport, type PodsMessage } from '../../protocol/index.js';
import type { ControllerContext } from '../controllers/types.js';
import { jsonEqual } from '../json-value.js';
import { recordPodEvents } from './pod-events.js';
import { podsByNode } from './pods-by-node.js';
import { checkPodStatus, maxReportsPerMessage } from './pod-report.js';

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
  if (!Array.isArray(m.pods)) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'pods: must be a list');
  if (m.pods.length > maxReportsPerMessage) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `pods: must have at most ${maxReportsPerMessage} reports, got ${m.pods.length}`);
  if (m.offline && typeof m.offline === 'object') recordOffline(ctx, node, m.offline);
  if (m.events !== undefined) recordPodEvents(ctx, node, m.events);
  await Promise.all(
    m.pods.map(async (raw) => {
      if (!raw || typeof raw.namespace !== 'string' || typeof raw.name !== 'string' || typeof raw.status !== 'object' || raw.status === null) return;
      const cached = informers.get('Pod', raw.namespace, raw.name);
      if (!cached || cached.metadata.uid !== raw.uid || cached.spec.nodeName !== node) return;
      let r: PodReport;
      try {
        r = { ...raw, status: checkPodStatus(raw.name, raw.status) };
      } catch (err) {
        ctx.log.warn('pod status refused', { node, pod: `${raw.namespace}/${raw.name}`, err: (err as Error).message });
        ctx.events.object('Pod', raw.namespace, raw.name, 'Warning', 'StatusRefused', (err as Error).message);
        return;
      }
      await objects.mutate('Pod', r.namespace, r.name, (cur) => {
        if (cur.metadata.uid !== r.uid || cur.spec.nodeName !== node) return undefined;
        const status = mergeStatus(cur, r);
        // Equal as stored JSON (the status is stored as JSON; jsonEqual is several times cheaper than isDeepStrictEqual).
        if (jsonEqual(status, cur.status)) return undefined;
        cur.status = status;
        return cur;
      });
    }),
  );
  if (Array.isArray(m.gone)) {
    // One pass over this node's pods (podsByNode), however many uids a message names: O(the node's pods), never the cluster's.
    const gone = new Set(m.gone.slice(0, maxReportsPerMessage).filter((u) => typeof u === 'string'));
    for (const p of podsByNode(informers).of(node))
      if (gone.has(p.metadata.uid!) && p.spec.nodeName === node && p.metadata.deletionTimestamp) await objects.finishPodDeletion(p.metadata.namespace!, p.metadata.name, p.metadata.uid);
  }
}
