/**
 * Pod status reports from agents (`nodes/{node}/pods`): an agent may report only pods bound to its own
 * node; each report replaces the pod's status (the master keeps its PodScheduled condition), and
 * `gone` uids finish graceful deletions.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Pod, PodReport, PodsMessage } from '../../protocol/index.js';
import type { ControllerContext } from '../controllers/types.js';

/** Merges an agent's status into the stored pod, keeping the scheduler's PodScheduled condition. */
function mergeStatus(cur: Pod, r: PodReport): Pod['status'] {
  const scheduled = cur.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const conditions = (r.status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
  return { ...r.status, conditions: scheduled ? [scheduled, ...conditions] : conditions };
}

/** Applies one `pods` message from `node`. */
export async function onPodsReport(ctx: ControllerContext, node: string, m: PodsMessage): Promise<void> {
  const { informers, objects } = ctx;
  if (!Array.isArray(m.pods)) throw new Error('pods: must be a list');
  await Promise.all(
    m.pods.map(async (r) => {
      if (!r || typeof r.namespace !== 'string' || typeof r.name !== 'string' || typeof r.status !== 'object' || r.status === null) return;
      const cached = informers.get<Pod>('Pod', r.namespace, r.name);
      if (!cached || cached.metadata.uid !== r.uid || cached.spec.nodeName !== node) return;
      await objects.mutate<Pod>('Pod', r.namespace, r.name, (cur) => {
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
      const p = informers.list<Pod>('Pod').find((x) => x.metadata.uid === uid);
      if (p && p.spec.nodeName === node && p.metadata.deletionTimestamp) await objects.finishPodDeletion(p.metadata.namespace!, p.metadata.name, uid);
    }
}
