/**
 * Reclaiming a local-path volume whose claim is gone (or that is being deleted): with reclaim policy Delete
 * the master asks the volume's node, over the agent RPC `volumeDelete {name, path}`, to delete the
 * directory — the agent deletes only directories of its own volume dir named after the volume, and answers
 * once they are gone — and the volume object goes after; with Retain the directory stays. A node that is
 * not Ready is asked again later (the volume waits, Released or Terminating); a node that no longer exists
 * cannot be asked, and the volume goes with a warning that its directory was left behind.
 */
import { readyStatus, type Node, type PersistentVolume } from '../../../protocol/index.js';
import { hostnameLabel } from '../daemonset/eligibility.js';

/** Asks `node` to delete a volume's directory; rejects when it did not (or did not answer). */
export type DirectoryDeleter = (node: string, volume: { name: string; path: string }) => Promise<void>;

/** What reclaiming did: deleted or not, the words for the event, and when to try again (when it should be). */
export interface ReclaimOutcome {
  deleted: boolean;
  message: string;
  retryAfterMs?: number;
}

/** Between attempts when the node is away or failed: 10 s. */
export const reclaimRetryMs = 10_000;

/** The one node a volume's affinity pins it to (`kubernetes.io/hostname In [node]`), if it names exactly one. */
export function nodeOfVolume(pv: PersistentVolume): string | undefined {
  for (const t of pv.spec.nodeAffinity?.required.nodeSelectorTerms ?? [])
    for (const r of t.matchExpressions ?? []) if (r.key === hostnameLabel && r.operator === 'In' && r.values?.length === 1) return r.values[0];
  return undefined;
}

/** Deletes (policy Delete) or keeps (Retain) a volume's directory on its node. */
export async function reclaimDirectory(pv: PersistentVolume, nodeOf: (name: string) => Node | undefined, deleter: DirectoryDeleter): Promise<ReclaimOutcome> {
  const path = pv.spec.hostPath?.path ?? pv.spec.local?.path ?? '';
  const node = nodeOfVolume(pv);
  const policy = pv.spec.persistentVolumeReclaimPolicy ?? 'Retain';
  if (policy !== 'Delete') return { deleted: false, message: `reclaim policy ${policy}: directory ${path} kept${node ? ` on node ${node}` : ''}` };
  if (!node) return { deleted: false, message: `no single node in the volume's node affinity: directory ${path} not deleted` };
  const n = nodeOf(node);
  if (!n) return { deleted: false, message: `node "${node}" no longer exists: directory ${path} was not deleted` };
  if (readyStatus(n) !== 'True') return { deleted: false, retryAfterMs: reclaimRetryMs, message: `node "${node}" is not Ready: deleting ${path} waits for it` };
  try {
    await deleter(node, { name: pv.metadata.name, path });
    return { deleted: true, message: `Deleted directory ${path} on node ${node}` };
  } catch (err) {
    return { deleted: false, retryAfterMs: reclaimRetryMs, message: `deleting ${path} on node ${node} failed: ${(err as Error).message}` };
  }
}
