import { describe, expect, it } from 'vitest';
import { errorOf } from '../helpers/validation.js';
import { asKind, findKind, normalizeObject } from '../../protocol/index.js';

/** Tiny builders. */
const podTemplate = (spec: Record<string, unknown> = {}, labels: Record<string, string> = { app: 'x' }) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', command: ['true'] }], ...spec },
});
const daemonSet = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agentd' },
  spec: { selector: { matchLabels: { app: 'x' } }, template: podTemplate(), ...spec },
});
const job = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once' },
  spec: { template: podTemplate({ restartPolicy: 'Never' }), ...spec },
});
const cronJob = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick' },
  spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: podTemplate({ restartPolicy: 'OnFailure' }) } }, ...spec },
});
const hpa = (spec: Record<string, unknown> = {}) => ({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 4, ...spec },
});
const cpu = (target: Record<string, unknown>) => ({ type: 'Resource', resource: { name: 'cpu', target } });
const external = (name: string, target: Record<string, unknown>) => ({ type: 'External', external: { metric: { name }, target } });


describe('DaemonSet, Job, CronJob and HPA validation names the field and rule', () => {
  const cases: [string, unknown, string, string][] = [
    ['daemonset template restartPolicy', daemonSet({ template: podTemplate({ restartPolicy: 'Never' }) }), 'spec.template.spec.restartPolicy', 'must be Always'],
    ['daemonset selector mismatch', daemonSet({ selector: { matchLabels: { app: 'y' } } }), 'spec.template.metadata.labels', 'must match spec.selector'],
    ['daemonset bad matchExpressions', daemonSet({ selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }), 'spec.selector.matchExpressions[0].values', 'must not be empty for In'],
    ['daemonset update type', daemonSet({ updateStrategy: { type: 'Sometimes' } }), 'spec.updateStrategy.type', 'must be one of RollingUpdate, OnDelete'],
    ['daemonset surge', daemonSet({ updateStrategy: { rollingUpdate: { maxSurge: 1 } } }), 'spec.updateStrategy.rollingUpdate.maxSurge', 'must be 0'],
    ['job without restartPolicy', job({ template: podTemplate() }), 'spec.template.spec.restartPolicy', 'must be Never or OnFailure'],
    ['job with Always', job({ template: podTemplate({ restartPolicy: 'Always' }) }), 'spec.template.spec.restartPolicy', 'got "Always"'],
    ['job negative backoffLimit', job({ backoffLimit: -1 }), 'spec.backoffLimit', 'must be an integer ≥ 0, got -1'],
    ['job zero deadline', job({ activeDeadlineSeconds: 0 }), 'spec.activeDeadlineSeconds', 'must be an integer ≥ 1'],
    ['job selector without manualSelector', job({ selector: { matchLabels: { app: 'x' } } }), 'spec.selector', 'manualSelector'],
    ['cron minute out of range', cronJob({ schedule: '61 * * * *' }), 'spec.schedule', 'minute field'],
    ['cron too few fields', cronJob({ schedule: '* * *' }), 'spec.schedule', 'expected 5 or 6 fields'],
    ['cron TZ in schedule', cronJob({ schedule: 'TZ=UTC * * * * *' }), 'spec.schedule', 'use spec.timeZone'],
    ['cron bad time zone', cronJob({ timeZone: 'Mars/Olympus' }), 'spec.timeZone', 'IANA time zone'],
    ['cron bad policy', cronJob({ concurrencyPolicy: 'Never' }), 'spec.concurrencyPolicy', 'must be one of Allow, Forbid, Replace'],
    ['cron job template restartPolicy', cronJob({ jobTemplate: { spec: { template: podTemplate({ restartPolicy: 'Always' }) } } }), 'spec.jobTemplate.spec.template.spec.restartPolicy', 'must be Never or OnFailure'],
    ['cron job template backoffLimit', cronJob({ jobTemplate: { spec: { backoffLimit: 'x', template: podTemplate({ restartPolicy: 'Never' }) } } }), 'spec.jobTemplate.spec.backoffLimit', 'must be an integer'],
    ['hpa min above max', hpa({ minReplicas: 5, maxReplicas: 2 }), 'spec.maxReplicas', 'must be ≥ spec.minReplicas (5)'],
    ['hpa zero max', hpa({ maxReplicas: 0 }), 'spec.maxReplicas', 'must be an integer ≥ 1'],
    ['hpa target kind', hpa({ scaleTargetRef: { kind: 'Pod', name: 'p' } }), 'spec.scaleTargetRef.kind', 'must be one of Deployment, ReplicaSet'],
    ['hpa utilization missing', hpa({ metrics: [cpu({ type: 'Utilization' })] }), 'spec.metrics[0].resource.target.averageUtilization', 'is required'],
    ['hpa value on utilization', hpa({ metrics: [cpu({ type: 'Utilization', averageUtilization: 50, value: '1' })] }), 'spec.metrics[0].resource.target.value', 'must not be set when type is Utilization'],
    ['hpa external utilization', hpa({ metrics: [external('queue', { type: 'Utilization', averageUtilization: 5 })] }), 'spec.metrics[0].external.target.type', 'must be one of Value, AverageValue'],
    ['hpa external name with wildcard', hpa({ metrics: [external('queue/#', { type: 'Value', value: '10' })] }), 'spec.metrics[0].external.metric.name', 'MQTT topic levels'],
    ['hpa external zero value', hpa({ metrics: [external('queue', { type: 'Value', value: 0 })] }), 'spec.metrics[0].external.target.value', 'must be greater than 0'],
    ['hpa unknown metric type', hpa({ metrics: [{ type: 'Pods', pods: {} }] }), 'spec.metrics[0].type', 'must be one of Resource, External'],
    ['hpa policies', hpa({ behavior: { scaleDown: { policies: [] } } }), 'spec.behavior.scaleDown.policies', 'not supported'],
  ];
  it.each(cases)('%s', (_what, raw, field, rule) => {
    const err = errorOf(raw);
    expect(err.code).toBe('SKIFF_ERR_VALIDATION');
    expect(err.details?.map((f) => f.field)).toContain(field);
    expect(err.message).toContain(rule);
  });
});

