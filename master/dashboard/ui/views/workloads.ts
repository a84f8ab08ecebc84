/** Workloads: Deployments with their rollout progress and actions, DaemonSets, Jobs, CronJobs. */
import { age } from '../../../../protocol/display.js';
import { html } from '../html.js';
import type { Live } from '../live.js';
import { Delete, Restart, Scale } from './actions.js';
import { Badge, Table } from './table.js';

const n = (v: unknown) => (typeof v === 'number' ? v : 0);
const nameOf = (o: any) => html`<span class="muted">${o.metadata.namespace}/</span><b>${o.metadata.name}</b>`;
const sorted = (xs: any[]) => xs.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));

/**
 * A Deployment's rollout as `kubectl rollout status` words it: updated and available replicas against
 * the desired number, and the Progressing condition when the deadline passed.
 */
export function rollout(d: any): { done: number; of: number; text: string; failed: boolean } {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const progressing = (s.conditions ?? []).find((c: any) => c.type === 'Progressing');
  const failed = progressing?.reason === 'ProgressDeadlineExceeded';
  if (failed) return { done: n(s.availableReplicas), of: want, text: 'progress deadline exceeded', failed };
  if (d.spec?.paused) return { done: n(s.updatedReplicas), of: want, text: 'paused', failed };
  if (n(s.updatedReplicas) < want) return { done: n(s.updatedReplicas), of: want, text: `${n(s.updatedReplicas)} of ${want} updated`, failed };
  if (n(s.replicas) > n(s.updatedReplicas)) return { done: n(s.updatedReplicas), of: n(s.replicas), text: `${n(s.replicas) - n(s.updatedReplicas)} old replicas pending termination`, failed };
  if (n(s.availableReplicas) < want) return { done: n(s.availableReplicas), of: want, text: `${n(s.availableReplicas)} of ${want} available`, failed };
  return { done: want, of: want, text: 'rolled out', failed };
}

function Progress({ d }: { d: any }) {
  const r = rollout(d);
  const pct = r.of ? Math.round((r.done * 100) / r.of) : 100;
  return html`<div class=${`progress ${r.failed ? 'failed' : ''}`} title=${r.text}><div style=${{ width: `${pct}%` }}></div><span>${r.text}</span></div>`;
}

/** The workload tables. */
export function Workloads({ live, onError }: { live: Live; onError: (m: string) => void }) {
  const now = Date.now();
  const deployments = sorted(live.list('Deployment')).map((d) => [
    nameOf(d),
    html`<span class="ready" data-deployment=${d.metadata.name}>${n(d.status?.readyReplicas)}/${d.spec?.replicas ?? 1}</span>`,
    n(d.status?.updatedReplicas),
    n(d.status?.availableReplicas),
    html`<${Progress} d=${d} />`,
    age(d.metadata.creationTimestamp, now),
    html`<span class="actions"><${Scale} live=${live} d=${d} onError=${onError} /><${Restart} live=${live} d=${d} onError=${onError} /><${Delete} live=${live} kind="Deployment" o=${d} onError=${onError} /></span>`,
  ]);
  const daemonsets = sorted(live.list('DaemonSet')).map((d) => {
    const s = d.status ?? {};
    return [nameOf(d), n(s.desiredNumberScheduled), n(s.currentNumberScheduled), n(s.numberReady), n(s.updatedNumberScheduled), n(s.numberAvailable), age(d.metadata.creationTimestamp, now), html`<${Delete} live=${live} kind="DaemonSet" o=${d} onError=${onError} />`];
  });
  const jobs = sorted(live.list('Job')).map((j) => {
    const s = j.status ?? {};
    const state = (s.conditions ?? []).find((c: any) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True')?.type ?? (n(s.active) ? 'Running' : 'Pending');
    return [nameOf(j), `${n(s.succeeded)}/${j.spec?.completions ?? 1}`, html`<${Badge} text=${state === 'Complete' ? 'Completed' : state} />`, n(s.active), n(s.failed), age(j.metadata.creationTimestamp, now), html`<${Delete} live=${live} kind="Job" o=${j} onError=${onError} />`];
  });
  const cronjobs = sorted(live.list('CronJob')).map((c) => [
    nameOf(c),
    html`<code>${c.spec?.schedule}</code>`,
    c.spec?.suspend ? 'True' : 'False',
    (c.status?.active ?? []).length,
    c.status?.lastScheduleTime ? age(c.status.lastScheduleTime, now) : '–',
    age(c.metadata.creationTimestamp, now),
    html`<${Delete} live=${live} kind="CronJob" o=${c} onError=${onError} />`,
  ]);
  return html`<div>
    <${Table} id="deployments" title="Deployments" headers=${['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'ROLLOUT', 'AGE', '']} rows=${deployments} loaded=${live.loaded.has('Deployment')} />
    <${Table} id="daemonsets" title="DaemonSets" headers=${['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', '']} rows=${daemonsets} loaded=${live.loaded.has('DaemonSet')} />
    <${Table} id="jobs" title="Jobs" headers=${['NAME', 'COMPLETIONS', 'STATUS', 'ACTIVE', 'FAILED', 'AGE', '']} rows=${jobs} loaded=${live.loaded.has('Job')} />
    <${Table} id="cronjobs" title="CronJobs" headers=${['NAME', 'SCHEDULE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE', '']} rows=${cronjobs} loaded=${live.loaded.has('CronJob')} />
  </div>`;
}
