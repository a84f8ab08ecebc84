/**
 * HorizontalPodAutoscaler rules: the replica formula (desired = ceil(ratio × pods)) with its 10 %
 * tolerance, missing and unready pods, external metrics, stabilization windows (pure tables); then the
 * controller on the fake clock: scaling a Deployment, min/max clamping and its conditions, the
 * scale-down window, targets it cannot scale, metrics it cannot read.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { MetricSpec } from '../../protocol/index.js';
import { externalReplicas, resourceReplicas, stabilize, type PodUsage } from '../../master/controllers/hpa/replicas.js';
import { startHpaController } from '../../master/controllers/hpa/sync.js';
import { harness, type Harness } from './harness.js';
import { deploymentWith, hpaWith, podWith } from './builders.js';

const pods = (...usage: (number | undefined | [number, boolean])[]): PodUsage[] =>
  usage.map((u) => (Array.isArray(u) ? { request: 100, usage: u[0], ready: u[1] } : { request: 100, usage: u, ready: true }));

describe('HPA replica formula (pure)', () => {
  it.each<[string, number, PodUsage[], number]>([
    ['ratio 2 doubles', 2, pods(100, 100), 4],
    ['ratio 1.5 rounds up', 2, pods(75, 75), 3],
    ['within +10 %: unchanged', 4, pods(54, 54, 54, 54), 4],
    ['within -10 %: unchanged', 4, pods(46, 46, 46, 46), 4],
    ['just outside -10 %: scales down', 4, pods(44, 44, 44, 44), 4], // ceil(0.88 × 4) = 4
    ['well below: scales down', 4, pods(10, 10, 10, 10), 1],
    // (10 + 10 + 100) / 300 = 40 % → ratio 0.8 → ceil(2.4) = 3; counting only the sampled pods would give 1.
    ['a pod without a sample counts as 100 % on a scale down', 3, pods(10, 10, undefined), 3],
    // (150 + 150 + 0) / 300 = 100 % → ratio 2 → 6; counting the unready pod's usage would give 9.
    ['an unready pod counts as 0 % on a scale up', 3, pods(150, 150, [150, false]), 6],
    ['missing pods that flip the direction: unchanged', 2, pods(60, undefined), 2],
  ])('%s', (_what, current, usage, want) => {
    expect(resourceReplicas(current, usage, { utilization: 50 })?.replicas).toBe(want);
  });

  it('no sample at all: no proposal', () => expect(resourceReplicas(2, pods(undefined, undefined), { utilization: 50 })).toBeUndefined());

  it.each<[string, number, number, { value?: number; averageValue?: number }, number]>([
    ['AverageValue: value / target', 1, 35, { averageValue: 10 }, 4],
    ['AverageValue within tolerance', 4, 41, { averageValue: 10 }, 4],
    ['Value: ratio × current', 2, 300, { value: 100 }, 6],
    ['Value below target', 6, 50, { value: 100 }, 3],
  ])('external %s', (_what, current, value, target, want) => expect(externalReplicas(current, value, target).replicas).toBe(want));

  it.each<[string, number, [number, number][], number]>([
    ['up: the lowest recommendation within the up window', 2, [[0, 6], [30, 4], [55, 8]], 4],
    ['down: the highest recommendation within the down window', 8, [[0, 6], [30, 2], [55, 3]], 6],
    ['down: older recommendations fall out of the window', 8, [[-400, 7], [30, 2], [55, 3]], 3],
    ['inside the band: unchanged', 5, [[0, 8], [55, 2]], 5],
  ])('stabilization %s', (_what, current, recs, want) => {
    expect(stabilize(current, recs.map(([s, r]) => ({ at: s * 1000, replicas: r })), 60_000, 60_000, 300_000)).toBe(want);
  });
});

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(() => h.stop());

const cpu50: MetricSpec = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } };
const replicas = () => h.get('Deployment', 'default', 'web')!.spec.replicas;
const hpa = () => h.get('HorizontalPodAutoscaler', 'default', 'web')!;
const condition = (type: string) => hpa().status?.conditions?.find((c) => c.type === type);
/** Plays the agents' metrics: every web pod uses `cpuMilli`, sampled at `at` (now). */
const load = (cpuMilli: number, at = h.clock.now()) =>
  h.metrics.onNodeMetrics('n1', { ts: at, node: { cpuMilli, memoryBytes: 0 }, pods: h.pods({ app: 'web' }).map((p) => ({ namespace: 'default', name: p.metadata.name, uid: p.metadata.uid!, cpuMilli, memoryBytes: 0 })) }, at);