describe('defaults follow Kubernetes', () => {
  it('Job: completions and parallelism 1, backoffLimit 6', () => {
    expect(asKind(normalizeObject(job()), 'Job').spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6 });
    // parallelism without completions is a work queue: completions stays unset.
    expect(asKind(normalizeObject(job({ parallelism: 3 })), 'Job').spec.completions).toBeUndefined();
  });
  it('DaemonSet: RollingUpdate with maxUnavailable 1', () => {
    expect(asKind(normalizeObject(daemonSet()), 'DaemonSet').spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  });
  it('CronJob: Allow, history 3/1, a 6-field seconds form and @hourly are accepted', () => {
    expect(asKind(normalizeObject(cronJob()), 'CronJob').spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    expect(() => normalizeObject(cronJob({ schedule: '*/2 * * * * *', timeZone: 'Europe/Berlin' }))).not.toThrow();
    expect(() => normalizeObject(cronJob({ schedule: '@hourly' }))).not.toThrow();
  });
  it('HPA: cpu 80 %, scale-down window 300 s, annotations kept', () => {
    const o = asKind(normalizeObject({ ...hpa(), metadata: { name: 'web', annotations: { owner: 'ops' } } }), 'HorizontalPodAutoscaler');
    expect(o.spec.metrics).toEqual([cpu({ type: 'Utilization', averageUtilization: 80 })]);
    expect(o.spec.behavior).toEqual({ scaleUp: { stabilizationWindowSeconds: 0 }, scaleDown: { stabilizationWindowSeconds: 300 } });
    expect(o.metadata.annotations).toEqual({ owner: 'ops' });
  });
  it('kinds resolve by every kubectl name', () => {
    for (const [n, k] of [['ds', 'DaemonSet'], ['jobs.batch', 'Job'], ['cj', 'CronJob'], ['hpa', 'HorizontalPodAutoscaler'], ['horizontalpodautoscalers.autoscaling', 'HorizontalPodAutoscaler']])
      expect(findKind(n)?.kind).toBe(k);
  });
});
