/**
 * `/metrics` scraped from a master with a real agent and parsed by a real Prometheus text parser
 * (parse-prometheus-text-format): every family the issue names is there with HELP and TYPE and the
 * labels Prometheus users expect; nothing of the objects' data leaks; an agent cannot make series for
 * pods or containers that do not exist.
 */
import parse, { type ParsedFamily } from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../protocol/index.js';
import { eventually, isRunningReady, startCluster, testEngine, type TestCluster } from '../helpers/cluster.js';
import { httpsGet } from '../helpers/https.js';
import { rawConnect } from '../security/helpers.js';

const manifest = `
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2-in-a-secret}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: meter}
spec:
  replicas: 2
  selector: {matchLabels: {app: meter}}
  template:
    metadata: {labels: {app: meter}}
    spec:
      containers:
      - name: counter
        command: [sh, -c, "while :; do :; done"]
        env: [{name: NOTE, value: an-env-value-not-for-prometheus}]
`;

/** The families the master must expose, with their type. */
const required: [string, ParsedFamily['type']][] = [
  ['skiff_api_requests_total', 'COUNTER'],
  ['skiff_api_request_duration_seconds', 'HISTOGRAM'],
  ['skiff_scheduler_schedule_attempts_total', 'COUNTER'],
  ['skiff_scheduler_batch_duration_seconds', 'HISTOGRAM'],
  ['skiff_scheduler_pod_scheduling_duration_seconds', 'HISTOGRAM'],
  ['skiff_scheduler_pending_pods', 'GAUGE'],
  ['skiff_scheduler_engine_info', 'GAUGE'],
  ['workqueue_depth', 'GAUGE'],
  ['workqueue_adds_total', 'COUNTER'],
  ['workqueue_retries_total', 'COUNTER'],
  ['workqueue_queue_duration_seconds', 'HISTOGRAM'],
  ['workqueue_work_duration_seconds', 'HISTOGRAM'],
  ['skiff_store_writes_total', 'COUNTER'],
  ['skiff_store_write_duration_seconds', 'HISTOGRAM'],
  ['skiff_store_revision', 'GAUGE'],
  ['skiff_broker_clients', 'GAUGE'],
  ['skiff_broker_connects_refused_total', 'COUNTER'],
  ['skiff_broker_queue_messages', 'GAUGE'],
  ['skiff_broker_messages_received_total', 'COUNTER'],
  ['skiff_broker_received_bytes_total', 'COUNTER'],
  ['skiff_broker_messages_sent_total', 'COUNTER'],
  ['skiff_broker_sent_bytes_total', 'COUNTER'],
  ['node_cpu_usage_seconds_total', 'COUNTER'],
  ['node_memory_working_set_bytes', 'GAUGE'],
  ['pod_cpu_usage_seconds_total', 'COUNTER'],
  ['pod_memory_working_set_bytes', 'GAUGE'],
  ['container_cpu_usage_seconds_total', 'COUNTER'],
  ['container_memory_working_set_bytes', 'GAUGE'],
  ['kube_node_status_allocatable', 'GAUGE'],
  ['kube_pod_container_status_restarts_total', 'GAUGE'],
  ['skiff_agent_balancer_engine_info', 'GAUGE'],
  ['skiff_events_total', 'COUNTER'],
  ['skiff_nodes', 'GAUGE'],
  ['skiff_pods', 'GAUGE'],
  ['process_cpu_seconds_total', 'COUNTER'],
];

