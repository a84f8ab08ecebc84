/**
 * The cluster as Prometheus sees it, computed at scrape time from the master's cache and the agents'
 * latest samples: the kubelet's resource metrics (`node_cpu_usage_seconds_total`,
 * `container_memory_working_set_bytes`, ... with `node`, `namespace`, `pod`, `container` labels),
 * kube-state-metrics' allocatable and restart counts, objects by state, MQTT clients by role, and
 * which engine each agent's balancer runs.
 *
 * Cardinality is bounded twice: series exist only for objects in the store (an agent cannot invent a
 * pod or a container name: a sample whose pod, uid or container is not the stored one is skipped), and
 * at most `maxSeries` nodes, pods and containers are exported per family — the rest are counted in
 * `skiff_metrics_series_dropped`.
 */
import { Counter, Gauge } from 'prom-client';
import { bytes, cpuMilli, isReady } from '../../protocol/index.js';
import type { Informers } from '../informer.js';
import type { MetricsStore } from '../metrics.js';
import type { Telemetry } from './registry.js';

/** The pod phases Kubernetes knows, the only values of the `phase` label. */
const knownPhases: ReadonlySet<string> = new Set(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']);

/** Series per family at most: a Pi-sized Prometheus stays comfortable. */
export const maxSeries = { nodes: 1000, pods: 5000, containers: 10_000 } as const;

/** What the resource metrics read. */
export interface ResourceSources {
  informers: Informers;
  metrics: MetricsStore;
  /** MQTT clients by role now. */
  clientsByRole(): Map<string, number>;
  /** Messages waiting in the broker's queue now, and the most that ever waited (broker/emitter.ts). */
  brokerQueue?(): { waiting: number; peak: number };
  /** The scheduling engine: wasm or reference. */
  engine: string;
}

/** Registers the scrape-time families on `t`. */
export function registerResourceMetrics(t: Telemetry, src: ResourceSources): void {
  const r = [t.registry];
  new Gauge({
    name: 'skiff_nodes',
    help: 'Nodes by readiness.',
    labelNames: ['ready'],
    registers: r,
    collect() {
      // Registered first: prom-client calls collect in registration order, so this fills the families below before they are read.
      fill();
      const nodes = src.informers.list('Node');
      const ready = nodes.filter(isReady).length;
      this.set({ ready: 'true' }, ready);
      this.set({ ready: 'false' }, nodes.length - ready);
    },
  });
  const dropped = new Gauge({ name: 'skiff_metrics_series_dropped', help: 'Series left out of the last scrape because a family reached its bound (nodes 1000, pods 5000, containers 10000).', labelNames: ['family'], registers: r });
  const nodeCpu = new Counter({ name: 'node_cpu_usage_seconds_total', help: 'Cumulative cpu time the node spent busy (all cores), as the kubelet reports it.', labelNames: ['node'], registers: r });
  const nodeMem = new Gauge({ name: 'node_memory_working_set_bytes', help: 'Memory in use on the node (MemTotal - MemAvailable).', labelNames: ['node'], registers: r });
  const podCpu = new Counter({ name: 'pod_cpu_usage_seconds_total', help: 'Cumulative cpu time of the pod\'s running processes.', labelNames: ['node', 'namespace', 'pod'], registers: r });
  const podMem = new Gauge({ name: 'pod_memory_working_set_bytes', help: 'Resident memory of the pod\'s processes.', labelNames: ['node', 'namespace', 'pod'], registers: r });
  const ctrCpu = new Counter({ name: 'container_cpu_usage_seconds_total', help: 'Cumulative cpu time of the container\'s running process tree (resets when the container restarts).', labelNames: ['node', 'namespace', 'pod', 'container'], registers: r });
  const ctrMem = new Gauge({ name: 'container_memory_working_set_bytes', help: 'Resident memory of the container\'s process tree.', labelNames: ['node', 'namespace', 'pod', 'container'], registers: r });
  const allocatable = new Gauge({ name: 'kube_node_status_allocatable', help: 'Allocatable resources of the node, as kube-state-metrics reports them.', labelNames: ['node', 'resource', 'unit'], registers: r });
  const restarts = new Gauge({ name: 'kube_pod_container_status_restarts_total', help: 'Restarts of each container, from the pod status.', labelNames: ['namespace', 'pod', 'container'], registers: r });
  const balancer = new Gauge({ name: 'skiff_agent_balancer_engine_info', help: 'The load-balancer implementation each agent runs (1 for the one in use): wasm or reference.', labelNames: ['node', 'engine'], registers: r });

  // One collect fills every resource family: they share the walk over nodes and pods.
  const fill = () => {
    for (const m of [dropped, nodeCpu, nodeMem, podCpu, podMem, ctrCpu, ctrMem, allocatable, restarts, balancer]) m.reset();
    const counts = { nodes: 0, pods: 0, containers: 0 };
    const over = { nodes: 0, pods: 0, containers: 0 };
    const take = (family: keyof typeof counts) => (counts[family] < maxSeries[family] ? (counts[family]++, true) : (over[family]++, false));
    for (const n of src.informers.list('Node')) {
      if (!take('nodes')) continue;
      const node = n.metadata.name;
      const cpu = cpuMilli(n.status?.allocatable?.cpu);
      const mem = bytes(n.status?.allocatable?.memory);
      if (cpu !== undefined) allocatable.set({ node, resource: 'cpu', unit: 'core' }, cpu / 1000);
      if (mem !== undefined) allocatable.set({ node, resource: 'memory', unit: 'byte' }, mem);
      const s = src.metrics.node(node);
      if (!s) continue;
      nodeMem.set({ node }, s.memoryBytes);
      if (s.cpuSeconds !== undefined) nodeCpu.inc({ node }, s.cpuSeconds);
      if (s.balancer) balancer.set({ node, engine: s.balancer }, 1);
    }
    for (const p of src.informers.list('Pod')) {
      if (!take('pods')) continue;
      const namespace = p.metadata.namespace ?? 'default';
      const pod = p.metadata.name;
      for (const c of p.status?.containerStatuses ?? []) if (p.spec.containers.some((x) => x.name === c.name)) restarts.set({ namespace, pod, container: c.name }, c.restartCount ?? 0);
      // The store keeps a pod's sample only from the node the pod is bound to (and of its uid).
      const s = src.metrics.pod(namespace, pod, p.metadata.uid);
      if (!s || !p.spec.nodeName) continue;
      const labels = { node: p.spec.nodeName, namespace, pod };
      podMem.set(labels, s.memoryBytes);
      if (s.cpuSeconds !== undefined) podCpu.inc(labels, s.cpuSeconds);
      for (const c of s.containers ?? []) {
        if (!p.spec.containers.some((x) => x.name === c.name) || !take('containers')) continue;
        ctrCpu.inc({ ...labels, container: c.name }, c.cpuSeconds);
        ctrMem.set({ ...labels, container: c.name }, c.memoryBytes);
      }
    }
    for (const [family, n] of Object.entries(over)) dropped.set({ family }, n);
  };
  new Gauge({
    name: 'skiff_pods',
    help: 'Pods by phase.',
    labelNames: ['phase'],
    registers: r,
    collect() {
      this.reset();
      for (const ph of knownPhases) this.set({ phase: ph }, 0);
      // A phase Skiff does not know counts as Unknown: a label value is never an agent's string (docs/security.md).
      for (const p of src.informers.list('Pod')) this.inc({ phase: knownPhases.has(p.status?.phase ?? 'Pending') ? (p.status?.phase ?? 'Pending') : 'Unknown' });
    },
  });
  new Gauge({
    name: 'skiff_broker_clients',
    help: 'Connected MQTT clients (TCP and WebSocket) by role: admin, user, node, joiner.',
    labelNames: ['role'],
    registers: r,
    collect() {
      this.reset();
      for (const role of ['admin', 'user', 'node', 'joiner']) this.set({ role }, 0);
      for (const [role, n] of src.clientsByRole()) this.set({ role }, n);
    },
  });
  new Gauge({
    name: 'skiff_broker_queue_messages',
    help: 'Messages waiting in the broker for a delivery slot: now, and the most since start (peak).',
    labelNames: ['at'],
    registers: r,
    collect() {
      const q = src.brokerQueue?.();
      if (!q) return;
      this.set({ at: 'now' }, q.waiting);
      this.set({ at: 'peak' }, q.peak);
    },
  });
  t.schedulerEngine.set({ engine: src.engine }, 1);
}
