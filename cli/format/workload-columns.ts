/** `skiff get` columns of DaemonSets, StatefulSets, Jobs, CronJobs and HorizontalPodAutoscalers, as kubectl prints them. */
import { formatSelector, type HorizontalPodAutoscaler, type Job, type KObject, type StatefulSet } from '../../protocol/index.js';
import { age, humanDuration } from './age.js';
import type { Printers } from './types.js';

const num = (n: unknown) => String(typeof n === 'number' ? n : 0);
const created = (o: KObject, now: number) => age(o.metadata.creationTimestamp, now);
const cond = (o: Job, type: string) => (o.status?.conditions ?? []).some((c) => c.type === type && c.status === 'True');

/** Job STATUS: Complete, Failed, Running (kubectl ≥ 1.28). */
function jobStatus(o: Job): string {
  if (cond(o, 'Complete')) return 'Complete';
  if (cond(o, 'Failed')) return 'Failed';
  return 'Running';
}

/** Job DURATION: start to completion, or to now while it runs. */
function jobDuration(o: Job, now: number): string {
  const start = Date.parse(o.status?.startTime ?? '');
  if (!Number.isFinite(start)) return '';
  const end = Date.parse(o.status?.completionTime ?? '');
  return humanDuration((Number.isFinite(end) ? end : now) - start);
}

/** HPA TARGETS: `cpu: 45%/50%` per metric, `<unknown>` before the first measurement. */
function hpaTargets(o: HorizontalPodAutoscaler): string {
  const current = o.status?.currentMetrics ?? [];
  return (o.spec?.metrics ?? [])
    .map((m, i) => {
      const c = current[i];
      if (m.type === 'External') {
        const t = m.external.target;
        const now = c?.type === 'External' ? (c.external.current.value ?? c.external.current.averageValue) : undefined;
        return `${m.external.metric.name}: ${now ?? '<unknown>'}/${t.value ?? t.averageValue}${t.type === 'AverageValue' ? ' (avg)' : ''}`;
      }
      const t = m.resource.target;
      const now = c?.type === 'Resource' ? c.resource.current : undefined;
      if (t.type === 'Utilization') return `${m.resource.name}: ${now?.averageUtilization === undefined ? '<unknown>' : `${now.averageUtilization}%`}/${t.averageUtilization}%`;
      return `${m.resource.name}: ${now?.averageValue ?? '<unknown>'}/${t.averageValue}`;
    })
    .join(', ');
}

/** Printers of the kinds this file covers. */
export const workloadPrinters: Printers = {
  DaemonSet: {
    headers: ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE'],
    row: (o, now) => {
      const s = o.status;
      const sel = Object.entries(o.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
      return [o.metadata.name, num(s?.desiredNumberScheduled), num(s?.currentNumberScheduled), num(s?.numberReady), num(s?.updatedNumberScheduled), num(s?.numberAvailable), sel || '<none>', created(o, now)];
    },
    wideHeaders: ['CONTAINERS', 'SELECTOR'],
    wideRow: (o) => [(o.spec?.template?.spec?.containers ?? []).map((c) => c.name).join(','), formatSelector(o.spec?.selector)],
  },
  StatefulSet: {
    headers: ['NAME', 'READY', 'AGE'],
    row: (o, now) => [o.metadata.name, `${num(o.status?.readyReplicas)}/${num(o.spec?.replicas ?? 1)}`, created(o, now)],
    wideHeaders: ['CONTAINERS', 'IMAGES'],
    wideRow: (o) => {
      const cs: { name: string; image?: string }[] = o.spec?.template?.spec?.containers ?? [];
      return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').filter(Boolean).join(',') || '<none>'];
    },
  },
  Job: {
    headers: ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE'],
    row: (o, now) => [o.metadata.name, jobStatus(o), `${num(o.status?.succeeded)}/${o.spec?.completions ?? 1}`, jobDuration(o, now), created(o, now)],
  },
  CronJob: {
    headers: ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE'],
    row: (o, now) => [
      o.metadata.name,
      o.spec?.schedule ?? '',
      o.spec?.timeZone ?? '<none>',
      String(o.spec?.suspend === true ? 'True' : 'False'),
      String(o.status?.active?.length ?? 0),
      o.status?.lastScheduleTime ? age(o.status.lastScheduleTime, now) : '<none>',
      created(o, now),
    ],
  },
  HorizontalPodAutoscaler: {
    headers: ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE'],
    row: (o, now) => [
      o.metadata.name,
      `${o.spec?.scaleTargetRef?.kind}/${o.spec?.scaleTargetRef?.name}`,
      hpaTargets(o),
      num(o.spec?.minReplicas ?? 1),
      num(o.spec?.maxReplicas),
      num(o.status?.currentReplicas),
      created(o, now),
    ],
  },
};