describe('/metrics', () => {
  let c: TestCluster;
  let text = '';
  let families: Map<string, ParsedFamily>;
  const series = (name: string) => families.get(name)?.metrics ?? [];
  const scrape = async () => {
    text = (await httpsGet(`https://127.0.0.1:${c.master.httpPort}/metrics`, c.master.caPem)).body;
    families = new Map(parse(text).map((f) => [f.name, f]));
  };

  beforeAll(async () => {
    c = await startCluster(['meter-a'], { httpPort: 0, httpHost: '127.0.0.1' }, { metricsIntervalMs: 300 });
    await c.apply(manifest);
    await eventually(async () => (await c.pods('app=meter')).filter(isRunningReady).length === 2, 'two meter pods running', 20_000);
    // Two samples after the pods run: cumulative cpu and the container series are there.
    await eventually(async () => {
      await scrape();
      return series('container_cpu_usage_seconds_total').filter((m) => m.labels?.pod?.startsWith('meter-') && Number(m.value) > 0).length === 2;
    }, 'container cpu series of both meter pods', 20_000, 200);
  }, 60_000);
  afterAll(async () => c?.stop());

  it('has every family the dashboard and Grafana read, each with HELP and TYPE', () => {
    for (const [name, type] of required) {
      const f = families.get(name);
      expect(f, `${name} is missing`).toBeDefined();
      expect(f!.type, name).toBe(type);
      expect(f!.help.length, `${name} has HELP`).toBeGreaterThan(10);
      expect(text).toContain(`# TYPE ${name} ${type.toLowerCase()}`);
    }
  });

  it('resource series carry node, namespace, pod and container labels, matching the objects', async () => {
    const pods = (await c.pods('app=meter')) as Pod[];
    for (const p of pods) {
      const ctr = series('container_cpu_usage_seconds_total').find((m) => m.labels?.pod === p.metadata.name);
      expect(ctr?.labels).toEqual({ node: 'meter-a', namespace: 'default', pod: p.metadata.name, container: 'counter' });
      expect(Number(series('container_memory_working_set_bytes').find((m) => m.labels?.pod === p.metadata.name)?.value)).toBeGreaterThan(0);
      expect(series('pod_memory_working_set_bytes').find((m) => m.labels?.pod === p.metadata.name)?.labels).toEqual({ node: 'meter-a', namespace: 'default', pod: p.metadata.name });
    }
    expect(Number(series('node_cpu_usage_seconds_total').find((m) => m.labels?.node === 'meter-a')?.value)).toBeGreaterThan(0);
    expect(series('kube_node_status_allocatable').map((m) => `${m.labels?.resource}/${m.labels?.unit}`).sort()).toEqual(['cpu/core', 'memory/byte']);
  });

  it('says which engine the scheduler and each agent\'s balancer run', () => {
    expect(series('skiff_scheduler_engine_info')).toEqual([{ labels: { engine: testEngine }, value: '1' }]);
    expect(series('skiff_agent_balancer_engine_info')).toEqual([{ labels: { node: 'meter-a', engine: 'wasm' }, value: '1' }]);
  });

  it('counts API requests by verb and outcome, scheduling, controller queues, store writes and broker traffic', async () => {
    await c.api.request('get', { kind: 'Deployment', name: 'nope' }).catch(() => undefined);
    await scrape();
    const value = (name: string, labels: Record<string, string>) =>
      Number(series(name).find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value ?? NaN);
    expect(value('skiff_api_requests_total', { verb: 'apply', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(value('skiff_api_requests_total', { verb: 'get', outcome: 'SKIFF_ERR_NOT_FOUND' })).toBe(1);
    expect(value('skiff_scheduler_schedule_attempts_total', { result: 'scheduled' })).toBeGreaterThanOrEqual(2);
    // The parser keeps a histogram's buckets but not its labels: its _count lines are read from the text.
    const count = (name: string, labels: string) => Number(new RegExp(`^${name}_count\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(count('workqueue_work_duration_seconds', 'name="deployment"')).toBeGreaterThan(0);
    expect(series('workqueue_depth').map((m) => m.labels?.name)).toEqual(expect.arrayContaining(['deployment', 'replicaset', 'endpoints', 'job']));
    expect(count('skiff_store_write_duration_seconds', 'op="update"')).toBeGreaterThan(0);
    expect(count('skiff_api_request_duration_seconds', 'verb="apply"')).toBeGreaterThan(0);
    expect(value('skiff_store_writes_total', { op: 'create', outcome: 'ok' })).toBeGreaterThanOrEqual(4);
    expect(value('skiff_broker_clients', { role: 'node' })).toBe(1);
    expect(value('skiff_broker_messages_received_total', { topic_class: 'nodeMetrics' })).toBeGreaterThan(0);
    expect(value('skiff_broker_messages_sent_total', { topic_class: 'apiRes' })).toBeGreaterThan(0);
    expect(value('skiff_events_total', { type: 'Normal', reason: 'Scheduled' })).toBeGreaterThanOrEqual(2);
  });

  it('counts refused CONNECTs by reason, never by client', async () => {
    const port = c.master.mqttPort;
    const refused = (reason: string) => Number(series('skiff_broker_connects_refused_total').find((m) => m.labels?.reason === reason)?.value ?? 0);
    await scrape();
    const before = ['bad_credentials', 'not_authorized', 'client_id_rejected'].map(refused);
    expect(await rawConnect(port, { clientId: 'guesser-7', username: 'admin', password: 'not-the-token' })).toBe(4);
    expect(await rawConnect(port, { clientId: 'guesser-7', username: 'admin', password: 'nor-this' })).toBe(4);
    expect(await rawConnect(port, { clientId: 'skiff-agent-meter-a', username: 'admin', password: c.master.adminToken })).toBe(5);
    expect(await rawConnect(port, { clientId: 'guesser/#', username: 'admin', password: c.master.adminToken })).toBe(2);
    await scrape();
    expect(['bad_credentials', 'not_authorized', 'client_id_rejected'].map(refused)).toEqual([before[0]! + 2, before[1]! + 1, before[2]! + 1]);
    expect(text).not.toContain('guesser');
  });

  it('exposes names and labels only: no Secret, env or event message', () => {
    expect(text).not.toContain('hunter2-in-a-secret');
    expect(text).not.toContain('an-env-value-not-for-prometheus');
    expect(text).not.toContain('Successfully assigned');
  });

  it('makes no series for a pod or container an agent reports but the store does not have', async () => {
    const pod = (await c.pods('app=meter'))[0];
    c.master.metrics.onNodeMetrics('meter-a', {
      ts: Date.now(),
      node: { cpuMilli: 1, memoryBytes: 1 },
      pods: [
        { namespace: 'default', name: 'invented-pod', uid: 'x', cpuMilli: 1, memoryBytes: 1, cpuSeconds: 1, containers: [{ name: 'c', cpuSeconds: 1, memoryBytes: 1 }] },
        { namespace: 'default', name: pod.metadata.name, uid: pod.metadata.uid!, cpuMilli: 1, memoryBytes: 1, cpuSeconds: 1, containers: [{ name: 'not-in-the-spec', cpuSeconds: 1, memoryBytes: 1 }] },
      ],
    });
    await scrape();
    expect(text).not.toContain('invented-pod');
    expect(text).not.toContain('not-in-the-spec');
  });
});
