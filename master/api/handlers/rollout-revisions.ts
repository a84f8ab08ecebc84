/**
 * `rollout` for the workloads whose history lives in ControllerRevisions (master/controllers/history.ts):
 * DaemonSets and StatefulSets, each with its status viewer below. Status
 * follows kubectl's status viewers word for word; history and undo read the revisions; restart stamps
 * the template as kubectl does. Pause and resume exist for Deployments only, as in Kubernetes.
 */
import { SkiffError, kindOf, type ControllerRevision, type DaemonSet, type PodTemplateSpec } from '../../../protocol/index.js';
import { sameTemplate } from '../../controllers/deployment/hash.js';
import { changeCauseAnnotation } from '../../controllers/deployment/state.js';
import type { RolloutStatus } from '../../controllers/deployment/progress.js';
import { revisionsOf, type HistoryKind, type HistoryOwner } from '../../controllers/history.js';
import { statefulSetRolloutStatus } from '../../controllers/statefulset/status.js';
import { notFound, qualifiedPlural } from '../../objects.js';
import type { ApiContext } from '../types.js';

/** A workload with a pod template and its history in ControllerRevisions. */
type Owner = HistoryOwner;

/** kubectl's DaemonSet status viewer (rollout status). */
function daemonSetRolloutStatus(ds: DaemonSet): RolloutStatus {
  const name = ds.metadata.name;
  if (ds.spec.updateStrategy?.type !== 'RollingUpdate') throw new SkiffError('SKIFF_ERR_BAD_REQUEST', 'rollout status is only available for RollingUpdate strategy type');
  const st = ds.status;
  if ((ds.metadata.generation ?? 0) > (st?.observedGeneration ?? 0)) return { message: 'Waiting for daemon set spec update to be observed...', done: false };
  const desired = st?.desiredNumberScheduled ?? 0;
  const updated = st?.updatedNumberScheduled ?? 0;
  const available = st?.numberAvailable ?? 0;
  if (updated < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...`, done: false };
  if (available < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...`, done: false };
  return { message: `daemon set "${name}" successfully rolled out`, done: true };
}

/** kubectl's status viewer of the owner's kind. */
function rolloutStatusOf(o: Owner): RolloutStatus {
  return o.kind === 'DaemonSet' ? daemonSetRolloutStatus(o) : statefulSetRolloutStatus(o);
}

/** The rollout actions of a ControllerRevision kind. */
export async function revisionedRollout(ctx: ApiContext, kind: HistoryKind, namespace: string | undefined, name: string, req: { action: string; toRevision?: number; revision?: number }): Promise<unknown> {
  const o = await ctx.objects.mustGet(kind, namespace, name);
  const revs = () => revisionsOf(o, ctx.informers.list('ControllerRevision', namespace));
  switch (req.action) {
    case 'status':
      return rolloutStatusOf(o);
    case 'history':
      return historyOf(o, revs(), req.revision);
    case 'undo':
      return undo(ctx, o, revs(), req.toRevision ?? 0);
    case 'restart':
      await change(ctx, o, (cur) => {
        const meta = (cur.spec.template.metadata ??= {});
        meta.annotations = { ...(meta.annotations ?? {}), 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() };
      });
      return { message: 'restarted' };
    default:
      throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `${qualifiedPlural(kindOf(kind))} "${name}" ${req.action === 'pause' ? 'pausing' : 'resuming'} is not supported`);
  }
}

function historyOf(o: Owner, revs: ControllerRevision[], revision: number | undefined): { revisions: { revision: number; changeCause?: string; template?: PodTemplateSpec }[] } {
  const row = (r: ControllerRevision) => ({ revision: r.revision, ...(r.metadata.annotations?.[changeCauseAnnotation] !== undefined ? { changeCause: r.metadata.annotations[changeCauseAnnotation] } : {}) });
  if (revision === undefined) return { revisions: revs.map(row) };
  const one = revs.find((r) => r.revision === revision);
  if (!one) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `unable to find the specified revision ${revision} of ${o.kind.toLowerCase()} "${o.metadata.name}"`);
  return { revisions: [{ ...row(one), template: one.data.spec.template }] };
}

/** kubectl's rollback: the given revision, or the one before the newest; the history controller then moves it to the top. */
async function undo(ctx: ApiContext, o: Owner, revs: ControllerRevision[], toRevision: number): Promise<{ message: string; revision: number }> {
  const target = toRevision > 0 ? revs.find((r) => r.revision === toRevision) : revs.at(-2);
  if (!target)
    throw new SkiffError('SKIFF_ERR_NOT_FOUND', toRevision > 0 ? `unable to find specified revision ${toRevision} in history` : `no rollout history found for ${o.kind.toLowerCase()} "${o.metadata.name}"`);
  if (sameTemplate(target.data.spec.template, o.spec.template)) return { message: `skipped rollback (current template already matches revision ${target.revision})`, revision: target.revision };
  await change(ctx, o, (cur) => (cur.spec.template = structuredClone(target.data.spec.template)));
  ctx.events.object(o.kind, o.metadata.namespace, o.metadata.name, 'Normal', 'Rollback', `Rolled back ${o.kind.toLowerCase()} "${o.metadata.name}" to revision ${target.revision}`);
  return { message: 'rolled back', revision: target.revision };
}

/** Changes the object it read (not one re-created under the same name meanwhile). */
async function change(ctx: ApiContext, o: Owner, fn: (cur: Owner) => void): Promise<void> {
  const res = await ctx.objects.mutate(o.kind, o.metadata.namespace, o.metadata.name, (cur) => {
    if (cur.metadata.uid !== o.metadata.uid) return undefined;
    fn(cur);
    return cur;
  });
  if (!res || res.metadata.uid !== o.metadata.uid) throw notFound(kindOf(o.kind), o.metadata.namespace, o.metadata.name);
}
