/**
 * HorizontalPodAutoscaler over a real in-process cluster: a real CPU burner measured by the agent scales
 * a Deployment up to maxReplicas; an external metric published on MQTT (a queue depth) drives another
 * Deployment. The formula, tolerance, clamps and stabilization windows are checked on the fake clock
 * in test/controllers/hpa.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Deployment, HorizontalPodAutoscaler } from '../../protocol/index.js';
import { main } from '../../cli/main.js';
import { eventually, startCluster, type TestCluster } from '../helpers/cluster.js';

const deployment = (name: string, command: string, cpu = '') => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        command: ${command}
${cpu ? `        resources: {requests: {cpu: ${cpu}}}` : ''}
`;

const hpa = (name: string, min: number, max: number, downWindow: number, metrics: string) => `
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ${name}}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ${name}}
  minReplicas: ${min}
  maxReplicas: ${max}
  behavior: {scaleDown: {stabilizationWindowSeconds: ${downWindow}}}
  metrics:
${metrics}
`;

/** Records every replica count the Deployment's spec takes, with when. */
function watchReplicas(c: TestCluster, name: string) {
  const changes: { at: number; replicas: number }[] = [];
  c.master.informers.on('Deployment', (d) => {
    if (d?.metadata.name !== name) return;
    const r = (d as Deployment).spec.replicas ?? 1;
    if (changes[changes.length - 1]?.replicas !== r) changes.push({ at: Date.now(), replicas: r });
  });
  return changes;
}

/** Runs the CLI in-process against the test master. */
async function cli(c: TestCluster, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t), readStdin: async () => '', env: {} };
  const code = await main(['--server', c.master.url, '--token', c.master.adminToken, ...args], io);
  return { code, stdout, stderr };
}

const replicas = async (c: TestCluster, name: string) => (await c.api.request<Deployment>('get', { kind: 'Deployment', name, namespace: 'default' })).spec.replicas;