async function setup(o: { replicas?: number; min?: number; max?: number; downWindow?: number; upWindow?: number; metrics?: MetricSpec[]; pods?: number } = {}): Promise<void> {
  await h.run((ctx) => startHpaController(ctx, { metrics: h.metrics, syncPeriodMs: 15_000 }));
  await h.create(deploymentWith({ replicas: o.replicas ?? 2 }));
  for (let i = 0; i < (o.pods ?? o.replicas ?? 2); i++) await h.create(podWith({ name: `web-${i}`, node: 'n1', ready: true, requests: { cpu: '100m' } }));
  await h.create(hpaWith({ min: o.min ?? 1, max: o.max ?? 10, metrics: o.metrics ?? [cpu50], downWindow: o.downWindow, upWindow: o.upWindow }));
}

describe('HPA controller', () => {
  it('scales the target to ceil(utilization / target × pods) and records why', async () => {
    await setup();
    load(150);
    await h.advance(15_000);
    expect(replicas()).toBe(6);
    expect(hpa().status).toMatchObject({ currentReplicas: 6, desiredReplicas: 6, lastScaleTime: new Date(h.clock.now()).toISOString() });
    expect(hpa().status?.currentMetrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 150 } } }]);
    expect(condition('ScalingActive')).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    expect(h.events.of('HorizontalPodAutoscaler', 'default', 'web').map((e) => e.message)).toEqual(['New size: 6; reason: cpu resource utilization (percentage of request) above target']);
  });

  it.each([
    ['max', 150, 3, 'TooManyReplicas'],
    ['min', 1, 2, 'TooFewReplicas'],
  ])('clamps to %s and says so', async (_what, cpu, want, reason) => {
    await setup({ min: 2, max: 3, downWindow: 0 });
    load(cpu);
    await h.advance(15_000);
    expect(replicas()).toBe(want);
    expect(condition('ScalingLimited')).toMatchObject({ status: 'True', reason });
  });

  it('leaves the target alone within the 10 % tolerance', async () => {
    await setup();
    load(54);
    await h.advance(60_000);
    expect(replicas()).toBe(2);
    expect(condition('ScalingLimited')).toMatchObject({ status: 'False', reason: 'DesiredWithinRange' });
  });

  it('scales down only after the scale-down stabilization window (300 s by default)', async () => {
    await setup({ replicas: 4 });
    load(50);
    await h.advance(15_000);
    load(10); // recommendation 1 from now on; 4 was recommended 15 s ago
    await h.advance(270_000);
    expect(replicas()).toBe(4);
    for (let i = 0; i < 3; i++) {
      load(10); // fresh samples (they expire after a minute)
      await h.advance(15_000);
    }
    expect(replicas()).toBe(1);
  });

  it('a scale-up window holds a spike back until it lasts', async () => {
    await setup({ upWindow: 60 });
    load(50);
    await h.advance(15_000);
    load(150);
    await h.advance(45_000);
    expect(replicas()).toBe(2);
    load(150);
    await h.advance(30_000);
    expect(replicas()).toBe(6);
  });

  it('scales on an external metric', async () => {
    await setup({ metrics: [{ type: 'External', external: { metric: { name: 'plant/queue-depth' }, target: { type: 'AverageValue', averageValue: '10' } } }] });
    h.metrics.onExternal('plant/queue-depth', Buffer.from('35'), h.clock.now());
    await h.advance(15_000);
    expect(replicas()).toBe(4);
  });

  it.each<[string, () => Promise<unknown>, string, string, string]>([
    ['no target', () => h.delete('Deployment', 'default', 'web'), 'AbleToScale', 'False', 'FailedGetScale'],
    ['a target scaled to 0', () => h.update('Deployment', 'default', 'web', (d) => (d.spec.replicas = 0)), 'ScalingActive', 'False', 'ScalingDisabled'],
    ['no samples yet', async () => {}, 'ScalingActive', 'False', 'FailedGetMetrics'],
    ['samples older than a minute', async () => load(150, h.clock.now() - 61_000), 'ScalingActive', 'False', 'FailedGetMetrics'],
  ])('%s: does not scale and says why', async (_what, act, type, status, reason) => {
    await setup();
    await act();
    await h.advance(15_000);
    expect(condition(type)).toMatchObject({ status, reason });
    if (h.get('Deployment', 'default', 'web')) expect(replicas()).toBeLessThanOrEqual(2);
  });

  it('a pod without a cpu request makes a Utilization metric unusable', async () => {
    await setup();
    await h.create(podWith({ name: 'web-norequest', node: 'n1', ready: true }));
    load(150);
    await h.advance(15_000);
    expect(condition('ScalingActive')?.message).toContain('missing request for cpu');
    expect(replicas()).toBe(2);
  });
});
