/**
 * `rollout {action, kind, name, namespace?, toRevision?, revision?}`: the server side of
 * `skiff rollout status|history|undo|restart|pause|resume` (kubectl's rollout subcommands). Each
 * action reads or changes the workload only; its controller does the rolling. Deployments are here;
 * the kinds with ControllerRevision history (DaemonSets) in rollout-revisions.ts.
 */
import { Checker, SkiffError, kindOf, type ApiRequest, type Deployment, type ReplicaSet } from '../../../protocol/index.js';
import { history, planRollback, type Revision } from '../../controllers/deployment/rollback.js';
import { rolloutStatus, type RolloutStatus } from '../../controllers/deployment/progress.js';
import { changeCauseAnnotation } from '../../controllers/deployment/state.js';
import { notFound } from '../../objects.js';
import { badRequest, target } from '../params.js';
import { historyKinds, isHistoryKind } from '../../controllers/history.js';
import { revisionedRollout } from './rollout-revisions.js';
import type { ApiContext } from '../types.js';

/** The actions of the rollout verb. */
const actions = ['status', 'history', 'undo', 'restart', 'pause', 'resume'] as const;
type Action = (typeof actions)[number];

/** The annotation `rollout restart` stamps into the pod template (as kubectl does), forcing a new rollout. */
export const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';

/** The rollout verb. */
export async function rollout(ctx: ApiContext, req: ApiRequest): Promise<unknown> {
  const { kind, name, namespace } = target(req, true);
  const c = new Checker('request rollout');
  c.oneOf(req.action, 'action', actions, true);
  c.int(req.toRevision, 'toRevision', 0);
  c.int(req.revision, 'revision', 1);
  badRequest(c);
  if (isHistoryKind(kind.kind)) return revisionedRollout(ctx, kind.kind, namespace, name, req as unknown as Parameters<typeof revisionedRollout>[4]);
  if (kind.kind !== 'Deployment')
    throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `request rollout: kind: ${kind.plural} have no rollouts; only ${['deployments', ...historyKinds.map((k) => kindOf(k).plural)].join(', ')} do`);
  const d = await ctx.objects.mustGet('Deployment', namespace, name);
  const rss = () => ctx.informers.list('ReplicaSet', namespace);
  switch (req.action as Action) {
    case 'status':
      return rolloutStatus(d) satisfies RolloutStatus;
    case 'history':
      return historyOf(d, rss(), req.revision as number | undefined);
    case 'undo':
      return undo(ctx, d, rss(), (req.toRevision as number | undefined) ?? 0);
    case 'restart':
      if (d.spec.paused) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `can't restart paused deployment (run "skiff rollout resume deployment/${name}" first)`);
      await change(ctx, d, (cur) => {
        const meta = (cur.spec.template.metadata ??= {});
        meta.annotations = { ...(meta.annotations ?? {}), [restartedAtAnnotation]: new Date().toISOString() };
      });
      return { message: 'restarted' };
    case 'pause':
    case 'resume': {
      const pause = req.action === 'pause';
      if (!!d.spec.paused === pause) throw new SkiffError('SKIFF_ERR_BAD_REQUEST', `deployments.apps "${name}" is ${pause ? 'already' : 'not'} paused`);
      await change(ctx, d, (cur) => {
        if (pause) cur.spec.paused = true;
        else delete cur.spec.paused;
      });
      return { message: pause ? 'paused' : 'resumed' };
    }
  }
}

/** All revisions, or one with its template (`--revision N`). */
function historyOf(d: Deployment, rss: ReplicaSet[], revision: number | undefined): { revisions: Revision[] } {
  const revs = history(d, rss);
  if (revision === undefined) return { revisions: revs.map(({ template: _t, ...r }) => r as Revision) };
  const one = revs.find((r) => r.revision === revision);
  if (!one) throw new SkiffError('SKIFF_ERR_NOT_FOUND', `unable to find the specified revision ${revision} of deployment "${d.metadata.name}"`);
  return { revisions: [one] };
}

/** Restores an earlier template (kubectl rollout undo); the controller bumps that ReplicaSet's revision. */
async function undo(ctx: ApiContext, d: Deployment, rss: ReplicaSet[], toRevision: number): Promise<{ message: string; revision: number }> {
  const plan = planRollback(d, rss, toRevision);
  if (plan.skipped) return { message: plan.message, revision: plan.revision };
  await change(ctx, d, (cur) => {
    cur.spec.template = plan.template;
    const a = { ...(cur.metadata.annotations ?? {}) };
    if (plan.changeCause !== undefined) a[changeCauseAnnotation] = plan.changeCause;
    else delete a[changeCauseAnnotation];
    cur.metadata.annotations = a;
    if (Object.keys(a).length === 0) delete cur.metadata.annotations;
  });
  ctx.events.object('Deployment', d.metadata.namespace, d.metadata.name, 'Normal', 'DeploymentRollback', `Rolled back deployment "${d.metadata.name}" to revision ${plan.revision}`);
  return { message: 'rolled back', revision: plan.revision };
}

/** Changes the Deployment it read (not one re-created under the same name meanwhile). */
async function change(ctx: ApiContext, d: Deployment, fn: (cur: Deployment) => void): Promise<Deployment> {
  const res = await ctx.objects.mutate('Deployment', d.metadata.namespace, d.metadata.name, (cur) => {
    if (cur.metadata.uid !== d.metadata.uid) return undefined;
    fn(cur);
    return cur;
  });
  if (!res || res.metadata.uid !== d.metadata.uid) throw notFound(kindOf('Deployment'), d.metadata.namespace, d.metadata.name);
  return res;
}