describe('HorizontalPodAutoscaler', () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await startCluster(['hpa-a'], { hpaSyncPeriodMs: 250 }, { metricsIntervalMs: 250 });
  }, 60_000);
  afterAll(async () => c?.stop());

  it('scales up under CPU load the agent measures', async () => {
    const stopFile = join(c.dir, 'stop-burning');
    // Burns a core until the stop file appears, then idles.
    const burner = `[node, -e, "const fs = require('fs'); for (;;) { if (fs.existsSync(process.argv[1])) break; } setInterval(() => {}, 1000)", "${stopFile}"]`;
    const changes = watchReplicas(c, 'burn');
    await c.apply(deployment('burn', burner, '100m'));
    await c.apply(hpa('burn', 1, 2, 300, '  - {type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}'));
    try {
      await eventually(async () => (await replicas(c, 'burn')) === 2, 'burn scaled to maxReplicas 2', 20_000);
      const status = await eventually(async () => {
        const h = await c.api.request<HorizontalPodAutoscaler>('get', { kind: 'HorizontalPodAutoscaler', name: 'burn', namespace: 'default' });
        return h.status?.lastScaleTime && h;
      }, 'hpa status written');
      expect((status.status!.currentMetrics![0] as any).resource.current.averageUtilization).toBeGreaterThan(100);
      expect(status.status!.conditions?.find((x) => x.type === 'ScalingActive')?.status).toBe('True');
      expect(changes.map((x) => x.replicas)).toEqual([1, 2]);
    } finally {
      await writeFile(stopFile, '');
    }
  }, 60_000);

  it('scales on an external metric published over MQTT (a queue depth)', async () => {
    const changes = watchReplicas(c, 'worker');
    await c.apply(deployment('worker', `[sleep, '600']`));
    await c.apply(hpa('worker', 1, 5, 1, '  - {type: External, external: {metric: {name: plant/queue-depth}, target: {type: AverageValue, averageValue: "10"}}}'));
    const client = await mqtt.connectAsync(c.master.url, { username: 'admin', password: c.master.adminToken, protocolVersion: 4, reconnectPeriod: 0 });
    try {
      await client.publishAsync('skiff/v1/metrics/plant/queue-depth', '35', { qos: 1 });
      await eventually(async () => (await replicas(c, 'worker')) === 4, 'worker scaled to ceil(35 / 10) = 4');
      await client.publishAsync('skiff/v1/metrics/plant/queue-depth', JSON.stringify({ value: 500 }), { qos: 1 });
      await eventually(async () => (await replicas(c, 'worker')) === 5, 'worker capped at maxReplicas 5');
      await client.publishAsync('skiff/v1/metrics/plant/queue-depth', 'not a number', { qos: 1 });
      await client.publishAsync('skiff/v1/metrics/plant/queue-depth', '3', { qos: 1 });
      await eventually(async () => (await replicas(c, 'worker')) === 1, 'worker back to minReplicas 1', 10_000);
    } finally {
      await client.endAsync();
    }
    expect(changes.map((x) => x.replicas)).toEqual([1, 4, 5, 1]);
  }, 40_000);

  it('skiff autoscale creates an HPA; skiff get prints hpa, jobs, cronjobs and daemonsets columns', async () => {
    await c.apply(deployment('api', `[sleep, '600']`, '50m'));
    const made = await cli(c, 'autoscale', 'deployment/api', '--min', '2', '--max', '4', '--cpu-percent', '60');
    expect(made).toMatchObject({ code: 0, stdout: 'horizontalpodautoscaler.autoscaling/api autoscaled\n' });
    const hpaObj = await c.api.request<HorizontalPodAutoscaler>('get', { kind: 'HorizontalPodAutoscaler', name: 'api', namespace: 'default' });
    expect(hpaObj.spec).toMatchObject({ minReplicas: 2, maxReplicas: 4, scaleTargetRef: { kind: 'Deployment', name: 'api' } });
    await eventually(async () => (await replicas(c, 'api')) === 2, 'api raised to minReplicas 2');
    const table = await cli(c, 'get', 'hpa', 'api');
    expect(table.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
    expect(table.stdout).toMatch(/api\s+Deployment\/api\s+cpu: (<unknown>|\d+%)\/60%\s+2\s+4\s+\d/);
    expect((await cli(c, 'autoscale', 'deployment/api')).stderr).toContain('--max is required');
    expect((await cli(c, 'autoscale', 'deployment/api', '--min', '5', '--max', '2')).stderr).toContain('spec.maxReplicas: must be ≥ spec.minReplicas (5)');
    for (const [kind, header] of [
      ['jobs', ['NAME', 'STATUS', 'COMPLETIONS', 'DURATION', 'AGE']],
      ['cronjobs', ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']],
      ['ds', ['NAME', 'DESIRED', 'CURRENT', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'NODE SELECTOR', 'AGE']],
    ] as const) {
      await c.apply(kind === 'jobs' ? JOB : kind === 'cronjobs' ? CRON : DS);
      const out = await cli(c, 'get', kind);
      expect(out.stdout.split('\n')[0].split(/\s{2,}/)).toEqual(header);
    }
  }, 30_000);
});

const tmpl = (policy: string) => `{metadata: {labels: {app: cols}}, spec: {restartPolicy: ${policy}, containers: [{name: m, command: ['true']}]}}`;
const JOB = `{apiVersion: batch/v1, kind: Job, metadata: {name: cols}, spec: {template: ${tmpl('Never')}}}`;
const CRON = `{apiVersion: batch/v1, kind: CronJob, metadata: {name: cols}, spec: {schedule: '0 3 * * *', timeZone: Europe/Berlin, jobTemplate: {spec: {template: ${tmpl('Never')}}}}}`;
const DS = `{apiVersion: apps/v1, kind: DaemonSet, metadata: {name: cols}, spec: {selector: {matchLabels: {app: cols}}, template: ${tmpl('Always')}}}`;
